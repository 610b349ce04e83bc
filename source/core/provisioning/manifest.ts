// The provisioning manifest (provisioning/manifest.schema.json): what provision.sh installs on an
// instance. Checked before create with one sentence per problem (the script repeats the checks on
// the instance, and the simulator runs the same checks on what was shipped).

/** ComfyUI's model folders a manifest may download into (ComfyUI/models/<folder>). */
export const MODEL_FOLDERS = [
  'checkpoints', 'loras', 'vae', 'unet', 'diffusion_models', 'clip', 'text_encoders',
  'clip_vision', 'controlnet', 'upscale_models', 'embeddings',
] as const;

export type ModelFolder = (typeof MODEL_FOLDERS)[number];

export interface ManifestNode {
  url: string;
  /** A branch, tag or commit to check out; the default branch when absent. */
  ref?: string;
}

export interface ManifestModel {
  url: string;
  folder: ModelFolder;
  /** The file name under models/<folder>; from the URL when absent. */
  filename?: string;
  sha256?: string;
}

/** A workflow fetched from a URL, or a path relative to the manifest (its URL or its directory). */
export type ManifestWorkflow = {url: string} | {path: string};

export interface ProvisioningManifest {
  nodes?: ManifestNode[];
  models?: ManifestModel[];
  workflows?: ManifestWorkflow[];
  pip?: string[];
  apt?: string[];
  comfyuiArgs?: string;
  autoUpdateNodes?: boolean;
}

export type ManifestCheck = {ok: true; manifest: ProvisioningManifest; problems: []} | {ok: false; problems: string[]};

const TOP_FIELDS = ['nodes', 'models', 'workflows', 'pip', 'apt', 'comfyuiArgs', 'autoUpdateNodes'] as const;
const IGNORED_FIELDS = ['$schema', '$comment'];
const FILE_NAME = /^[A-Za-z0-9_][A-Za-z0-9._+-]{0,199}$/;
const NODE_NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;
const GIT_REF = /^[A-Za-z0-9_][A-Za-z0-9._\/+-]*$/;
const SHA256 = /^[0-9a-fA-F]{64}$/;
const PIP_SPEC = /^[A-Za-z0-9_.][^\s'"`$\\;&|<>]*$/;
const APT_NAME = /^[a-z0-9][a-z0-9+.:=~-]*$/;
const COMFYUI_ARGS = /^[A-Za-z0-9 ._:/=,+-]*$/;

type Problems = string[];
type Entry = Record<string, unknown>;

/** Checks a parsed manifest; every problem is one sentence naming the entry and the fix. */
export function validateManifest(value: unknown): ManifestCheck {
  const problems: Problems = [];
  if (!isObject(value)) return {ok: false, problems: [`The manifest must be a JSON object with any of ${list(TOP_FIELDS)}.`]};
  for (const key of Object.keys(value)) {
    if (!(TOP_FIELDS as readonly string[]).includes(key) && !IGNORED_FIELDS.includes(key)) {
      problems.push(`The manifest has an unknown field "${key}"; the fields are ${list(TOP_FIELDS)}.`);
    }
  }
  checkNodes(value.nodes, problems);
  checkModels(value.models, problems);
  checkWorkflows(value.workflows, problems);
  checkStrings(value.pip, 'pip', PIP_SPEC, 'a pip requirement without spaces or shell characters, not an option', problems);
  checkStrings(value.apt, 'apt', APT_NAME, 'an apt package name', problems);
  if (value.comfyuiArgs !== undefined && (typeof value.comfyuiArgs !== 'string' || !COMFYUI_ARGS.test(value.comfyuiArgs))) {
    problems.push('"comfyuiArgs" must be a string of ComfyUI options using only letters, digits, spaces and ._:/=,+- (no quotes or shell characters).');
  }
  if (value.autoUpdateNodes !== undefined && typeof value.autoUpdateNodes !== 'boolean') problems.push('"autoUpdateNodes" must be true or false.');
  return problems.length === 0 ? {ok: true, manifest: value as ProvisioningManifest, problems: []} : {ok: false, problems};
}

/** Parses and checks manifest text (e.g. a manifest.json file). */
export function parseManifest(text: string): ManifestCheck {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return {ok: false, problems: [`The manifest is not valid JSON: ${(error as Error).message}.`]};
  }
  return validateManifest(value);
}

/** The file a model ends up in, relative to ComfyUI/models (what a duplicate would overwrite). */
export function modelTarget(model: ManifestModel): string {
  return `${model.folder}/${model.filename ?? fileNameOf(model.url)}`;
}

function checkNodes(nodes: unknown, problems: Problems): void {
  const seen = new Map<string, number>();
  forEachEntry(nodes, 'nodes', problems, (node, at) => {
    unknownFields(node, at, ['url', 'ref'], problems);
    const url = checkUrl(node.url, at, problems);
    if (node.ref !== undefined && (typeof node.ref !== 'string' || !GIT_REF.test(node.ref))) {
      problems.push(`${at}.ref must be a git branch, tag or commit (letters, digits and ._/+-).`);
    }
    if (url === undefined) return;
    const name = fileNameOf(url).replace(/\.git$/, '');
    if (!NODE_NAME.test(name) || name === '..') return problems.push(`${at}.url ${describeUrl(url)} does not end in a repository name to clone into custom_nodes.`);
    duplicate(seen, name, at, 'nodes', `custom_nodes/${name}`, problems);
  });
}

