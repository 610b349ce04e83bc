// Validates a PUT /asks/{id}/ body the way Vast does (docs/vast-api.md §3.1-3.4): image or template,
// disk, env in dict or docker-flag string form, runtype in either spelling, length limits, price.
// Called by instances.ts (SimInstances.create); a problem becomes Vast's 400 invalid_args answer.
import type {BootScenarioName} from './boot-fixture.js';
import {INSTANCE_QUIRKS, type InstanceQuirk} from './instance-record.js';
import {DEFAULT_SETTINGS} from '../core/settings.js';

/** What a route sends back: a status and a JSON body. */
export interface SimAnswer {
  status: number;
  json: unknown;
}

export interface CreateSpec {
  /** As requested, e.g. 'vastai/comfyui:@vastai-automatic-tag'. */
  image: string;
  /** GB of container disk. */
  disk: number;
  /** The dict form, in request order: [["KEY", "value"], ["-p 8188:8188", "1"]]. */
  env: [string, string][];
  /** Container ports requested with `-p A:B` (B), plus 8080 for the jupyter runtypes. */
  internalPorts: number[];
  onstart: string | null;
  args: string[];
  /** Normalised like Vast echoes it, e.g. 'jupyter jupyter_direc ssh_direc ssh_proxy'. */
  imageRuntype: string;
  label: string | null;
  /** A bid ($/h): an interruptible instance. */
  price?: number;
  templateHashId: string | null;
  targetState: 'running' | 'stopped';
  cancelUnavail: boolean;
  /** From env VASTDECK_SIM_SCENARIO. */
  scenario?: BootScenarioName;
  /** From env VASTDECK_SIM_QUIRKS (comma list): real-API quirks this instance shows. */
  quirks: InstanceQuirk[];
}

const SCENARIOS: readonly BootScenarioName[] = ['happy', 'failure', 'slow-resume'];
const RUNTYPE_TOKENS = new Set(['ssh', 'ssh_proxy', 'ssh_direct', 'ssh_direc', 'jupyter', 'jupyter_proxy', 'jupyter_direct', 'jupyter_direc', 'args']);
/** The sim keeps no templates: any template_hash_id stands for Vast's ComfyUI template. */
const TEMPLATE_IMAGE = 'vastai/comfyui:@vastai-automatic-tag';
const TEMPLATE_RUNTYPE = 'jupyter jupyter_direc ssh_direc ssh_proxy';
/** Compressed image sizes in GB by repository prefix (Vast's ComfyUI image: the cost model's cost.imageGb); anything else counts as 5 GB. */
const IMAGE_GB: readonly (readonly [string, number])[] = [['vastai/comfy', DEFAULT_SETTINGS.cost.imageGb], ['vastai/pytorch', 8], ['pytorch/pytorch', 7], ['vastai/base-image', 6], ['nvidia/cuda', 4]];
const AUTO_TAG = '@vastai-automatic-tag';
const CUDA_TAGS = [12.9, 12.8, 12.6, 12.4, 12.1, 11.8];

class InvalidArgs extends Error {}

/** The spec and the offer id, or the 400 answer. */
export function parseCreateBody(offerId: string | number, body: unknown): {spec: CreateSpec; askId: number} | SimAnswer {
  try {
    if (!/^\d+$/.test(String(offerId))) throw new InvalidArgs("'id' is required and must be a valid offer ID");
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new InvalidArgs('the body must be a JSON object');
    return {spec: specOf(body as Record<string, unknown>), askId: Number(offerId)};
  } catch (error) {
    if (!(error instanceof InvalidArgs)) throw error;
    return {status: 400, json: {success: false, error: 'invalid_args', msg: `error 400/3467: Invalid args: ${error.message}`}};
  }
}

/** 'vastai/comfyui:@vastai-automatic-tag' → the tag matching the host's CUDA, as Vast resolves it. */
export function resolveImage(image: string, cudaMaxGood: number): string {
  if (!image.endsWith(`:${AUTO_TAG}`)) return image;
  const cuda = (CUDA_TAGS.find(tag => tag <= cudaMaxGood) ?? 11.8).toFixed(1);
  const repository = image.slice(0, -AUTO_TAG.length - 1);
  return repository.startsWith('vastai/comfy') ? `${repository}:v0.3.64-cuda-${cuda}-py312` : `${repository}:cuda-${cuda}`;
}

