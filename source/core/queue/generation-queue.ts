// The generation queue: jobs (workflow + input image + prompt + settings) spread over every READY
// instance, least busy first, keeping each GPU busy (one job running and one waiting on its
// server). Jobs persist; a job whose instance dies is retried elsewhere. Used by the dashboard's
// Queue pane and by `vastdeck run`.
import {randomUUID} from 'node:crypto';
import {ComfyClient} from '../comfy/client.js';
import type {JobSpec} from '../comfy/types.js';
import type {MessageLevel, QueueSnapshot} from '../deck-types.js';
import {toVastdeckError} from '../errors.js';
import {Model} from '../model.js';
import type {Job, JobStore} from './job-store.js';
import {runJob, type RunOutcome} from './run-job.js';

/** An instance jobs can run on: READY, with its portal URL and token. */
export interface ReadyInstance {
  key: string;
  instanceId?: number;
  gpuName: string;
  dphTotal: number;
  comfyui: string;
  token: string;
  /** What the job's cost share is measured with (the cloud's clock, the instance's downloads so far). */
  billing?: InstanceBilling;
}

export interface InstanceBilling {
  /** The cloud's clock, epoch ms (billing runs on it; in the demo it is faster than the wall's). */
  cloudNowMs(): number;
  /** $ the instance has spent on downloads (image pull and provisioning) so far. */
  downloadsUsd(): number;
}

export interface QueueOptions {
  store: JobStore;
  instances: () => readonly ReadyInstance[];
  outputsRoot: string;
  notify?: (text: string, level?: MessageLevel) => void;
  /** Jobs in flight per instance: one running and one waiting (2). */
  perInstance?: number;
  /** Instances a job may fail on before it is given up (3). */
  maxAttempts?: number;
  dispatchMs?: number;
  clientOptions?: {watchdogMs?: number; pollMs?: number; unreachableMs?: number};
  /**
   * The instances given are all there will ever be (one `vastdeck run`): a job with no instance left
   * to try fails at once with its reason instead of waiting for one that will never come.
   */
  closed?: boolean;
  /** Why an instance is no longer ready (gone, stopped), for the lost job's sentence. */
  whyLost?: (instanceKey: string) => string | undefined;
  /** A job's outputs are safely home (its local files): the instance's autostop may now destroy them there. */
  onOutputsHome?: (instanceKey: string, localPaths: readonly string[]) => void;
}

interface Running {
  controller: AbortController;
  instanceKey: string;
}

export class GenerationQueue extends Model<QueueSnapshot> {
  readonly #options: QueueOptions;
  readonly #running = new Map<string, Running>();
  readonly #clients = new Map<string, {client: ComfyClient; comfyui: string; token: string}>();
  #timer: NodeJS.Timeout | undefined;

  constructor(options: QueueOptions) {
    super({jobs: [...options.store.all()], readyInstances: 0});
    this.#options = options;
    for (const warning of options.store.warnings) options.notify?.(warning, 'warn');
  }

