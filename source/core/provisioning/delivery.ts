// How a new instance gets its provisioning, decided once before the create. The manifest is read
// and checked (one sentence per problem) before anything is rented. A manifest URL travels as
// VASTDECK_MANIFEST_URL; a local manifest, its local workflow files and the script (the user's
// instance.provisioningScriptFile, else vastdeck's own provision.sh) travel in the create request
// itself as a bundle of instance variables (bundle.ts), so nothing needs a web host. A hosted
// script (instance.provisioningScriptUrl) is left to create-body.ts's PROVISIONING_SCRIPT. The autostop
// watchdog (autostop.ts, on by default) travels in the same bundle and the onstart starts it.
import {readFile} from 'node:fs/promises';
import {basename, dirname, isAbsolute, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';
import {InputError} from '../errors.js';
import type {VastdeckSettings} from '../settings.js';
import {AUTOSTOP_LAUNCH, AUTOSTOP_REMOTE_PATH, autostopEnv, autostopScript} from './autostop.js';
import {BUNDLE_DIR, bundleOnstart, envChars, packBundle, withoutShellComments} from './bundle.js';
import {parseManifest, type ProvisioningManifest} from './manifest.js';

export interface ProvisioningDelivery {
  /** The whole onstart (unpack the bundle, then the image's boot), when a bundle travels. */
  onstart?: string;
  /** Just the unpacking, for callers that bring their own onstart (the OnStart method). */
  onstartPrefix?: string;
  extraEnv?: Record<string, string>;
}

/** vastdeck's own provision.sh, found from this file so it works from source/ and dist/. */
export const SHIPPED_SCRIPT_PATH = fileURLToPath(new URL('../../../provisioning/provision.sh', import.meta.url));
/** What the bundle may take of Vast's 32768 env characters, leaving room for the rest of the create. */
export const BUNDLE_ENV_BUDGET_CHARS = 24_576;
const SCRIPT_PATH = `${BUNDLE_DIR}/provision.sh`;
const MANIFEST_PATH = `${BUNDLE_DIR}/manifest.json`;
const URL_PATTERN = /^https?:\/\//;

export interface DeliveryOptions {
  /** The API base the instance's autostop watchdog calls (scheme://host[:port]); without it there is no watchdog. */
  apiBase?: string;
}

export async function provisioningDelivery(settings: VastdeckSettings, options: DeliveryOptions = {}): Promise<ProvisioningDelivery> {
  const {provisioningManifest, provisioningScriptFile, provisioningScriptUrl} = settings.instance;
  const autostop = settings.autostop.enabled && options.apiBase !== undefined;
  if (!provisioningManifest && !provisioningScriptFile && !autostop) return {};
  const files: Record<string, string> = {};
  const extraEnv: Record<string, string> = {};
  if (autostop) {
    files[AUTOSTOP_REMOTE_PATH] = autostopScript();
    Object.assign(extraEnv, autostopEnv(settings.autostop, options.apiBase!));
  }
  if (provisioningManifest && URL_PATTERN.test(provisioningManifest)) {
    extraEnv.VASTDECK_MANIFEST_URL = provisioningManifest;
  } else if (provisioningManifest) {
    const manifest = await readManifest(provisioningManifest);
    Object.assign(files, await bundledWorkflows(manifest, dirname(resolve(provisioningManifest))));
    files[MANIFEST_PATH] = JSON.stringify(manifest);
    extraEnv.VASTDECK_MANIFEST = MANIFEST_PATH;
  }
  if (!provisioningScriptUrl && (provisioningManifest || provisioningScriptFile)) {
    const script = provisioningScriptFile ? await readText(provisioningScriptFile, 'instance.provisioningScriptFile') : await readFile(SHIPPED_SCRIPT_PATH, 'utf8');
    files[SCRIPT_PATH] = withoutShellComments(script);
    extraEnv.PROVISIONING_SCRIPT = SCRIPT_PATH;
  }
  if (Object.keys(files).length === 0) return {extraEnv};
  const bundle = packBundle(files);
  const chars = envChars(bundle);
  if (chars > BUNDLE_ENV_BUDGET_CHARS) {
    throw new InputError(
      `The provisioning script, manifest and workflows take ${chars} characters of instance variables even gzipped and base64-encoded, over the ${BUNDLE_ENV_BUDGET_CHARS} vastdeck allows of Vast.ai's 32768: host the script (instance.provisioningScriptUrl) or the manifest (an http(s) instance.provisioningManifest), or trim the workflows.`,
    );
  }
  const launch = autostop ? `${AUTOSTOP_LAUNCH}; ` : '';
  return {onstart: bundleOnstart(`${launch}entrypoint.sh`), onstartPrefix: bundleOnstart(launch).replace(/; $/, ''), extraEnv: {...extraEnv, ...bundle}};
}

async function readManifest(path: string): Promise<ProvisioningManifest> {
  const check = parseManifest(await readText(path, 'instance.provisioningManifest'));
  if (!check.ok) throw new InputError(`The provisioning manifest ${path} has problems: ${check.problems.join('; ')}`);
  return check.manifest;
}

/**
 * Local workflow files go into the bundle (under /opt/vastdeck/workflows) and the manifest points
 * at them there: relative paths mean nothing on the instance. URL workflows stay as they are.
 */
async function bundledWorkflows(manifest: ProvisioningManifest, manifestDir: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  manifest.workflows = await Promise.all(
    (manifest.workflows ?? []).map(async (workflow) => {
      if (!('path' in workflow)) return workflow;
      const local = isAbsolute(workflow.path) ? workflow.path : resolve(manifestDir, workflow.path);
      const target = `${BUNDLE_DIR}/workflows/${basename(local)}`;
      files[target] = await readText(local, `The manifest's workflow ${workflow.path}`);
      return {path: target};
    }),
  );
  return files;
}

async function readText(path: string, setting: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    const fix = setting.startsWith('instance.') ? `fix the path with \`vastdeck config set ${setting} <file>\`` : 'fix the path in the manifest (it is relative to the manifest file)';
    throw new InputError(`${setting} points at ${path}, which vastdeck cannot read: ${fix}.`);
  }
}
