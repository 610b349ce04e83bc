// Runs one generation job on one ready instance: upload the input image, bind the job into the
// workflow, submit, follow progress, download every output to outputs/<job>/ and write job.json
// (inputs, workflow, seed, instance, timings, cost share). Called by the GenerationQueue.
import {createHash} from 'node:crypto';
import {createReadStream} from 'node:fs';
import {mkdir, stat} from 'node:fs/promises';
import {basename, join} from 'node:path';
import {writePrivateFile} from '../credentials.js';
import {LocalFileError, toVastdeckError} from '../errors.js';
import {ComfyValidationError} from '../comfy/comfy-errors.js';
import {loadImageValue, type ComfyClient} from '../comfy/client.js';
import type {OutputFile, PromptProgress} from '../comfy/types.js';
import {UnsafeOutputNameError} from '../comfy/output-download.js';
import {bindJob, loadWorkflow} from '../comfy/workflow.js';
import type {Job} from './job-store.js';

export interface JobTarget {
  key: string;
  instanceId?: number;
  gpuName: string;
  /** $/h of the instance, for the job's cost share. */
  dphTotal: number;
  client: ComfyClient;
  /** The cloud's clock (the job's time on the instance is billed by it); this machine's when absent. */
  cloudNowMs?: () => number;
  /** Takes on the instance's downloads no earlier job took (the first job on an instance takes the image and models). */
  claimDownloadsUsd?: () => number;
}

/** How a run ended: 'retry' means the instance failed the job, so another instance should take it. */
export type RunOutcome = 'done' | 'failed' | 'cancelled' | 'retry';

export interface RunHooks {
  update(patch: Partial<Job>): void;
  /** Aborted by cancel (reason 'cancel') or when the instance is lost (reason 'instance-lost'). */
  signal: AbortSignal;
}

export async function runJob(job: Job, target: JobTarget, hooks: RunHooks, outputsRoot: string): Promise<RunOutcome> {
  const startedAtMs = Date.now();
  const cloudStartMs = target.cloudNowMs?.() ?? startedAtMs;
  let gpuStartMs: number | undefined;
  try {
    // The GPU already did this job; only its files could not be saved here: fetch them again.
    if (job.pendingOutputs && job.promptId && job.instanceKey === target.key) {
      return await saveOutputs(job, target, hooks, outputsRoot, {promptId: job.promptId, seed: job.seed, settings: job.settings ?? {}, startedAtMs, cloudStartMs, gpuSeconds: job.gpuSeconds ?? 0, files: job.pendingOutputs});
    }
    const loaded = await loadWorkflow(job.spec.workflow);
    hooks.update({state: 'uploading', startedAtMs, instanceKey: target.key, instanceId: target.instanceId, error: undefined, progress: undefined, pendingOutputs: undefined});
    const upload = await target.client.uploadImage(job.spec.imagePath);
    const bound = bindJob(loaded, job.spec, loadImageValue(upload));
    throwIfAborted(hooks.signal);
    const {promptId} = await target.client.submit(bound.workflow);
    const nodes = Object.entries(bound.workflow).map(([id, node]) => ({id, title: node._meta?.title ?? node.class_type, state: 'pending' as const}));
    hooks.update({state: 'running', promptId, seed: bound.seed, settings: bound.settings, nodes});
    const onAbort = (): void => void target.client.interrupt(promptId).catch(() => {});
    hooks.signal.addEventListener('abort', onAbort, {once: true});
    const result = await target.client.follow(promptId, {
      signal: hooks.signal,
      onProgress: (progress: PromptProgress) => {
        if (progress.nodeId !== undefined) gpuStartMs ??= Date.now();
        hooks.update({progress, nodes: nodeStates(nodes, progress)});
      },
    });
    hooks.signal.removeEventListener('abort', onAbort);
    if (hooks.signal.aborted) return abortedOutcome(hooks);
    if (result.status === 'interrupted') {
      hooks.update({state: 'failed', error: 'ComfyUI interrupted the job on the server (someone pressed cancel there): press r to run it again.', finishedAtMs: Date.now()});
      return 'failed';
    }
    if (result.status === 'error') {
      const where = result.error ? `node ${result.error.nodeId} (${result.error.nodeType}): ${result.error.message}` : 'an unknown node';
      hooks.update({state: 'failed', error: `ComfyUI failed at ${where}.`, finishedAtMs: Date.now()});
      return 'failed';
    }
    const gpuSeconds = (Date.now() - (gpuStartMs ?? startedAtMs)) / 1000;
    return await saveOutputs(job, target, hooks, outputsRoot, {promptId, seed: bound.seed, settings: bound.settings, startedAtMs, cloudStartMs, gpuSeconds, files: result.outputs});
  } catch (error) {
    if (hooks.signal.aborted) return abortedOutcome(hooks);
    const failure = toVastdeckError(error);
    // Bad input is the job's fault, a refused output name the workflow's, a full disk this machine's:
    // no other instance would do better, and re-running the GPU work would not help.
    if (error instanceof ComfyValidationError || failure.code === 'bad-input' || failure.code === 'config' || failure.code === 'local' || error instanceof UnsafeOutputNameError) {
      hooks.update({state: 'failed', error: failure.message, finishedAtMs: Date.now()});
      return 'failed';
    }
    hooks.update({error: failure.message});
    return 'retry';
  }
}

interface FinishedRun {
  promptId: string;
  seed: number | undefined;
  settings: Record<string, unknown>;
  startedAtMs: number;
  /** The cloud's clock when the job began on the instance. */
  cloudStartMs: number;
  gpuSeconds: number;
  files: OutputFile[];
}

