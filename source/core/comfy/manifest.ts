// A workflow manifest (workflows/<name>.manifest.json): which node input takes each job field, with
// defaults and ranges, and what one generation needs (model downloads, VRAM, time on a reference
// GPU, for the cost model), read into our types with one readable problem per mistake, and checked
// against its workflow (missing nodes, missing inputs, links). Used by workflow.ts.
import {GPU_SPEED, REFERENCE_GPU} from '../offers/gpu-speed.js';
import {isRecord} from '../vast/parse.js';
import type {ApiWorkflow, FieldBinding, JobField, WorkflowKind, WorkflowRequirements} from './types.js';

export interface Manifest {
  name: string;
  description: string;
  kind: WorkflowKind;
  /** The workflow file, relative to the manifest's folder. */
  workflowFile: string;
  fields: Partial<Record<JobField, FieldBinding>>;
  /** Absent in manifests written before the cost model; the offers ranking then asks for it. */
  requirements?: WorkflowRequirements;
}

export type FieldKind = 'text' | 'integer' | 'number';

export const FIELD_KINDS: Record<JobField, FieldKind> = {
  image: 'text',
  prompt: 'text',
  negative: 'text',
  seed: 'integer',
  steps: 'integer',
  cfg: 'number',
  denoise: 'number',
  width: 'integer',
  height: 'integer',
  frames: 'integer',
};

export const JOB_FIELDS = Object.keys(FIELD_KINDS) as JobField[];
const REQUIRED_FIELDS: JobField[] = ['image', 'prompt'];
const BINDING_KEYS = new Set(['node', 'input', 'default', 'min', 'max']);

/** The manifest, or the list of its problems (each a short clause). */
export function parseManifest(value: unknown): {manifest: Manifest} | {problems: string[]} {
  if (!isRecord(value)) return {problems: ['it is not a JSON object']};
  const problems: string[] = [];
  for (const key of ['name', 'description', 'workflow'] as const) {
    if (typeof value[key] !== 'string' || value[key] === '') problems.push(`"${key}" is missing or not a string`);
  }
  const workflowFile = String(value.workflow ?? '');
  if (workflowFile && (workflowFile.startsWith('/') || workflowFile.split(/[/\\]/).includes('..'))) {
    problems.push(`"workflow" must name a file next to the manifest, not ${JSON.stringify(workflowFile)}`);
  }
  if (value.kind !== 'image' && value.kind !== 'video') problems.push(`"kind" must be "image" or "video"`);
  const fields: Partial<Record<JobField, FieldBinding>> = {};
  if (!isRecord(value.fields)) {
    problems.push('"fields" is missing or not an object');
  } else {
    for (const [field, raw] of Object.entries(value.fields)) {
      if (!(field in FIELD_KINDS)) {
        problems.push(`"fields" has an unknown field "${field}" (known: ${JOB_FIELDS.join(', ')})`);
        continue;
      }
      const binding = parseBinding(field as JobField, raw, problems);
      if (binding) fields[field as JobField] = binding;
    }
    for (const field of REQUIRED_FIELDS) if (!(field in value.fields)) problems.push(`"fields" does not bind "${field}"`);
  }
  const requirements = value.requirements === undefined ? undefined : parseRequirements(value.requirements, problems);
  if (problems.length > 0) return {problems};
  const manifest: Manifest = {name: String(value.name), description: String(value.description), kind: value.kind as WorkflowKind, workflowFile, fields};
  if (requirements) manifest.requirements = requirements;
  return {manifest};
}

const REQUIREMENT_KEYS = ['modelGb', 'minVramGb', 'secondsPerGeneration', 'referenceGpu'];

/** "requirements": {"modelGb": 6.94, "minVramGb": 10, "secondsPerGeneration": 3.5, "referenceGpu": "RTX 4090"} */
function parseRequirements(raw: unknown, problems: string[]): WorkflowRequirements | undefined {
  const example = '{"modelGb": 6.94, "minVramGb": 10, "secondsPerGeneration": 3.5, "referenceGpu": "RTX 4090"}';
  if (!isRecord(raw)) {
    problems.push(`"requirements" must be an object like ${example}`);
    return undefined;
  }
  const before = problems.length;
  for (const key of Object.keys(raw)) if (!REQUIREMENT_KEYS.includes(key)) problems.push(`"requirements" has an unknown key "${key}" (known: ${REQUIREMENT_KEYS.join(', ')})`);
  const number = (key: string, positive: boolean, what: string): number => {
    const found = raw[key];
    const fits = typeof found === 'number' && Number.isFinite(found) && (positive ? found > 0 : found >= 0);
    if (!fits) problems.push(`requirements.${key} must be ${positive ? 'a number above 0' : 'a number of 0 or more'} (${what})`);
    return fits ? found : 0;
  };
  const modelGb = number('modelGb', false, 'GB of models the instance downloads for this workflow');
  const minVramGb = number('minVramGb', false, 'GB of GPU memory one generation needs');
  const secondsPerGeneration = number('secondsPerGeneration', true, 'seconds one generation takes on referenceGpu');
  const referenceGpu = raw.referenceGpu ?? REFERENCE_GPU;
  if (typeof referenceGpu !== 'string' || GPU_SPEED[referenceGpu] === undefined) {
    problems.push(`requirements.referenceGpu ${JSON.stringify(referenceGpu)} is not in the GPU speed table: use a Vast GPU name such as "RTX 4090" or "A100 SXM4"`);
  }
  if (problems.length > before) return undefined;
  return {modelGb, minVramGb, secondsPerGeneration, referenceGpu: referenceGpu as string};
}

