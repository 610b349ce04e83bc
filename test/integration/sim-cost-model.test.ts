// The simulator and the cost model tell the same story (docs/cost-model.md §8): a generation of each
// shipped workflow at its defaults takes the manifest's secondsPerGeneration on its reference GPU in
// the simulated ComfyUI, divided by gpuSpeed(gpu).factor on other GPUs, with the sampler's share
// scaling with the steps; the simulated instance pulls cost.imageGb of image and its boot downloads
// the manifest's modelGb of checkpoint (model-sizes.ts). Measured on a ManualClock: simulated time,
// no test sleeps.
import {randomUUID} from 'node:crypto';
import {readFileSync} from 'node:fs';
import {createServer, type Server} from 'node:http';
import {PNG} from 'pngjs';
import {afterEach, describe, expect, it} from 'vitest';
import {bindJob} from '../../source/core/comfy/job-binding.js';
import {MODEL_BYTES} from '../../source/core/comfy/model-sizes.js';
import {loadWorkflow} from '../../source/core/comfy/workflow.js';
import {gpuSpeed} from '../../source/core/offers/gpu-speed.js';
import {DEFAULT_SETTINGS} from '../../source/core/settings.js';
import {createSimComfy, type SimComfy} from '../../source/sim/comfy/comfy-server.js';
import {ManualClock} from '../../source/sim/comfy/sim-clock.js';
import {imageSizeGb} from '../../source/sim/instance-create.js';
import {VirtualFs} from '../../source/sim/virtual-fs.js';
import {listenLoopback} from '../helpers/loopback.js';
import {api, startManualCloud, untilComfyListens, type Json} from '../helpers/sim-provisioned.js';

let comfy: SimComfy | undefined;
let server: Server | undefined;

afterEach(async () => {
  server?.close();
  await comfy?.close();
  comfy = undefined;
});

async function simComfy(gpuName: string): Promise<{base: string; clock: ManualClock}> {
  const clock = new ManualClock();
  const fs = new VirtualFs();
  fs.write('/workspace/ComfyUI/models/checkpoints/sd_xl_base_1.0.safetensors', Buffer.alloc(64));
  comfy = createSimComfy({fs, speed: 1, gpuName, listening: () => true, time: clock});
  server = createServer(comfy.handleRequest);
  return {base: await listenLoopback(server), clock};
}

function inputPng(width: number, height: number): Buffer {
  const png = new PNG({width, height});
  for (let index = 0; index < png.data.length; index++) png.data[index] = (index * 11) % 256;
  return PNG.sync.write(png);
}

/** Simulated seconds of each of `seeds.length` generations, submitted one after the other the way the queue does (upload, bind, POST /prompt). */
async function generationSeconds(gpuName: string, workflow: string, seeds: number[], fields: Record<string, number> = {}): Promise<number[]> {
  const {base, clock} = await simComfy(gpuName);
  const loaded = await loadWorkflow(workflow);
  const seconds: number[] = [];
  for (const seed of seeds) {
    const form = new FormData();
    // A fresh name per job, as ComfyClient.uploadImage does: LoadImage and the encode run every time.
    form.set('image', new Blob([inputPng(640, 480)], {type: 'image/png'}), `${randomUUID()}-fox.png`);
    const uploaded = (await (await fetch(`${base}/upload/image`, {method: 'POST', body: form})).json()) as {name: string};
    const bound = bindJob(loaded, {workflow, imagePath: 'fox.png', prompt: 'a fox in snow', seed, ...fields}, uploaded.name);
    const answer = (await (await fetch(`${base}/prompt`, {method: 'POST', headers: {'content-type': 'application/json'}, body: JSON.stringify({prompt: bound.workflow})})).json()) as {prompt_id: string};
    const startMs = clock.now();
    const done = await clock.advanceUntil(() => comfy!.runningPromptId() === undefined && comfy!.queueRemaining() === 0, {stepMs: 5, limitMs: 600_000});
    expect(done).toBe(true);
    const history = (await (await fetch(`${base}/history/${answer.prompt_id}`)).json()) as Record<string, {status: {status_str: string}}>;
    expect(history[answer.prompt_id]?.status.status_str).toBe('success');
    seconds.push((clock.now() - startMs) / 1000);
  }
  return seconds;
}

