// Runs one generation job on one ready instance: upload the input image, bind the job into the
// workflow, submit, follow progress, download every output to outputs/<job>/ and write job.json
// (inputs, workflow, seed, instance, timings, cost share). Called by the GenerationQueue.
import {createHash} from 'node:crypto';
import {createReadStream} from 'node:fs';
import {mkdir, stat} from 'node:fs/promises';
import {basename, join} from 'node:path';
import {writePrivateFile} from '../credentials.js';
import {toVastdeckError} from '../errors.js';
import {ComfyValidationError} from '../comfy/comfy-errors.js';
import {loadImageValue, type ComfyClient} from '../comfy/client.js';
import type {PromptProgress} from '../comfy/types.js';
import {bindJob, loadWorkflow} from '../comfy/workflow.js';
import type {Job} from './job-store.js';

export interface JobTarget {
  key: string;
  instanceId?: number;
  gpuName: string;
  /** $/h of the instance, for the job's cost share. */
  dphTotal: number;
  client: ComfyClient;
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
  let gpuStartMs: number | undefined;
  try {
    const loaded = await loadWorkflow(job.spec.workflow);
    hooks.update({state: 'uploading', startedAtMs, instanceKey: target.key, instanceId: target.instanceId, error: undefined, progress: undefined});
    const upload = await target.client.uploadImage(job.spec.imagePath);
    const bound = bindJob(loaded, job.spec, loadImageValue(upload));
    throwIfAborted(hooks.signal);
    const {promptId} = await target.client.submit(bound.workflow);
    const nodes = Object.entries(bound.workflow).map(([id, node]) => ({id, title: node._meta?.title ?? node.class_type, state: 'pending' as const}));
    hooks.update({state: 'running', promptId, seed: bound.seed, nodes});
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
    hooks.update({state: 'downloading'});
    const outputDir = join(outputsRoot, job.id);
    await mkdir(outputDir, {recursive: true});
    const outputs: string[] = [];
    for (const file of result.outputs) outputs.push(await target.client.download(file, outputDir));
    const finishedAtMs = Date.now();
    const gpuSeconds = (finishedAtMs - (gpuStartMs ?? startedAtMs)) / 1000;
    await writeJobRecord(outputDir, job, target, {seed: bound.seed, settings: bound.settings, promptId, startedAtMs, finishedAtMs, gpuSeconds, outputs});
    hooks.update({state: 'done', outputs, outputDir, finishedAtMs, progress: undefined});
    return 'done';
  } catch (error) {
    if (hooks.signal.aborted) return abortedOutcome(hooks);
    const failure = toVastdeckError(error);
    // Bad input is the job's fault: no other instance would do better.
    if (error instanceof ComfyValidationError || failure.code === 'bad-input' || failure.code === 'config') {
      hooks.update({state: 'failed', error: failure.message, finishedAtMs: Date.now()});
      return 'failed';
    }
    hooks.update({error: failure.message});
    return 'retry';
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
  run: {seed: number | undefined; settings: Record<string, unknown>; promptId: string; startedAtMs: number; finishedAtMs: number; gpuSeconds: number; outputs: string[]},
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
    },
    costShareUsd: (target.dphTotal * run.gpuSeconds) / 3600,
    attempts: job.attempts,
    outputs: files,
  };
  writePrivateFile(join(outputDir, 'job.json'), `${JSON.stringify(record, null, 2)}\n`);
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
