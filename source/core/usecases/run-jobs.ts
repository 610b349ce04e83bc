// Run jobs: validate → queue → dispatch → follow → outputs home → each failure reported in one
// sentence. The dashboard's Queue pane and `vastdeck run` both add jobs through addJobs and run them
// through the same GenerationQueue and runJob; `vastdeck run` gives the queue a closed set of
// instances and watches their health, so a job that cannot run anywhere fails with its reason
// instead of waiting for an instance that will never come. While they run, an instance with an
// autostop watchdog gets vastdeck's heartbeat and the list of outputs already home (docs/autostop.md).
import type {JobSpec} from '../comfy/types.js';
import {portalUrls, sshEndpoint} from '../instances/endpoints.js';
import {probeComfy} from '../instances/probe.js';
import {InputError, toVastdeckError} from '../errors.js';
import {GenerationQueue, type ReadyInstance} from '../queue/generation-queue.js';
import {JobStore, type Job} from '../queue/job-store.js';
import {Heartbeat, heartbeatPace, OwnConnection} from '../ssh/heartbeat.js';
import {findSshIdentity} from '../ssh/keys.js';
import {hostPinKey} from '../ssh/known-hosts.js';
import {getInstance, listInstances} from '../vast/instances-api.js';
import type {DeckContext} from './context.js';
import {cloudSpeed} from './pace.js';
import {validateJob} from './validate.js';

/** Checks the job locally (validateJob, against the queue's outputs folder) and queues `count` copies with successive seeds. */
export async function addJobs(queue: GenerationQueue, spec: JobSpec, count = 1): Promise<Job[]> {
  const valid = await validateJob(spec, {outputsRoot: queue.outputsRoot, count});
  return queue.enqueue(valid.spec, count);
}

export const FINISHED_JOB_STATES: ReadonlySet<string> = new Set(['done', 'failed', 'cancelled']);

export interface RunJobsOptions {
  /** Already validated (validateJob) so nothing is rented for a job that cannot run. */
  spec: JobSpec;
  count: number;
  signal?: AbortSignal;
  /** Every change of a job (progress throttled by the queue's ≤10 Hz notifications). */
  onUpdate?: (jobs: readonly Job[]) => void;
  /** Between health checks of the instance (5 s live; shorter against a fast simulator). */
  healthMs?: number;
}

/**
 * Runs the jobs on one READY instance and resolves when every one has ended (done, failed or
 * cancelled). The instance is watched: when it leaves the account or stops running, its jobs fail
 * with that reason within one health interval.
 */
export async function runJobsOn(ctx: DeckContext, target: ReadyInstance, options: RunJobsOptions): Promise<Job[]> {
  const health = new HealthWatch(ctx, target, options.healthMs ?? Math.max(500, 5000 / cloudSpeed(ctx)));
  const link = await autostopLink(ctx, target);
  const queue = new GenerationQueue({
    store: new JobStore(),
    instances: () => (health.lost ? [] : [target]),
    outputsRoot: ctx.outputsRoot(),
    dispatchMs: 500,
    closed: true,
    whyLost: () => health.lost,
    clientOptions: {unreachableMs: 20_000},
    onOutputsHome: (_key, paths) => link?.heartbeat.markHome(paths),
  });
  health.onLost = () => queue.dispatch();
  const ids = queue.enqueue(options.spec, options.count).map(job => job.id);
  queue.start();
  health.start();
  try {
    return await new Promise<Job[]>(resolve => {
      const check = (): void => {
        const jobs = queue.getSnapshot().jobs.filter(job => ids.includes(job.id));
        options.onUpdate?.(jobs);
        if (jobs.every(job => FINISHED_JOB_STATES.has(job.state))) {
          unsubscribe();
          resolve(jobs);
        }
      };
      const unsubscribe = queue.subscribe(check);
      options.signal?.addEventListener('abort', () => ids.forEach(id => queue.cancel(id)), {once: true});
      check();
    });
  } finally {
    health.stop();
    await queue.stop();
    await link?.close();
  }
}