export function imageSizeGb(image: string): number {
  return IMAGE_GB.find(([prefix]) => image.startsWith(prefix))?.[1] ?? 5;
}

function specOf(body: Record<string, unknown>): CreateSpec {
  const templateHashId = optionalString(body, 'template_hash_id', 1024);
  const image = optionalString(body, 'image', 1024) || (templateHashId ? TEMPLATE_IMAGE : '');
  if (!image) throw new InvalidArgs("'image' is required unless template_hash_id is given");
  const disk = body.disk ?? 8;
  if (typeof disk !== 'number' || !Number.isFinite(disk) || disk < 8) throw new InvalidArgs(`'disk' must be a number of GB, at least 8 (got ${JSON.stringify(disk)})`);
  const env = envEntries(body.env);
  const onstart = optionalString(body, 'onstart');
  const args = body.args ?? [];
  if (!Array.isArray(args) || !args.every(arg => typeof arg === 'string')) throw new InvalidArgs("'args' must be a list of strings");
  const scriptChars = (onstart ?? '').length + args.join(' ').length + (optionalString(body, 'args_str') ?? '').length;
  if (scriptChars > 4096) throw new InvalidArgs(`onstart, args and args_str add up to ${scriptChars} characters; the limit is 4096`);
  const label = optionalString(body, 'label', 256);
  const price = body.price ?? undefined;
  if (price !== undefined && (typeof price !== 'number' || !(price >= 0.001 && price <= 128))) throw new InvalidArgs(`'price' must be a bid between 0.001 and 128 $/h (got ${JSON.stringify(price)})`);
  const targetState = body.target_state ?? 'running';
  if (targetState !== 'running' && targetState !== 'stopped') throw new InvalidArgs(`'target_state' must be "running" or "stopped" (got ${JSON.stringify(targetState)})`);
  const imageRuntype = runtypeOf(body.runtype, templateHashId !== null);
  const scenario = env.find(([name]) => name === 'VASTDECK_SIM_SCENARIO')?.[1];
  if (scenario !== undefined && !SCENARIOS.includes(scenario as BootScenarioName)) throw new InvalidArgs(`VASTDECK_SIM_SCENARIO must be one of ${SCENARIOS.join(', ')}`);
  const quirks = (env.find(([name]) => name === 'VASTDECK_SIM_QUIRKS')?.[1] ?? '').split(',').map(quirk => quirk.trim()).filter(Boolean);
  const unknownQuirk = quirks.find(quirk => !INSTANCE_QUIRKS.includes(quirk as InstanceQuirk));
  if (unknownQuirk !== undefined) throw new InvalidArgs(`VASTDECK_SIM_QUIRKS has an unknown quirk ${JSON.stringify(unknownQuirk)}; use any of ${INSTANCE_QUIRKS.join(', ')}`);
  const internalPorts = env.flatMap(([name]) => {
    const port = /^-p \d+:(\d+)(?:\/tcp)?$/.exec(name)?.[1];
    return port === undefined ? [] : [Number(port)];
  });
  if (imageRuntype.startsWith('jupyter') && !internalPorts.includes(8080)) internalPorts.push(8080);
  return {
    image, disk, env, internalPorts, onstart, args, imageRuntype, label, templateHashId,
    targetState, price, cancelUnavail: body.cancel_unavail === true, scenario: scenario as BootScenarioName | undefined,
    quirks: quirks as InstanceQuirk[],
  };
}

function optionalString(body: Record<string, unknown>, field: string, maxChars = Number.POSITIVE_INFINITY): string | null {
  const value = body[field] ?? null;
  if (value === null) return null;
  if (typeof value !== 'string') throw new InvalidArgs(`'${field}' must be a string`);
  if (value.length > maxChars) throw new InvalidArgs(`'${field}' is ${value.length} characters long; the limit is ${maxChars}`);
  return value;
}