describe('the simulator follows the cost model', () => {
  it.each([
    ['img2img-sdxl', 3.5],
    ['img2vid', 11],
  ])('%s: a warm generation at the defaults takes the manifest secondsPerGeneration on an RTX 4090', async (workflow, manifestSeconds) => {
    expect((await loadWorkflow(workflow)).requirements?.secondsPerGeneration).toBe(manifestSeconds);
    const [, second, third] = await generationSeconds('RTX 4090', workflow, [1, 2, 3]);
    expect(second).toBeCloseTo(manifestSeconds, 1);
    expect(third).toBeCloseTo(manifestSeconds, 1);
  });

  it.each(['RTX 3060', 'A100 SXM4', 'H100 SXM', 'RTX 5090'])('on an %s a generation takes the reference time divided by gpuSpeed().factor', async gpuName => {
    const [, warm] = await generationSeconds(gpuName, 'img2img-sdxl', [1, 2]);
    expect(warm).toBeCloseTo(3.5 / gpuSpeed(gpuName).factor, 1);
  });

  it("the sampler's share scales with the steps", async () => {
    const warm = async (steps: number): Promise<number> => (await generationSeconds('RTX 4090', 'img2img-sdxl', [1, 2], {steps}))[1]!;
    const [ten, twenty, forty] = [await warm(10), await warm(20), await warm(40)];
    // Linear in steps: the extra 20 steps cost twice the extra 10.
    expect(forty - twenty).toBeCloseTo(2 * (twenty - ten), 1);
    expect(forty - twenty).toBeGreaterThan(2);
  });

  it("a replayed boot bills the image pull and each model at its real size: the workflow's checkpoint is the manifest's modelGb", async () => {
    const manual = await startManualCloud();
    try {
      manual.cloud.account.balance = 1000;
      const offer = ((await api(manual.cloud, '/api/v0/bundles/', {method: 'POST', body: {gpu_name: {eq: 'RTX 4090'}, inet_down: {gte: 800}, limit: 1}})).offers as Json[])[0]!;
      const created = await api(manual.cloud, `/api/v0/asks/${String(offer.id)}/`, {method: 'PUT', body: {client_id: 'me', image: DEFAULT_SETTINGS.instance.image, disk: 60, runtype: 'jupyter_direct', onstart: 'entrypoint.sh', env: {}}});
      const id = created.new_contract as number;
      await untilComfyListens(manual, id);
      await manual.clock.advance(60_000);
      const charges = manual.cloud.instances.charges(id)!;
      // The recorded boot also fetches a LoRA that img2img-sdxl does not load (docs/cost-model.md §8).
      const expectedGb = DEFAULT_SETTINGS.cost.imageGb + (MODEL_BYTES['sd_xl_base_1.0.safetensors']! + MODEL_BYTES['detail_tweaker_xl.safetensors']!) / 1e9;
      expect(charges.downloadedGb).toBeCloseTo(expectedGb, 6);
      expect(charges.bandwidth).toBeCloseTo(expectedGb * Number(offer.inet_down_cost), 6);
    } finally {
      await manual.cloud.close();
    }
  });

  it('sizes: the ComfyUI image is cost.imageGb, the checkpoint the manifest modelGb, the table the simulated internet', async () => {
    const internet = (JSON.parse(readFileSync(new URL('../../sim-data/remote-files.json', import.meta.url), 'utf8')) as {files: Array<{url?: string; bytes?: number}>}).files;
    expect(internet.find(file => file.url?.endsWith('/sd_xl_base_1.0.safetensors'))?.bytes).toBe(MODEL_BYTES['sd_xl_base_1.0.safetensors']);
    expect(imageSizeGb(DEFAULT_SETTINGS.instance.image)).toBe(DEFAULT_SETTINGS.cost.imageGb);
    for (const workflow of ['img2img-sdxl', 'img2vid']) {
      const loaded = await loadWorkflow(workflow);
      const checkpoints = Object.values(loaded.workflow).flatMap(node => (typeof node.inputs.ckpt_name === 'string' ? [node.inputs.ckpt_name] : []));
      const bytes = checkpoints.reduce((sum, name) => sum + (MODEL_BYTES[name] ?? Number.NaN), 0);
      expect(loaded.requirements?.modelGb).toBe(Math.round(bytes / 1e7) / 100);
    }
  });
});