/** The heartbeat over a connection of its own, when the instance has a watchdog and vastdeck an SSH key. */
async function autostopLink(ctx: DeckContext, target: ReadyInstance): Promise<{heartbeat: Heartbeat; close(): Promise<void>} | undefined> {
  if (target.instanceId === undefined) return undefined;
  const instance = await getInstance(ctx.client, target.instanceId).catch(() => undefined);
  const endpoint = instance && sshEndpoint(instance);
  const identity = instance?.autostop && endpoint ? await findSshIdentity(ctx.env).catch(() => undefined) : undefined;
  if (!endpoint || !identity) return undefined;
  const connection = new OwnConnection({...endpoint, identity, pinKey: hostPinKey(ctx.apiOrigin, target.instanceId), knownHosts: ctx.knownHosts});
  const heartbeat = new Heartbeat({client: connection.client, intervalMs: heartbeatPace(ctx)});
  heartbeat.start();
  return {
    heartbeat,
    close: async () => {
      heartbeat.stop();
      // The last outputs go on the instance's list before vastdeck lets go of it.
      await heartbeat.flush();
      connection.close();
    },
  };
}

/** A running instance on the account whose ComfyUI answers, with its token (ours, or the platform's). */
export async function readyInstance(ctx: DeckContext, id: number): Promise<ReadyInstance> {
  const instance = (await listInstances(ctx.client)).find(candidate => candidate.id === id);
  if (!instance) throw new InputError(`Instance ${id} is not on this account (it may have been destroyed, or the id is wrong).`);
  const entry = ctx.ledger.findByInstanceId(ctx.apiOrigin, id);
  const token = entry?.webPassword ?? instance.jupyterToken ?? undefined;
  const comfyui = portalUrls(instance).comfyui;
  if (!comfyui || !token) throw new InputError(`Instance ${id} has no ComfyUI portal (or no token) yet: wait for it with \`vastdeck watch ${id}\`.`);
  const probe = await probeComfy(comfyui, token);
  if (!probe.ok) throw new InputError(`Instance ${id} is not READY (ComfyUI answered ${probe.status ?? 'nothing'}): wait for it with \`vastdeck watch ${id}\`.`);
  return {key: entry?.localId ?? `instance-${id}`, instanceId: id, gpuName: instance.gpuName, dphTotal: instance.dphTotal, comfyui, token, billing: ctx.spend.jobBilling(id)};
}

/** Polls the one instance a `vastdeck run` uses; `lost` says why it can no longer run jobs. */
class HealthWatch {
  lost: string | undefined;
  onLost: (() => void) | undefined;
  #timer: NodeJS.Timeout | undefined;
  #checking = false;
  #missing = 0;

  constructor(
    readonly ctx: DeckContext,
    readonly target: ReadyInstance,
    readonly intervalMs: number,
  ) {}

  start(): void {
    this.#timer = setInterval(() => void this.#check(), this.intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
  }

  async #check(): Promise<void> {
    if (this.#checking || this.lost || this.target.instanceId === undefined) return;
    this.#checking = true;
    try {
      const instance = await getInstance(this.ctx.client, this.target.instanceId);
      if (instance) this.ctx.spend.observe([instance], undefined, {partial: true});
      if (!instance) {
        if (++this.#missing >= 2) this.#lose(`instance ${this.target.instanceId} is no longer on the account`);
      } else if (instance.actualStatus !== 'running') {
        this.#lose(`instance ${this.target.instanceId} is ${instance.actualStatus ?? 'not running'}${instance.statusMsg ? ` (${instance.statusMsg.trim()})` : ''}`);
      } else this.#missing = 0;
    } catch (error) {
      // The API being slow is not the instance's fault; the ComfyUI client has its own limits.
      void toVastdeckError(error);
    } finally {
      this.#checking = false;
    }
  }

  #lose(reason: string): void {
    this.lost = reason;
    this.stop();
    this.onLost?.();
  }
}