function parseBinding(field: JobField, raw: unknown, problems: string[]): FieldBinding | undefined {
  const at = `fields.${field}`;
  if (!isRecord(raw)) {
    problems.push(`${at} must be an object like {"node": "6", "input": "steps"}`);
    return undefined;
  }
  const before = problems.length;
  for (const key of Object.keys(raw)) if (!BINDING_KEYS.has(key)) problems.push(`${at} has an unknown key "${key}" (known: node, input, default, min, max)`);
  const node = typeof raw.node === 'number' ? String(raw.node) : raw.node;
  if (typeof node !== 'string' || node === '') problems.push(`${at}.node must be a node id such as "6"`);
  if (typeof raw.input !== 'string' || raw.input === '') problems.push(`${at}.input must be an input name such as "steps"`);
  const kind = FIELD_KINDS[field];
  for (const key of ['min', 'max'] as const) {
    if (raw[key] === undefined) continue;
    if (kind === 'text') problems.push(`${at}.${key} makes no sense for a text field`);
    else if (typeof raw[key] !== 'number' || !Number.isFinite(raw[key])) problems.push(`${at}.${key} must be a number`);
  }
  const min = typeof raw.min === 'number' ? raw.min : undefined;
  const max = typeof raw.max === 'number' ? raw.max : undefined;
  if (min !== undefined && max !== undefined && min > max) problems.push(`${at}.min (${min}) is above ${at}.max (${max})`);
  if (field === 'seed' && ((min ?? 0) < 0 || (max ?? 0) > Number.MAX_SAFE_INTEGER)) problems.push(`${at} must stay within 0 and ${Number.MAX_SAFE_INTEGER}`);
  const fallback = raw.default;
  if (fallback !== undefined && !(field === 'seed' && fallback === 'random')) {
    const problem = valueProblem(field, fallback, min, max);
    if (problem) problems.push(`${at}.default: ${problem}`);
  }
  if (problems.length > before) return undefined;
  return {node: node as string, input: raw.input as string, default: fallback as FieldBinding['default'], min, max};
}

/** Why `value` does not fit `field` (e.g. "steps must be between 1 and 150, got 500"), or undefined. */
export function valueProblem(field: JobField, value: unknown, min?: number, max?: number): string | undefined {
  const kind = FIELD_KINDS[field];
  if (kind === 'text') return typeof value === 'string' ? undefined : `${field} must be text, got ${JSON.stringify(value)}`;
  if (typeof value !== 'number' || !Number.isFinite(value)) return `${field} must be a number, got ${JSON.stringify(value) ?? String(value)}`;
  if (kind === 'integer' && !Number.isInteger(value)) return `${field} must be a whole number, got ${value}`;
  if (min !== undefined && max !== undefined && (value < min || value > max)) return `${field} must be between ${min} and ${max}, got ${value}`;
  if (min !== undefined && value < min) return `${field} must be at least ${min}, got ${value}`;
  if (max !== undefined && value > max) return `${field} must be at most ${max}, got ${value}`;
  return undefined;
}

/** Bindings that do not fit the workflow: a missing node, a missing input, a link, a double binding. */
export function bindingProblems(fields: Partial<Record<JobField, FieldBinding>>, workflow: ApiWorkflow, workflowFile: string): string[] {
  const problems: string[] = [];
  const taken = new Map<string, JobField>();
  for (const [field, binding] of Object.entries(fields) as Array<[JobField, FieldBinding]>) {
    const at = `fields.${field}`;
    const node = workflow[binding.node];
    if (!node) {
      problems.push(`${at} points at node ${binding.node}, which ${workflowFile} does not have`);
      continue;
    }
    const where = `input "${binding.input}" of node ${binding.node} (${node.class_type})`;
    if (!(binding.input in node.inputs)) {
      problems.push(`${at} points at ${where}, which does not exist (the node has: ${Object.keys(node.inputs).join(', ') || 'no inputs'})`);
      continue;
    }
    const current = node.inputs[binding.input];
    if (Array.isArray(current)) problems.push(`${at} points at ${where}, which is a link from node ${String(current[0])}: bind a plain value input instead`);
    const key = `${binding.node}\u0000${binding.input}`;
    const other = taken.get(key);
    if (other) problems.push(`${at} and fields.${other} both point at ${where}`);
    taken.set(key, field);
  }
  return problems;
}
