// The generation queue against simulated ComfyUIs behind real portal gates over loopback: jobs
// spread over instances least-busy first, outputs land in outputs/<job>/ with job.json, a job
// whose instance is lost is retried elsewhere, cancel and failures, and persistence.
import {mkdtempSync, readFileSync, writeFileSync, existsSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {PNG} from 'pngjs';
import {afterEach, beforeAll, describe, expect, it} from 'vitest';
import {addJobs} from '../../source/core/usecases/run-jobs.js';
import {GenerationQueue, type ReadyInstance} from '../../source/core/queue/generation-queue.js';
import {JobStore, type Job} from '../../source/core/queue/job-store.js';
import {createSimComfy, type SimComfy} from '../../source/sim/comfy/comfy-server.js';
import {startPortalGate} from '../../source/sim/portal-gate.js';
import {VirtualFs} from '../../source/sim/virtual-fs.js';

const CHECKPOINTS = '/workspace/ComfyUI/models/checkpoints';
let work: string;
let image: string;
const cleanups: Array<() => Promise<void>> = [];

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'vastdeck-queue-'));
  image = join(work, 'fox.png');
  const png = new PNG({width: 40, height: 24});
  for (let index = 0; index < png.data.length; index++) png.data[index] = (index * 7) % 256;
  writeFileSync(image, PNG.sync.write(png));
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startComfy(key: string, speed = 4): Promise<{instance: ReadyInstance; comfy: SimComfy; close: () => Promise<void>}> {
  const fs = new VirtualFs();
  for (const dir of ['/workspace/ComfyUI/input', '/workspace/ComfyUI/output', CHECKPOINTS]) fs.mkdir(dir);
  fs.write(`${CHECKPOINTS}/sd_xl_base_1.0.safetensors`, 'weights');
  const comfy = createSimComfy({fs, speed, gpuName: 'RTX 4090', listening: () => true});
  const token = `token-${key}`;
  const gate = await startPortalGate({instanceId: 1, webUsername: 'vastai', webPassword: token, openButtonToken: '', isAppUp: () => true, handleRequest: comfy.handleRequest, handleUpgrade: comfy.handleUpgrade});
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await gate.close();
    await comfy.close();
  };
  cleanups.push(close);
  return {instance: {key, instanceId: Number(key.replace(/\D/g, '')) || 1, gpuName: 'RTX 4090', dphTotal: 0.5, comfyui: `http://127.0.0.1:${gate.port}`, token}, comfy, close};
}

function openQueue(instances: () => readonly ReadyInstance[], store = new JobStore()): GenerationQueue {
  const queue = new GenerationQueue({store, instances, outputsRoot: join(work, 'outputs'), dispatchMs: 100, clientOptions: {watchdogMs: 2000, pollMs: 200, unreachableMs: 1500}});
  cleanups.push(() => queue.stop());
  queue.start();
  return queue;
}

async function until(queue: GenerationQueue, predicate: (jobs: readonly Job[]) => boolean, timeoutMs = 30_000): Promise<readonly Job[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    queue.flush();
    const jobs = queue.getSnapshot().jobs;
    if (predicate(jobs)) return jobs;
    if (Date.now() > deadline) throw new Error(`timed out: ${JSON.stringify(jobs.map(job => [job.id, job.state, job.instanceKey, job.error]))}`);
    await new Promise(resolve => setTimeout(resolve, 50));
  }
}

const spec = () => ({workflow: 'img2img-sdxl', imagePath: image, prompt: 'a fox in snow', steps: 8, width: 256, height: 256});