/** The dict form; a docker-flag string is parsed like the CLI does. Each `KEY=value` ≤ 256, all ≤ 32768. */
function envEntries(env: unknown): [string, string][] {
  let entries: [string, string][];
  if (env === undefined || env === null) entries = [];
  else if (typeof env === 'string') entries = parseDockerFlags(env);
  else if (typeof env === 'object' && !Array.isArray(env)) {
    entries = Object.entries(env).map(([name, value]) => {
      if (!['string', 'number', 'boolean'].includes(typeof value)) throw new InvalidArgs(`env value of ${name} must be a string`);
      return [name, String(value)];
    });
  } else throw new InvalidArgs('\'env\' must be a JSON object such as {"KEY": "value", "-p 8188:8188": "1"}');
  let total = 0;
  for (const [name, value] of entries) {
    const chars = name.length + 1 + value.length;
    if (chars > 256) throw new InvalidArgs(`env entry ${name} is ${chars} characters long; each entry is limited to 256`);
    total += chars;
  }
  if (total > 32_768) throw new InvalidArgs(`env adds up to ${total} characters; the limit is 32768`);
  return entries;
}

/** `-e K=V` → K: V; `-p A:B[/tcp|udp]` → "-p A:B": "1"; `-v`/`-n X` kept; `-h X` → "-h": X; the rest dropped. */
function parseDockerFlags(text: string): [string, string][] {
  const tokens = shellSplit(text);
  const env = new Map<string, string>();
  for (let index = 0; index < tokens.length; index++) {
    const [flag, value] = [tokens[index]!, tokens[index + 1]];
    if (value === undefined) break;
    const equals = value.indexOf('=');
    if (flag === '-e' && equals > 0) env.set(value.slice(0, equals), value.slice(equals + 1));
    else if (flag === '-p' && /^[0-9:]+(\/(tcp|udp))?$/.test(value)) env.set(`-p ${value}`, '1');
    else if (flag === '-v' || flag === '-n') env.set(`${flag} ${value}`, '1');
    else if (flag === '-h') env.set('-h', value);
    else continue;
    index++;
  }
  return [...env];
}

/** Splits on spaces, honouring single and double quotes (which are removed). */
function shellSplit(text: string): string[] {
  const tokens: string[] = [];
  let current: string | undefined;
  let quote: string | undefined;
  for (const char of text) {
    if (quote !== undefined && char === quote) quote = undefined;
    else if (quote === undefined && (char === '"' || char === "'")) {
      quote = char;
      current ??= '';
    } else if (quote === undefined && /\s/.test(char)) {
      if (current !== undefined) tokens.push(current);
      current = undefined;
    } else current = (current ?? '') + char;
  }
  if (current !== undefined) tokens.push(current);
  return tokens;
}

/** 'jupyter_direct' and the CLI's 'jupyter_direc ssh_direc ssh_proxy' both echo as Vast's long form. */
function runtypeOf(runtype: unknown, fromTemplate: boolean): string {
  if (runtype === undefined || runtype === null) return fromTemplate ? TEMPLATE_RUNTYPE : 'ssh ssh_proxy';
  const tokens = typeof runtype === 'string' ? runtype.trim().split(/\s+/) : [];
  if (tokens.length === 0 || tokens[0] === '' || !tokens.every(token => RUNTYPE_TOKENS.has(token))) {
    throw new InvalidArgs(`'runtype' must be ssh, ssh_proxy, ssh_direct, jupyter, jupyter_proxy, jupyter_direct or args (got ${JSON.stringify(runtype)})`);
  }
  if (tokens.includes('args')) return 'args';
  const jupyterDirect = tokens.some(token => token.startsWith('jupyter_direc'));
  const sshDirect = jupyterDirect || tokens.some(token => token.startsWith('ssh_direc'));
  const kind = tokens.some(token => token.startsWith('jupyter')) ? 'jupyter' : 'ssh';
  return [kind, jupyterDirect ? 'jupyter_direc' : '', sshDirect ? 'ssh_direc' : '', 'ssh_proxy'].filter(Boolean).join(' ');
}
