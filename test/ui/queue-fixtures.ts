// A QueueController and a PoliciesController over plain values for the UI tests. TestQueue keeps
// real jobs behind the same batched Model the core uses: add() queues them (or answers the
// sentence the test set), cancel/retry/clearFinished change them the way the core does, the
// workflows, their fields and the files for path completion are whatever the test puts there, and
// every call is recorded. TestPolicies holds the policy snapshot and records cancel and toggle.
import type {JobField, JobSpec, WorkflowInfo} from '../../source/core/comfy/types.js';
import type {Job, PoliciesController, PoliciesSnapshot, QueueController, QueueSnapshot} from '../../source/core/deck-types.js';
import {Model} from '../../source/core/model.js';

type Fields = Partial<Record<JobField, {default?: string | number; min?: number; max?: number}>>;

export const IMG2IMG_FIELDS: Fields = {
  image: {},
  prompt: {},
  negative: {default: 'blurry, low quality'},
  seed: {default: 'random', min: 0, max: 9007199254740991},
  steps: {default: 20, min: 1, max: 150},
  cfg: {default: 6.5, min: 0, max: 30},
  denoise: {default: 0.6, min: 0, max: 1},
  width: {default: 1024, min: 64, max: 4096},
  height: {default: 1024, min: 64, max: 4096},
};

export const IMG2VID_FIELDS: Fields = {...IMG2IMG_FIELDS, frames: {default: 16, min: 1, max: 64}};

export const WORKFLOWS: WorkflowInfo[] = [
  {ok: false, name: 'broken-flow', problem: 'node 7 has no class_type', source: 'user', manifestPath: '/cfg/broken-flow.manifest.json'},
  {ok: true, name: 'img2img-sdxl', description: 'Image to image with SDXL.', kind: 'image', source: 'shipped', manifestPath: '/w/img2img-sdxl.manifest.json'},
  {ok: true, name: 'img2vid', description: 'Image to a short animation.', kind: 'video', source: 'shipped', manifestPath: '/w/img2vid.manifest.json'},
];

let serial = 0;

export function makeJob(state: Job['state'], overrides: Partial<Job> = {}): Job {
  serial++;
  const createdAtMs = Date.now() - 90_000;
  return {
    id: `20260914100212-j${String(serial).padStart(5, '0')}`,
    spec: {workflow: 'img2img-sdxl', imagePath: '/tmp/cat.png', prompt: 'a cat in a hat', steps: 20},
    state,
    createdAtMs,
    avoidInstances: [],
    attempts: state === 'queued' ? 0 : 1,
    outputs: [],
    ...(state === 'queued' ? {} : {startedAtMs: createdAtMs + 8_000, instanceKey: 'ready', instanceId: 26_001_234}),
    ...overrides,
  };
}

export class TestQueue extends Model<QueueSnapshot> implements QueueController {
  readonly added: Array<{spec: JobSpec; options?: {count?: number}}> = [];
  readonly cancelled: string[] = [];
  readonly retried: string[] = [];
  readonly opened: string[] = [];
  readonly completions: string[] = [];
  cleared = 0;
  /** The sentence add() answers with; undefined queues the job. */
  addAnswer?: string;
  workflowList: WorkflowInfo[] = WORKFLOWS;
  fields: Record<string, Fields> = {'img2img-sdxl': IMG2IMG_FIELDS, img2vid: IMG2VID_FIELDS};
  /** Every file and folder completePath knows (folders end in '/'). */
  files: string[] = [];

  constructor(jobs: Job[] = [], readyInstances = 1) {
    super({jobs, readyInstances});
  }

  set(patch: Partial<QueueSnapshot>): void {
    this.update(previous => ({...previous, ...patch}));
  }

  #patch(id: string, patch: Partial<Job>): void {
    this.set({jobs: this.getSnapshot().jobs.map(job => (job.id === id ? {...job, ...patch} : job))});
  }

  add = async (spec: JobSpec, options?: {count?: number}): Promise<string | undefined> => {
    this.added.push({spec, options});
    if (this.addAnswer) return this.addAnswer;
    const copies = Array.from({length: options?.count ?? 1}, () => makeJob('queued', {spec}));
    this.set({jobs: [...this.getSnapshot().jobs, ...copies]});
    return undefined;
  };

  cancel = (id: string): void => {
    this.cancelled.push(id);
    this.#patch(id, {state: 'cancelled', error: 'Cancelled by the user.', finishedAtMs: Date.now()});
  };

  retry = (id: string): void => {
    this.retried.push(id);
    this.#patch(id, {state: 'queued', error: undefined, attempts: 0});
  };

  clearFinished = (): void => {
    this.cleared++;
    this.set({jobs: this.getSnapshot().jobs.filter(job => job.state !== 'done' && job.state !== 'cancelled')});
  };

  workflows = async (): Promise<WorkflowInfo[]> => this.workflowList;

  workflowFields = async (name: string) => {
    const fields = this.fields[name];
    return fields ? {fields} : {error: `Unknown workflow "${name}".`};
  };

  /** Entries of the folder `partial` points into whose name starts with what follows its last '/' (as the core answers). */
  completePath = async (partial: string): Promise<string[]> => {
    this.completions.push(partial);
    return this.files.filter(path => {
      const rest = path.slice(partial.length).replace(/\/$/, '');
      return path.startsWith(partial) && (rest !== '' || !partial.endsWith('/')) && !rest.includes('/');
    });
  };

  openOutputs = async (id: string): Promise<string> => {
    this.opened.push(id);
    return this.getSnapshot().jobs.find(job => job.id === id)?.outputDir ?? '';
  };
}

export const DEFAULT_POLICIES: PoliciesSnapshot = {destroyWhenDrained: true, idleMinutes: 15, spendCapUsd: 5, spentUsd: 1.23};

export class TestPolicies extends Model<PoliciesSnapshot> implements PoliciesController {
  cancels = 0;
  toggles = 0;

  constructor(initial: Partial<PoliciesSnapshot> = {}) {
    super({...DEFAULT_POLICIES, ...initial});
  }

  set(patch: Partial<PoliciesSnapshot>): void {
    this.update(previous => ({...previous, ...patch}));
  }

  cancelCountdown = (): void => {
    this.cancels++;
    this.set({countdown: undefined});
  };

  toggleDestroyWhenDrained = (): void => {
    this.toggles++;
    this.update(previous => ({...previous, destroyWhenDrained: !previous.destroyWhenDrained}));
  };
}
