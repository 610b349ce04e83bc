// The generation queue's jobs on disk, so they survive a restart: one JSON file (0600, atomic
// writes). A job that was mid-flight when vastdeck stopped is put back in the queue on load.
import {readFileSync, renameSync} from 'node:fs';
import {dirname} from 'node:path';
import {ensurePrivateDir, writePrivateFile} from '../credentials.js';
import type {JobSpec, JobState, OutputFile, PromptProgress} from '../comfy/types.js';

export interface Job {
  id: string;
  spec: JobSpec;
  state: JobState;
  createdAtMs: number;
  startedAtMs?: number;
  finishedAtMs?: number;
  /** Ledger key and Vast id of the instance it runs (or ran) on. */
  instanceKey?: string;
  instanceId?: number;
  /** Instances this job failed on, not to be tried again. */
  avoidInstances: string[];
  attempts: number;
  promptId?: string;
  seed?: number;
  progress?: PromptProgress;
  /** Per node: title and state, for the detail view. */
  nodes?: Array<{id: string; title: string; state: 'pending' | 'running' | 'done' | 'cached'}>;
  /** Local paths of the downloaded outputs. */
  outputs: string[];
  outputDir?: string;
  /** One sentence when failed or cancelled. */
  error?: string;
  /** The settings the workflow was bound with (manifest defaults filled in). */
  settings?: Record<string, unknown>;
  /** GPU seconds of the run (ComfyUI executing). */
  gpuSeconds?: number;
  /** The instance's downloads (image, models) this job took on as its share, $ (the first job on an instance takes them). */
  downloadsUsd?: number;
  /** What the job cost: its instance's $/h while it held it, plus its downloads share. */
  costUsd?: number;
  /** Outputs ComfyUI finished that are not saved here yet: a retry only downloads them. */
  pendingOutputs?: OutputFile[];
}

const IN_FLIGHT: ReadonlySet<JobState> = new Set(['uploading', 'running', 'downloading']);

export class JobStore {
  readonly path: string | undefined;
  /** One sentence each: a damaged file that was moved aside. */
  readonly warnings: string[] = [];
  #jobs: Job[] = [];

  /** `path` undefined keeps the jobs in memory only (one `vastdeck run`). */
  constructor(path?: string) {
    this.path = path;
    if (path) this.#jobs = this.#load(path);
  }

  all(): Job[] {
    return this.#jobs;
  }

  /** Adds or replaces a job; `persist: false` for live progress, which is not worth a disk write. */
  put(job: Job, options: {persist?: boolean} = {}): void {
    const index = this.#jobs.findIndex(candidate => candidate.id === job.id);
    if (index === -1) this.#jobs.push(job);
    else this.#jobs[index] = job;
    if (options.persist !== false) this.save();
  }

  save(): void {
    if (!this.path) return;
    ensurePrivateDir(dirname(this.path));
    writePrivateFile(this.path, `${JSON.stringify({version: 1, jobs: this.#jobs}, null, 2)}\n`);
  }

  #load(path: string): Job[] {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      return [];
    }
    try {
      const parsed = JSON.parse(text) as {jobs?: Job[]};
      if (!Array.isArray(parsed.jobs)) throw new Error('no jobs array');
      return parsed.jobs.map(job =>
        IN_FLIGHT.has(job.state) ? {...job, state: 'queued' as const, progress: undefined, error: undefined, promptId: undefined} : job,
      );
    } catch {
      const aside = `${path}.corrupt-${Date.now()}`;
      renameSync(path, aside);
      this.warnings.push(`The queue file ${path} was damaged; it was moved to ${aside} and the queue starts empty.`);
      return [];
    }
  }
}