describe('generation queue', () => {
  it('spreads jobs over every ready instance and brings each output home with job.json', async () => {
    const a = await startComfy('inst-1');
    const b = await startComfy('inst-2');
    const queue = openQueue(() => [a.instance, b.instance]);
    await addJobs(queue, {...spec(), seed: 100}, 4);
    const jobs = await until(queue, all => all.length === 4 && all.every(job => job.state === 'done'));
    expect(new Set(jobs.map(job => job.instanceKey))).toEqual(new Set(['inst-1', 'inst-2']));
    expect(jobs.map(job => job.seed).sort()).toEqual([100, 101, 102, 103]);
    for (const job of jobs) {
      expect(job.outputs).toHaveLength(1);
      const png = PNG.sync.read(readFileSync(job.outputs[0]!));
      expect(png.width).toBe(256);
      const record = JSON.parse(readFileSync(join(job.outputDir!, 'job.json'), 'utf8')) as {seed: number; instance: {gpu: string}; outputs: Array<{sha256: string}>; costShareUsd: number};
      expect(record.seed).toBe(job.seed);
      expect(record.instance.gpu).toBe('RTX 4090');
      expect(record.outputs[0]!.sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(record.costShareUsd).toBeGreaterThan(0);
    }
  });

  it('a job’s cost share is its instance time on the cloud’s clock plus the downloads no earlier job took', async () => {
    const a = await startComfy('inst-1');
    const startMs = Date.now();
    // The demo's cloud runs 10× faster; the instance has spent $0.30 on its image and models.
    const billing = {cloudNowMs: () => 1_800_000_000_000 + (Date.now() - startMs) * 10, downloadsUsd: () => 0.3};
    const queue = openQueue(() => [{...a.instance, billing}]);
    await addJobs(queue, spec(), 3);
    const jobs = await until(queue, all => all.length === 3 && all.every(job => job.state === 'done'));
    const records = jobs.map(job => JSON.parse(readFileSync(join(job.outputDir!, 'job.json'), 'utf8')) as {timings: {totalSeconds: number; instanceSeconds: number}; cost: {instanceUsd: number; downloadsUsd: number; totalUsd: number}; costShareUsd: number});
    // The downloads are taken on once, whole, by the first job to finish.
    expect(records.map(record => record.cost.downloadsUsd).sort()).toEqual([0, 0, 0.3]);
    for (const record of records) {
      expect(Math.abs(record.timings.instanceSeconds - 10 * record.timings.totalSeconds)).toBeLessThan(0.05);
      expect(record.cost.instanceUsd).toBeCloseTo((0.5 * record.timings.instanceSeconds) / 3600, 10);
      expect(record.costShareUsd).toBe(record.cost.totalUsd);
      expect(record.cost.totalUsd).toBeCloseTo(record.cost.instanceUsd + record.cost.downloadsUsd, 12);
    }
    expect(jobs.reduce((sum, job) => sum + job.downloadsUsd!, 0)).toBeCloseTo(0.3, 12);
  });

  it('retries a job on another instance when its instance is lost mid-job', async () => {
    const a = await startComfy('inst-1', 0.5);
    const b = await startComfy('inst-2');
    let ready = [a.instance];
    const queue = openQueue(() => ready);
    const [job] = await addJobs(queue, spec());
    await until(queue, all => all[0]?.state === 'running' && all[0].instanceKey === 'inst-1');
    await a.close();
    ready = [b.instance];
    const [finished] = await until(queue, all => all[0]?.state === 'done');
    expect(finished!.id).toBe(job!.id);
    expect(finished!.instanceKey).toBe('inst-2');
    expect(finished!.attempts).toBe(2);
    expect(finished!.avoidInstances).toEqual(['inst-1']);
  });

  it('cancels a running job and interrupts it on the server', async () => {
    const a = await startComfy('inst-1', 0.5);
    const queue = openQueue(() => [a.instance]);
    const [job] = await addJobs(queue, spec());
    await until(queue, all => all[0]?.state === 'running');
    queue.cancel(job!.id);
    const [cancelled] = await until(queue, all => all[0]?.state === 'cancelled');
    expect(cancelled!.outputs).toEqual([]);
    // ComfyUI checks the interrupt flag between nodes and sampler steps.
    const deadline = Date.now() + 15_000;
    while (a.comfy.runningPromptId() !== undefined && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 50));
    expect(a.comfy.runningPromptId()).toBeUndefined();
  });

  it('fails a job ComfyUI fails, without retrying it elsewhere', async () => {
    const a = await startComfy('inst-1');
    const b = await startComfy('inst-2');
    a.comfy.failNextJob();
    const queue = openQueue(() => [a.instance, b.instance]);
    await addJobs(queue, spec());
    const [failed] = await until(queue, all => all[0]?.state === 'failed');
    expect(failed!.attempts).toBe(1);
    expect(failed!.error).toMatch(/ComfyUI failed at node/);
  });

  it('refuses bad jobs with one sentence before queueing them', async () => {
    const queue = openQueue(() => []);
    await expect(addJobs(queue, {...spec(), imagePath: join(work, 'missing.png')})).rejects.toThrow(/does not exist/);
    writeFileSync(join(work, 'notes.png'), 'not an image');
    await expect(addJobs(queue, {...spec(), imagePath: join(work, 'notes.png')})).rejects.toThrow(/image/i);
    await expect(addJobs(queue, {...spec(), workflow: 'no-such-workflow'})).rejects.toThrow(/no-such-workflow/);
    await expect(addJobs(queue, {...spec(), steps: 100_000})).rejects.toThrow(/steps/);
    expect(queue.getSnapshot().jobs).toEqual([]);
  });

  it('keeps jobs across a restart and puts interrupted ones back in the queue', async () => {
    const path = join(work, 'state', 'queue.json');
    const first = openQueue(() => [], new JobStore(path));
    await addJobs(first, spec(), 2);
    await first.stop();
    const saved = JSON.parse(readFileSync(path, 'utf8')) as {jobs: Job[]};
    saved.jobs[0]!.state = 'running';
    writeFileSync(path, JSON.stringify(saved));
    const store = new JobStore(path);
    expect(store.all().map(job => job.state)).toEqual(['queued', 'queued']);
    const a = await startComfy('inst-1');
    const second = openQueue(() => [a.instance], store);
    await until(second, all => all.length === 2 && all.every(job => job.state === 'done'));
    expect(existsSync(path)).toBe(true);
  });
});
