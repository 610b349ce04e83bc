// Fills a loaded workflow with one job's settings: a deep copy with each bound input set, the
// manifest's defaults (or the workflow's own values) for what the job leaves out, a random seed
// when the default says "random", and one sentence per out-of-range value.
// Used by the generation queue: validateJobSpec when a job is added, bindJob just before submitting.
import {InputError} from '../errors.js';
import {JOB_FIELDS, valueProblem} from './manifest.js';
import type {ApiWorkflow, FieldBinding, JobField, JobSpec, LoadedWorkflow} from './types.js';

export type JobSettings = Partial<Record<JobField, string | number>>;

export interface BoundJob {
  workflow: ApiWorkflow;
  /** The value every bound field got, the image's uploaded name included. */
  settings: JobSettings;
  /** The seed that was used, so the run can be repeated; undefined when the workflow binds none. */
  seed: number | undefined;
}

/** Throws one InputError naming every problem of `spec` for this workflow; silent when it fits. */
export function validateJobSpec(loaded: LoadedWorkflow, spec: JobSpec): void {
  resolveSettings(loaded, spec);
}

export function bindJob(loaded: LoadedWorkflow, spec: JobSpec, uploadedImageName: string): BoundJob {
  if (uploadedImageName === '') throw new InputError('The uploaded image has no name: upload the input image before binding the job.');
  const settings: JobSettings = {...resolveSettings(loaded, spec), image: uploadedImageName};
  const workflow = structuredClone(loaded.workflow);
  for (const [field, binding] of bindings(loaded)) {
    const value = settings[field];
    if (value !== undefined) workflow[binding.node]!.inputs[binding.input] = value;
  }
  return {workflow, settings, seed: typeof settings.seed === 'number' ? settings.seed : undefined};
}

/** Each bound field's value (the image excepted): the job's, else the default, else the workflow's. */
function resolveSettings(loaded: LoadedWorkflow, spec: JobSpec): JobSettings {
  const problems: string[] = [];
  const bound = new Set(Object.keys(loaded.fields));
  for (const field of JOB_FIELDS) {
    if (field !== 'image' && !bound.has(field) && spec[field] !== undefined) {
      const settings = JOB_FIELDS.filter(other => other !== 'image' && bound.has(other)).join(', ');
      problems.push(`${field} is not a setting of workflow "${loaded.name}" (its settings: ${settings})`);
    }
  }
  const settings: JobSettings = {};
  for (const [field, binding] of bindings(loaded)) {
    if (field === 'image') continue;
    const given = spec[field];
    const value = given ?? fallback(field, binding, loaded.workflow);
    const problem = valueProblem(field, value, binding.min, binding.max);
    if (problem && given !== undefined) problems.push(problem);
    else if (problem) problems.push(`the default ${problem} (fix the workflow's manifest)`);
    else settings[field] = value as string | number;
  }
  if (problems.length > 0) throw new InputError(`The job does not fit workflow "${loaded.name}": ${problems.join('; ')}.`);
  return settings;
}

function fallback(field: JobField, binding: FieldBinding, workflow: ApiWorkflow): unknown {
  if (field === 'seed' && binding.default === 'random') return randomSeed(binding.min ?? 0, binding.max ?? Number.MAX_SAFE_INTEGER);
  return binding.default ?? workflow[binding.node]?.inputs[binding.input];
}

/** A whole number in [min, max]; seeds stay ≤ Number.MAX_SAFE_INTEGER so JSON keeps them exact. */
function randomSeed(min: number, max: number): number {
  const low = Math.ceil(min);
  const high = Math.min(Math.floor(max), Number.MAX_SAFE_INTEGER);
  return low + Math.floor(Math.random() * (high - low + 1));
}

function bindings(loaded: LoadedWorkflow): Array<[JobField, FieldBinding]> {
  return Object.entries(loaded.fields) as Array<[JobField, FieldBinding]>;
}