/** Downloads every output and writes job.json; a local write problem keeps the list so a retry only downloads. */
async function saveOutputs(job: Job, target: JobTarget, hooks: RunHooks, outputsRoot: string, run: FinishedRun): Promise<RunOutcome> {
  hooks.update({state: 'downloading', instanceKey: target.key, instanceId: target.instanceId, promptId: run.promptId, pendingOutputs: run.files, gpuSeconds: run.gpuSeconds});
  const outputDir = join(outputsRoot, job.id);
  const outputs: string[] = [];
  try {
    await mkdir(outputDir, {recursive: true}).catch((error: NodeJS.ErrnoException) => {
      throw new LocalFileError(`vastdeck cannot create the output folder ${outputDir} (${error.code ?? 'unknown error'}): free some space or fix the permissions, then press r (or run again) to fetch the outputs — they stay on the instance.`, error);
    });
    for (const file of run.files) outputs.push(await target.client.download(file, outputDir));
    const finishedAtMs = Date.now();
    const cost = jobCost(target, run);
    hooks.update({downloadsUsd: cost.downloadsUsd, costUsd: cost.totalUsd});
    await writeJobRecord(outputDir, job, target, {seed: run.seed, settings: run.settings, promptId: run.promptId, startedAtMs: run.startedAtMs, finishedAtMs, gpuSeconds: run.gpuSeconds, outputs, cost}).catch((error: NodeJS.ErrnoException) => {
      throw new LocalFileError(`vastdeck cannot write ${join(outputDir, 'job.json')} (${error.code ?? 'unknown error'}): free some space or fix the permissions; the outputs themselves are saved.`, error);
    });
    hooks.update({state: 'done', outputs, outputDir, finishedAtMs, progress: undefined, pendingOutputs: undefined, error: undefined});
    return 'done';
  } catch (error) {
    if (error instanceof LocalFileError) {
      hooks.update({state: 'failed', error: error.message, finishedAtMs: Date.now(), outputs, outputDir});
      return 'failed';
    }
    throw error;
  }
}

function abortedOutcome(hooks: RunHooks): RunOutcome {
  if (hooks.signal.reason === 'cancel') {
    hooks.update({state: 'cancelled', error: 'Cancelled.', finishedAtMs: Date.now(), progress: undefined});
    return 'cancelled';
  }
  return 'retry';
}

function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw new Error('aborted');
}

function nodeStates(nodes: NonNullable<Job['nodes']>, progress: PromptProgress): NonNullable<Job['nodes']> {
  const runningIndex = nodes.findIndex(node => node.id === progress.nodeId);
  return nodes.map((node, index) => ({
    ...node,
    state: node.id === progress.nodeId ? 'running' : runningIndex === -1 ? (progress.nodesDone >= nodes.length ? 'done' : node.state) : index < runningIndex ? 'done' : node.state,
  }));
}

async function writeJobRecord(
  outputDir: string,
  job: Job,
  target: JobTarget,
  run: {seed: number | undefined; settings: Record<string, unknown>; promptId: string; startedAtMs: number; finishedAtMs: number; gpuSeconds: number; outputs: string[]; cost: JobCost},
): Promise<void> {
  const files = [];
  for (const path of run.outputs) files.push({file: basename(path), bytes: (await stat(path)).size, sha256: await sha256(path)});
  const record = {
    id: job.id,
    inputs: {...job.spec},
    workflow: job.spec.workflow,
    seed: run.seed,
    settings: run.settings,
    promptId: run.promptId,
    instance: {id: target.instanceId, gpu: target.gpuName, dphTotal: target.dphTotal},
    timings: {
      queuedAt: new Date(job.createdAtMs).toISOString(),
      startedAt: new Date(run.startedAtMs).toISOString(),
      finishedAt: new Date(run.finishedAtMs).toISOString(),
      totalSeconds: (run.finishedAtMs - run.startedAtMs) / 1000,
      gpuSeconds: run.gpuSeconds,
      instanceSeconds: run.cost.instanceSeconds,
    },
    cost: {instanceUsd: run.cost.instanceUsd, downloadsUsd: run.cost.downloadsUsd, totalUsd: run.cost.totalUsd},
    costShareUsd: run.cost.totalUsd,
    attempts: job.attempts,
    outputs: files,
  };
  writePrivateFile(join(outputDir, 'job.json'), `${JSON.stringify(record, null, 2)}\n`);
}

interface JobCost {
  /** Seconds of the cloud's clock the job held the instance (upload to outputs home). */
  instanceSeconds: number;
  instanceUsd: number;
  downloadsUsd: number;
  totalUsd: number;
}

/**
 * The job's cost share: the instance's $/h (GPU and disk) for the time it held it, on the cloud's
 * clock, plus the instance's downloads no earlier job on it took (so the shares of all jobs on an
 * instance add up to its downloads plus their time).
 */
function jobCost(target: JobTarget, run: FinishedRun): JobCost {
  const instanceSeconds = Math.max(0, ((target.cloudNowMs?.() ?? Date.now()) - run.cloudStartMs) / 1000);
  const instanceUsd = (target.dphTotal * instanceSeconds) / 3600;
  const downloadsUsd = target.claimDownloadsUsd?.() ?? 0;
  return {instanceSeconds, instanceUsd, downloadsUsd, totalUsd: instanceUsd + downloadsUsd};
}

function sha256(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', chunk => hash.update(chunk))
      .on('end', () => resolve(hash.digest('hex')))
      .on('error', reject);
  });
}
