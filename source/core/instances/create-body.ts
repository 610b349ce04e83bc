// The body of PUT /asks/{id}/ for a ComfyUI instance, mirroring Vast's production ComfyUI template
// (docs/vast-api.md §3.1-3.3, §7.3, §7.6, §8), with the env in the dict form the API takes.
// Pure: create.ts supplies the label, the per-instance web password and the tokens.
import {randomBytes} from 'node:crypto';
import {InputError} from '../errors.js';
import type {VastdeckSettings} from '../settings.js';
import type {Offer} from '../vast/types.js';

/** Every instance vastdeck creates carries this label prefix, so a lost one is found on the account. */
export const LABEL_PREFIX = 'vastdeck:';

/** ComfyUI listens on 18188 on localhost; the portal's Caddy exposes it on 8188 behind auth. */
export const COMFYUI_ARGS = '--disable-auto-launch --port 18188 --enable-cors-header';

/** `hostname:external:internal:path:Name` entries; ComfyUI only starts when an entry is named "ComfyUI". */
export const PORTAL_CONFIG = [
  'localhost:1111:11111:/:Instance Portal',
  'localhost:8188:18188:/:ComfyUI',
  'localhost:8288:18288:/docs:API Wrapper',
  'localhost:8080:18080:/:Jupyter',
  'localhost:8080:8080:/terminals/1:Jupyter Terminal',
].join('|');

/** SageAttention 1.x is baked into vastai/comfyui but only pays off from Ampere (sm_80) up. */
const SAGE_ATTENTION_MIN_COMPUTE_CAP = 800;
const MAX_ENV_ENTRY_CHARS = 256;
const MAX_ENV_TOTAL_CHARS = 32_768;
const MAX_ONSTART_CHARS = 4048;
const MAX_LABEL_CHARS = 256;
const PASSED_THROUGH_TOKENS = ['HF_TOKEN', 'CIVITAI_TOKEN'] as const;

export interface CreateBodyInput {
  offer: Offer;
  settings: VastdeckSettings;
  label: string;
  /** The instance's portal password (random per instance, see newWebPassword). */
  webPassword: string;
  /** HF_TOKEN and CIVITAI_TOKEN are passed through when set here. */
  env?: NodeJS.ProcessEnv;
  /** Replaces 'entrypoint.sh' (the image's own boot: portal, provisioning, ComfyUI). */
  onstart?: string;
  /** Added last: may add variables or override the defaults above. */
  extraEnv?: Record<string, string>;
}

export function buildCreateBody(input: CreateBodyInput): Record<string, unknown> {
  const {offer, settings, label, webPassword} = input;
  if (label.length > MAX_LABEL_CHARS) throw new InputError(`The instance label is ${label.length} characters, over Vast.ai's ${MAX_LABEL_CHARS}: use a shorter label.`);
  const onstart = input.onstart ?? 'entrypoint.sh';
  if (onstart.length > MAX_ONSTART_CHARS) {
    throw new InputError(`The onstart script is ${onstart.length} characters, over Vast.ai's ${MAX_ONSTART_CHARS}: move the work into a script at instance.provisioningScriptUrl.`);
  }
  const comfyuiArgs = offer.computeCap >= SAGE_ATTENTION_MIN_COMPUTE_CAP ? `${COMFYUI_ARGS} --use-sage-attention` : COMFYUI_ARGS;
  const env: Record<string, string> = {
    '-p 1111:1111': '1',
    '-p 8080:8080': '1',
    '-p 8188:8188': '1',
    '-p 8288:8288': '1',
    OPEN_BUTTON_PORT: '1111',
    // '1' asks Vast to generate the token and expose it as the instance's jupyter_token.
    OPEN_BUTTON_TOKEN: '1',
    WEB_PASSWORD: webPassword,
    PORTAL_CONFIG,
    COMFYUI_ARGS: comfyuiArgs,
    ...(settings.instance.provisioningScriptUrl ? {PROVISIONING_SCRIPT: settings.instance.provisioningScriptUrl} : {}),
    ...passedThroughTokens(input.env ?? {}),
    DATA_DIRECTORY: '/workspace/',
    ...input.extraEnv,
  };
  checkEnvSize(env);
  return {
    client_id: 'me',
    image: settings.instance.image,
    disk: settings.instance.diskGb,
    label,
    // jupyter_direct, like Vast's own ComfyUI template: Vast replaces the image entrypoint with its
    // init (sshd with a direct 22/tcp mapping, so SSH needs no proxy; a generated jupyter_token,
    // which OPEN_BUTTON_TOKEN=1 makes a portal token too), then onstart runs the image's boot.
    runtype: 'jupyter_direct',
    onstart,
    jupyter_dir: '/',
    use_jupyter_lab: false,
    // Fail instead of leaving a stopped instance behind when the machine cannot schedule it.
    cancel_unavail: true,
    env,
  };
}

/** 32 URL-safe characters from the CSPRNG: the instance portal's password (WEB_PASSWORD). */
export function newWebPassword(): string {
  return randomBytes(24).toString('base64url');
}

/** `vastdeck:<install>-<local>`; without an install id, the older `vastdeck:<local>`. */
export function newLabel(localId: string, installId?: string): string {
  return installId ? `${LABEL_PREFIX}${installId}-${localId}` : `${LABEL_PREFIX}${localId}`;
}

/** What a label says about its instance's owner: vastdeck or not, and which install (when it says). */
export function parseLabel(label: string | null | undefined): {vastdeck: false} | {vastdeck: true; installId?: string; localId: string} {
  if (!label?.startsWith(LABEL_PREFIX)) return {vastdeck: false};
  const rest = label.slice(LABEL_PREFIX.length);
  const match = /^([0-9a-f]{6})-([\w-]+)$/.exec(rest);
  return match ? {vastdeck: true, installId: match[1]!, localId: match[2]!} : {vastdeck: true, localId: rest};
}

function passedThroughTokens(env: NodeJS.ProcessEnv): Record<string, string> {
  const tokens: Record<string, string> = {};
  for (const name of PASSED_THROUGH_TOKENS) {
    const value = env[name]?.trim();
    if (value) tokens[name] = value;
  }
  return tokens;
}

/** Vast's limits (create_instance.yaml): each entry ≤ 256, all ≤ 32768. Names only, never values, in messages. */
function checkEnvSize(env: Record<string, string>): void {
  let totalChars = 0;
  for (const [name, value] of Object.entries(env)) {
    const entryChars = name.length + 1 + value.length;
    if (entryChars > MAX_ENV_ENTRY_CHARS) {
      throw new InputError(`The instance variable ${name} is ${entryChars} characters with its name, over Vast.ai's ${MAX_ENV_ENTRY_CHARS} per variable: shorten it (a long PROVISIONING_SCRIPT URL can go through a URL shortener).`);
    }
    totalChars += entryChars;
  }
  if (totalChars > MAX_ENV_TOTAL_CHARS) {
    throw new InputError(`The instance variables add up to ${totalChars} characters, over Vast.ai's ${MAX_ENV_TOTAL_CHARS}: pass fewer or shorter variables.`);
  }
}