  /** Where each job's outputs/<job>/ folder goes. */
  get outputsRoot(): string {
    return this.#options.outputsRoot;
  }

  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => this.dispatch(), this.#options.dispatchMs ?? 1000);
    this.#timer.unref();
    this.dispatch();
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    for (const running of this.#running.values()) running.controller.abort('shutdown');
    await Promise.all([...this.#clients.values()].map(entry => entry.client.close()));
    this.#clients.clear();
  }

  /**
   * Queues `count` copies of a job with successive seeds. The job must already be checked
   * (usecases/run-jobs.ts addJobs: workflow, settings, image, outputs folder) — nothing here rents.
   */
  enqueue(spec: JobSpec, count = 1): Job[] {
    const jobs: Job[] = [];
    for (let index = 0; index < count; index++) {
      const seed = spec.seed === undefined ? undefined : spec.seed + index;
      const job: Job = {id: newJobId(), spec: {...spec, seed}, state: 'queued', createdAtMs: Date.now(), avoidInstances: [], attempts: 0, outputs: []};
      this.#options.store.put(job);
      jobs.push(job);
    }
    this.#publish();
    this.dispatch();
    return jobs;
  }

  cancel(id: string): void {
    const job = this.#find(id);
    if (!job) return;
    const running = this.#running.get(id);
    if (running) running.controller.abort('cancel');
    else if (job.state === 'queued') this.#patch(id, {state: 'cancelled', error: 'Cancelled before it started.', finishedAtMs: Date.now()});
  }

  retry(id: string): void {
    const job = this.#find(id);
    if (!job || (job.state !== 'failed' && job.state !== 'cancelled')) return;
    this.#patch(id, {state: 'queued', error: undefined, avoidInstances: [], attempts: 0, progress: undefined, finishedAtMs: undefined});
    this.dispatch();
  }

  /** Removes finished jobs from the list (their outputs stay on disk). */
  clearFinished(): void {
    const keep = this.#options.store.all().filter(job => job.state !== 'done' && job.state !== 'cancelled');
    this.#options.store.all().splice(0, Infinity, ...keep);
    this.#options.store.save();
    this.#publish();
  }

  /** Starts queued jobs on ready instances; aborts jobs whose instance is no longer ready. */
  dispatch(): void {
    const ready = this.#options.instances();
    const readyKeys = new Set(ready.map(instance => instance.key));
    for (const running of this.#running.values()) if (!readyKeys.has(running.instanceKey)) running.controller.abort('instance-lost');
    for (const [key, entry] of this.#clients) {
      if (!readyKeys.has(key)) {
        void entry.client.close();
        this.#clients.delete(key);
      }
    }
    const load = new Map(ready.map(instance => [instance.key, 0]));
    for (const running of this.#running.values()) load.set(running.instanceKey, (load.get(running.instanceKey) ?? 0) + 1);
    const perInstance = this.#options.perInstance ?? 2;
    for (const job of this.#options.store.all()) {
      if (job.state !== 'queued' || this.#running.has(job.id)) continue;
      // Outputs finished on an instance that is gone: the job has to run again from the start.
      if (job.pendingOutputs && !readyKeys.has(job.instanceKey ?? '')) this.#patch(job.id, {pendingOutputs: undefined, promptId: undefined});
      const eligible = ready.filter(instance => !job.avoidInstances.includes(instance.key) && (!job.pendingOutputs || instance.key === job.instanceKey));
      if (eligible.length === 0 && this.#options.closed && this.#running.size === 0) {
        this.#giveUp(job.id, job.error ? `No instance is left to run it on (${job.error.replace(/[.\s]+$/, '')})` : 'No instance is left to run it on');
        continue;
      }
      const target = eligible.filter(instance => (load.get(instance.key) ?? 0) < perInstance).sort((a, b) => (load.get(a.key) ?? 0) - (load.get(b.key) ?? 0))[0];
      if (!target) continue;
      load.set(target.key, (load.get(target.key) ?? 0) + 1);
      this.#launch(job, target);
    }
    this.#publish(ready.length);
  }

  #launch(job: Job, instance: ReadyInstance): void {
    const controller = new AbortController();
    this.#running.set(job.id, {controller, instanceKey: instance.key});
    this.#patch(job.id, {attempts: job.attempts + 1});
    const billing = instance.billing;
    const target = {
      key: instance.key,
      instanceId: instance.instanceId,
      gpuName: instance.gpuName,
      dphTotal: instance.dphTotal,
      client: this.#clientFor(instance),
      ...(billing ? {cloudNowMs: () => billing.cloudNowMs(), claimDownloadsUsd: () => this.#claimDownloads(instance.key, job.id, billing)} : {}),
    };
    runJob(this.#find(job.id)!, target, {update: patch => this.#patch(job.id, patch), signal: controller.signal}, this.#options.outputsRoot)
      .catch((error: unknown): RunOutcome => {
        this.#patch(job.id, {error: toVastdeckError(error).message});
        return 'retry';
      })
      .then(outcome => this.#finish(job.id, instance, outcome, controller.signal));
  }

  /** The instance's downloads no earlier job on it has taken on yet (the first job takes the image and the models). */
  #claimDownloads(instanceKey: string, jobId: string, billing: InstanceBilling): number {
    const taken = this.#options.store.all().filter(job => job.instanceKey === instanceKey && job.id !== jobId).reduce((sum, job) => sum + (job.downloadsUsd ?? 0), 0);
    return Math.max(0, billing.downloadsUsd() - taken);
  }

  #finish(jobId: string, instance: ReadyInstance, outcome: RunOutcome, signal: AbortSignal): void {
    this.#running.delete(jobId);
    const job = this.#find(jobId);
    if (!job) return;
    if (outcome === 'done') {
      this.#options.notify?.(`Job ${jobId} done: ${job.outputs.length} file(s) in ${job.outputDir}.`, 'info');
      this.#options.onOutputsHome?.(instance.key, job.outputs);
    }
    if (outcome === 'failed') this.#options.notify?.(`Job ${jobId} failed: ${job.error ?? 'unknown error'}`, 'error');
    if (outcome === 'retry' && signal.reason !== 'shutdown') {
      const avoid = [...job.avoidInstances, instance.key];
      const maxAttempts = this.#options.maxAttempts ?? 3;
      const where = `instance ${instance.instanceId ?? instance.key}`;
      const lost = signal.reason === 'instance-lost' ? (this.#options.whyLost?.(instance.key) ?? `${where} stopped being READY`) : undefined;
      const reason = (lost ?? job.error ?? `${where} stopped answering`).replace(/[.\s]+$/, '');
      const others = this.#options.instances().filter(candidate => !avoid.includes(candidate.key));
      if (job.attempts >= maxAttempts) {
        this.#patch(jobId, {state: 'failed', avoidInstances: avoid, finishedAtMs: Date.now(), error: `Failed on ${job.attempts} instances; last problem: ${reason}.`});
        this.#options.notify?.(`Job ${jobId} failed on ${job.attempts} instances: press r to try again.`, 'error');
      } else if (this.#options.closed && others.length === 0) {
        this.#patch(jobId, {avoidInstances: avoid});
        this.#giveUp(jobId, `It failed on ${where} and no other instance is left (${reason})`);
      } else {
        this.#patch(jobId, {state: 'queued', avoidInstances: avoid, progress: undefined, promptId: undefined, error: `Lost ${where}: ${reason}.`});
        this.#options.notify?.(`Job ${jobId} lost its instance ${instance.instanceId ?? instance.key}; it goes to another one.`, 'warn');
      }
    }
    this.dispatch();
  }

  #giveUp(jobId: string, why: string): void {
    this.#patch(jobId, {state: 'failed', finishedAtMs: Date.now(), progress: undefined, error: `${why}.`});
    this.#options.notify?.(`Job ${jobId} failed: ${why}.`, 'error');
  }

  #clientFor(instance: ReadyInstance): ComfyClient {
    const known = this.#clients.get(instance.key);
    if (known && known.comfyui === instance.comfyui && known.token === instance.token) return known.client;
    if (known) void known.client.close();
    const client = new ComfyClient({baseUrl: instance.comfyui, token: instance.token, ...this.#options.clientOptions});
    this.#clients.set(instance.key, {client, comfyui: instance.comfyui, token: instance.token});
    return client;
  }

  #find(id: string): Job | undefined {
    return this.#options.store.all().find(job => job.id === id);
  }

  #patch(id: string, patch: Partial<Job>): void {
    const job = this.#find(id);
    if (!job) return;
    const progressOnly = Object.keys(patch).every(key => key === 'progress' || key === 'nodes');
    this.#options.store.put({...job, ...patch}, {persist: !progressOnly});
    this.#publish();
  }

  /** Publishes the jobs, unless nothing changed (the 1 s dispatch must not redraw an idle dashboard). */
  #publish(readyInstances = this.getSnapshot().readyInstances): void {
    const jobs = this.#options.store.all();
    const previous = this.getSnapshot();
    if (previous.readyInstances === readyInstances && previous.jobs.length === jobs.length && jobs.every((job, index) => job === previous.jobs[index])) return;
    this.update({jobs: [...jobs], readyInstances});
  }
}

function newJobId(): string {
  const stamp = new Date().toISOString().slice(0, 19).replace(/[-:T]/g, '');
  return `${stamp}-${randomUUID().slice(0, 6)}`;
}