function checkModels(models: unknown, problems: Problems): void {
  const seen = new Map<string, number>();
  forEachEntry(models, 'models', problems, (model, at) => {
    unknownFields(model, at, ['url', 'folder', 'filename', 'sha256'], problems);
    const url = checkUrl(model.url, at, problems);
    if (model.folder === undefined) problems.push(`${at} is missing its "folder" (one of ${list(MODEL_FOLDERS)}).`);
    else if (typeof model.folder !== 'string' || !(MODEL_FOLDERS as readonly string[]).includes(model.folder)) {
      problems.push(`${at}.folder ${JSON.stringify(model.folder)} is not a ComfyUI model folder; use one of ${list(MODEL_FOLDERS)}.`);
    }
    if (model.sha256 !== undefined && (typeof model.sha256 !== 'string' || !SHA256.test(model.sha256))) problems.push(`${at}.sha256 must be 64 hexadecimal digits.`);
    let name: string | undefined;
    if (model.filename !== undefined) {
      if (typeof model.filename === 'string' && FILE_NAME.test(model.filename)) name = model.filename;
      else problems.push(`${at}.filename must be a plain file name (letters, digits and ._+-, no folders or spaces).`);
    } else if (url !== undefined) {
      const derived = fileNameOf(url);
      if (FILE_NAME.test(derived) && derived.includes('.')) name = derived;
      else problems.push(`${at} (${describeUrl(url)}) needs a "filename": its URL does not end in a file name.`);
    }
    if (name !== undefined && typeof model.folder === 'string') duplicate(seen, `${model.folder}/${name}`, at, 'models', `models/${model.folder}/${name}`, problems);
  });
}

function checkWorkflows(workflows: unknown, problems: Problems): void {
  const seen = new Map<string, number>();
  forEachEntry(workflows, 'workflows', problems, (workflow, at) => {
    unknownFields(workflow, at, ['url', 'path'], problems);
    const hasUrl = workflow.url !== undefined;
    const hasPath = workflow.path !== undefined;
    if (hasUrl === hasPath) return problems.push(`${at} needs exactly one of "url" or "path".`);
    let source: string | undefined;
    if (hasUrl) source = checkUrl(workflow.url, at, problems);
    else if (typeof workflow.path === 'string' && workflow.path.trim() !== '' && !/[\0\n\r]/.test(workflow.path)) source = workflow.path;
    else problems.push(`${at}.path must be a file path (relative to the manifest, or absolute).`);
    if (source === undefined) return;
    const name = fileNameOf(source);
    if (!FILE_NAME.test(name) || !/\.json$/i.test(name)) return problems.push(`${at} must name a .json file (letters, digits and ._+-), not ${JSON.stringify(name)}.`);
    duplicate(seen, name, at, 'workflows', `user/default/workflows/${name}`, problems);
  });
}

function checkStrings(values: unknown, field: string, pattern: RegExp, what: string, problems: Problems): void {
  if (values === undefined) return;
  if (!Array.isArray(values)) return void problems.push(`"${field}" must be a list.`);
  values.forEach((value, index) => {
    if (typeof value !== 'string' || !pattern.test(value)) problems.push(`${field}[${index}] ${JSON.stringify(value)} must be ${what}.`);
  });
}

function forEachEntry(values: unknown, field: string, problems: Problems, check: (entry: Entry, at: string) => void): void {
  if (values === undefined) return;
  if (!Array.isArray(values)) return void problems.push(`"${field}" must be a list.`);
  values.forEach((entry, index) => {
    const at = `${field}[${index}]`;
    if (isObject(entry)) check(entry, at);
    else problems.push(`${at} must be an object.`);
  });
}

function unknownFields(entry: Entry, at: string, known: readonly string[], problems: Problems): void {
  for (const key of Object.keys(entry)) {
    if (!known.includes(key)) problems.push(`${at} has an unknown field "${key}"; the fields are ${list(known)}.`);
  }
}

function checkUrl(value: unknown, at: string, problems: Problems): string | undefined {
  if (value === undefined) return void problems.push(`${at} is missing its "url".`);
  if (typeof value !== 'string' || !isHttpUrl(value)) {
    problems.push(`${at}.url ${typeof value === 'string' ? describeUrl(value) : JSON.stringify(value)} is not an http(s) URL.`);
    return undefined;
  }
  return value;
}

function duplicate(seen: Map<string, number>, key: string, at: string, field: string, target: string, problems: Problems): void {
  const first = seen.get(key);
  if (first === undefined) seen.set(key, Number(at.slice(field.length + 1, -1)));
  else problems.push(`${at} and ${field}[${first}] both write ${target}; give one of them another name.`);
}

function isHttpUrl(text: string): boolean {
  if (/[\u0000-\u0020\u007f"'`\\<>]/.test(text)) return false;
  try {
    const url = new URL(text);
    return (url.protocol === 'https:' || url.protocol === 'http:') && url.hostname !== '';
  } catch {
    return false;
  }
}

/** The last path segment of a URL or path, percent-decoded, without query or fragment. */
export function fileNameOf(source: string): string {
  const path = source.replace(/[?#].*$/, '');
  const last = path.split('/').filter(Boolean).pop() ?? '';
  try {
    return decodeURIComponent(last);
  } catch {
    return last;
  }
}

/** A URL for messages: without its query, which may carry a token (`?token=`). */
function describeUrl(url: string): string {
  return url.replace(/[?#].*$/, '');
}

function isObject(value: unknown): value is Entry {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function list(items: readonly string[]): string {
  return items.length < 2 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items.at(-1)!}`;
}
