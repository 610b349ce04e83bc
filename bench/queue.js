// Issue 4 figures: the per-job overhead of vastdeck's queue + ComfyUI client (wall time beyond the
// simulated ComfyUI's own execution time), and throughput with 1, 2, 4 and 8 simulated instances
// as a fraction of ideal linear scaling. Each instance is a simulated ComfyUI behind a real portal
// gate on loopback; all of it shares this machine's cores with the client.
import {mkdtempSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {PNG} from 'pngjs';
import {createSimComfy} from '../dist/sim/comfy/comfy-server.js';
import {startPortalGate} from '../dist/sim/portal-gate.js';
import {VirtualFs} from '../dist/sim/virtual-fs.js';
import {GenerationQueue} from '../dist/core/queue/generation-queue.js';
import {JobStore} from '../dist/core/queue/job-store.js';
import {round, sleep, summarise} from './lib.js';

const CHECKPOINTS = '/workspace/ComfyUI/models/checkpoints';
const SPEED = 1;
const JOB = {workflow: 'img2img-sdxl', prompt: 'a fox in snow', steps: 30, width: 256, height: 256};

export async function benchQueue() {
  const work = mkdtempSync(join(tmpdir(), 'vastdeck-bench-queue-'));
  const image = join(work, 'fox.png');
  const png = new PNG({width: 64, height: 64});
  png.data.fill(120);
  writeFileSync(image, PNG.sync.write(png));

  const overhead = await perJobOverhead(work, image, 12);
  const scaling = {};
  let single;
  for (const instances of [1, 2, 4, 8]) {
    const jobsPerSecond = await throughput(work, image, instances, instances * 6);
    single ??= jobsPerSecond;
    scaling[instances] = {jobsPerSecond: round(jobsPerSecond, 3), fractionOfLinear: round(jobsPerSecond / (single * instances), 3)};
  }
  return {perJobOverheadMs: overhead, throughput: scaling, note: `simulated ComfyUI at speed ${SPEED}, ${JOB.steps} steps at ${JOB.width}², 2 CPU cores shared by simulators and client`};
}

async function startInstances(count) {
  const instances = [];
  const comfies = [];
  const closers = [];
  for (let index = 0; index < count; index++) {
    const fs = new VirtualFs();
    for (const dir of ['/workspace/ComfyUI/input', '/workspace/ComfyUI/output', CHECKPOINTS]) fs.mkdir(dir);
    fs.write(`${CHECKPOINTS}/sd_xl_base_1.0.safetensors`, 'weights');
    const comfy = createSimComfy({fs, speed: SPEED, gpuName: 'RTX 4090', listening: () => true});
    const token = `bench-token-${index}`;
    const gate = await startPortalGate({instanceId: index + 1, webUsername: 'vastai', webPassword: token, openButtonToken: '', isAppUp: () => true, handleRequest: comfy.handleRequest, handleUpgrade: comfy.handleUpgrade});
    instances.push({key: `i${index}`, instanceId: index + 1, gpuName: 'RTX 4090', dphTotal: 0.4, comfyui: `http://127.0.0.1:${gate.port}`, token});
    comfies.push(comfy);
    closers.push(async () => {
      await gate.close();
      await comfy.close();
    });
  }
  return {instances, comfies, close: () => Promise.all(closers.map(close => close()))};
}

async function runJobs(work, image, instances, count) {
  const queue = new GenerationQueue({store: new JobStore(), instances: () => instances, outputsRoot: join(work, 'outputs'), dispatchMs: 100});
  queue.start();
  const started = performance.now();
  const jobs = await queue.add({...JOB, imagePath: image, seed: 1}, {count});
  const ids = new Set(jobs.map(job => job.id));
  for (;;) {
    queue.flush();
    const mine = queue.getSnapshot().jobs.filter(job => ids.has(job.id));
    if (mine.every(job => ['done', 'failed', 'cancelled'].includes(job.state))) {
      const elapsedMs = performance.now() - started;
      await queue.stop();
      return {jobs: mine, elapsedMs};
    }
    await sleep(20);
  }
}

async function perJobOverhead(work, image, count) {
  const {instances, close} = await startInstances(1);
  // Warm the simulated model load so it is not counted as overhead.
  await runJobs(work, image, instances, 1);
  const samples = [];
  for (let index = 0; index < count; index++) {
    const {jobs} = await runJobs(work, image, instances, 1);
    const [job] = jobs;
    const history = await (await fetch(`${instances[0].comfyui}/history/${job.promptId}`, {headers: {authorization: `Bearer ${instances[0].token}`}})).json();
    const messages = history[job.promptId].status.messages;
    const started = messages.find(([type]) => type === 'execution_start')[1].timestamp;
    const finished = messages.find(([type]) => type === 'execution_success')[1].timestamp;
    samples.push(job.finishedAtMs - job.createdAtMs - (finished - started));
  }
  await close();
  const summary = summarise(samples);
  return {median: round(summary.median), p95: round(summary.p95), min: round(summary.min), n: summary.n};
}

async function throughput(work, image, instanceCount, jobCount) {
  const {instances, close} = await startInstances(instanceCount);
  await runJobs(work, image, instances, instanceCount);
  const {elapsedMs, jobs} = await runJobs(work, image, instances, jobCount);
  await close();
  const done = jobs.filter(job => job.state === 'done').length;
  return done / (elapsedMs / 1000);
}
