// Finds, loads and checks workflows: the shipped ones in the package's workflows/ folder and the
// user's own in $XDG_CONFIG_HOME/vastdeck/workflows/ (same name: the user's wins), each an
// API-format JSON plus a manifest. Every mistake becomes one InputError sentence naming the file.
// Used by the generation queue, the Queue pane and `vastdeck run`; job-binding.ts fills them in
// (re-exported here so that one import gives the whole workflow API).
import {readdir, readFile} from 'node:fs/promises';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {tildePath, vastdeckConfigDir} from '../credentials.js';
import {InputError} from '../errors.js';
import {isRecord} from '../vast/parse.js';
import {jsonErrorPosition} from './json-position.js';
import {bindingProblems, parseManifest} from './manifest.js';
import type {ApiWorkflow, LoadedWorkflow, WorkflowInfo} from './types.js';

export {bindJob, validateJobSpec, type BoundJob, type JobSettings} from './job-binding.js';

type WorkflowSource = 'shipped' | 'user';

const MANIFEST_SUFFIX = '.manifest.json';
const NAME_PATTERN = /^\w[\w.-]*$/;

/** The package's workflows/ folder, found from this file so it works from source/ and dist/. */
export function shippedWorkflowsDir(): string {
  return fileURLToPath(new URL('../../../workflows/', import.meta.url));
}

export function userWorkflowsDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(vastdeckConfigDir(env), 'workflows');
}

/** Every workflow by name (the user's replacing a shipped one of the same name), broken ones included. */
export async function listWorkflows(): Promise<WorkflowInfo[]> {
  const found = await findManifests();
  const infos = await Promise.all(
    [...found.entries()].map(async ([name, {source, manifestPath}]): Promise<WorkflowInfo> => {
      try {
        const loaded = await loadManifest(name, source, manifestPath);
        return {ok: true, name, description: loaded.description, kind: loaded.kind, source, manifestPath};
      } catch (error) {
        if (!(error instanceof InputError)) throw error;
        return {ok: false, name, problem: error.message, source, manifestPath};
      }
    }),
  );
  return infos.sort((a, b) => a.name.localeCompare(b.name));
}

/** The named workflow with its manifest, checked against each other. */
export async function loadWorkflow(name: string): Promise<LoadedWorkflow> {
  const found = await findManifests();
  const entry = NAME_PATTERN.test(name) ? found.get(name) : undefined;
  if (!entry) {
    const names = [...found.keys()].sort();
    const available = names.length > 0 ? `the available workflows are ${names.join(', ')}` : 'no workflows are installed';
    throw new InputError(`Unknown workflow "${name}": ${available} (add your own to ${tildePath(userWorkflowsDir())}).`);
  }
  return loadManifest(name, entry.source, entry.manifestPath);
}

/** Checks that `value` (the parsed file `file`) is an API-format workflow and returns it typed. */
export function parseApiWorkflow(value: unknown, file: string): ApiWorkflow {
  if (isRecord(value) && Array.isArray(value.nodes) && (Array.isArray(value.links) || value.version === 1)) {
    throw new InputError(
      `${file} is a ComfyUI UI workflow (it has nodes and links); vastdeck needs the API format: in ComfyUI enable Dev mode options and use Workflow → Export (API).`,
    );
  }
  if (!isRecord(value) || Object.keys(value).length === 0) throw new InputError(`${file} is not an API-format workflow (an object of nodes): export it again with Workflow → Export (API).`);
  const problems: string[] = [];
  for (const [id, node] of Object.entries(value)) {
    if (!isRecord(node) || typeof node.class_type !== 'string') problems.push(`node ${id} has no class_type`);
    else if (!isRecord(node.inputs)) problems.push(`node ${id} (${node.class_type}) has no inputs object`);
  }
  const workflow = value as ApiWorkflow;
  for (const [id, node] of Object.entries(workflow)) {
    if (!isRecord(node) || !isRecord(node.inputs)) continue;
    for (const [input, link] of Object.entries(node.inputs)) {
      if (Array.isArray(link) && typeof link[0] === 'string' && !(link[0] in workflow)) problems.push(`node ${id} input "${input}" links to node ${link[0]}, which does not exist`);
    }
  }
  if (problems.length > 0) throw new InputError(`${file} is not a usable API-format workflow: ${problems.join('; ')}; export it again with Workflow → Export (API).`);
  return workflow;
}

async function loadManifest(name: string, source: WorkflowSource, manifestPath: string): Promise<LoadedWorkflow> {
  const shownManifest = tildePath(manifestPath);
  const parsed = parseManifest(await readJson(manifestPath));
  if ('problems' in parsed) throw new InputError(`The manifest ${shownManifest} has problems: ${parsed.problems.join('; ')}; fix them (see workflows/README.md).`);
  const {manifest} = parsed;
  if (manifest.name !== name) throw new InputError(`The manifest ${shownManifest} is named "${manifest.name}" but its file says "${name}": make them the same.`);
  const workflowPath = join(manifestPath, '..', manifest.workflowFile);
  const workflow = parseApiWorkflow(await readJson(workflowPath), tildePath(workflowPath));
  const problems = bindingProblems(manifest.fields, workflow, manifest.workflowFile);
  if (problems.length > 0) throw new InputError(`The manifest ${shownManifest} does not fit its workflow: ${problems.join('; ')}; fix the bindings.`);
  return {name, description: manifest.description, kind: manifest.kind, workflow, fields: manifest.fields, source, manifestPath, ...(manifest.requirements ? {requirements: manifest.requirements} : {})};
}

/** name → manifest, shipped first so that the user's folder replaces same-named entries. */
async function findManifests(): Promise<Map<string, {source: WorkflowSource; manifestPath: string}>> {
  const found = new Map<string, {source: WorkflowSource; manifestPath: string}>();
  for (const [source, dir] of [['shipped', shippedWorkflowsDir()], ['user', userWorkflowsDir()]] as const) {
    let entries: string[];
    try {
      entries = await readdir(dir);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') continue;
      throw new InputError(`The workflows folder ${tildePath(dir)} cannot be read (${code ?? 'unknown error'}): fix its permissions.`);
    }
    for (const file of entries.sort()) {
      const name = file.slice(0, -MANIFEST_SUFFIX.length);
      if (file.endsWith(MANIFEST_SUFFIX) && NAME_PATTERN.test(name)) found.set(name, {source, manifestPath: join(dir, file)});
    }
  }
  return found;
}

async function readJson(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const what = code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? 'unknown error'})`;
    throw new InputError(`${tildePath(path)} ${what}: check the workflow files and their manifest.`);
  }
  text = text.replace(/^\uFEFF/, '');
  try {
    return JSON.parse(text);
  } catch {
    const position = jsonErrorPosition(text);
    const where = position ? ` (line ${position.line}, column ${position.column})` : '';
    throw new InputError(`${tildePath(path)} is not valid JSON${where}: fix the file, or export it again from ComfyUI.`);
  }
}
