// ComfyClient against the simulated ComfyUI over loopback. A rented sim-cloud instance (fast clock)
// runs the shipped workflows end to end and shows each refusal in plain words; a standalone
// simulated ComfyUI on a real-time clock (behind the same portal gate) gives jobs long enough to
// drop the socket, stall it, interrupt or restart mid-job. A recording proxy in front of the
// portal checks that the token travels only in the Authorization header, never in a URL.
import {existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {PNG} from 'pngjs';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {ComfyClient, loadImageValue} from '../../source/core/comfy/client.js';
import {ComfyValidationError} from '../../source/core/comfy/comfy-errors.js';
import type {ApiWorkflow, JobSpec, PromptProgress} from '../../source/core/comfy/types.js';
import {bindJob, loadWorkflow} from '../../source/core/comfy/workflow.js';
import {InputError, VastdeckError} from '../../source/core/errors.js';
import {buildCreateBody, newWebPassword} from '../../source/core/instances/create-body.js';
import {DEFAULT_SETTINGS} from '../../source/core/settings.js';
import {VastClient} from '../../source/core/vast/client.js';
import {createInstance} from '../../source/core/vast/instances-api.js';
import {startSimCloud, type SimCloud} from '../../source/sim/cloud.js';
import {createSimComfy, type SimComfy} from '../../source/sim/comfy/comfy-server.js';
import {startPortalGate, type PortalGate} from '../../source/sim/portal-gate.js';
import {VirtualFs} from '../../source/sim/virtual-fs.js';
import {RecordingProxy} from '../helpers/recording-proxy.js';

const CHECKPOINTS = '/workspace/ComfyUI/models/checkpoints';
const SLOW_TOKEN = 'slow-comfy-token';

let sim: SimCloud;
let cloudUrl: string;
let cloudToken: string;
let cloudComfy: SimComfy;
let slowComfy: SimComfy;
let slowGate: PortalGate;
let slowProxy: RecordingProxy;
/** The slow ComfyUI's command line: a test turns latent previews on with --preview-method. */
let slowArgs = '';
let work: string;
let inputPng: string;
const clients: ComfyClient[] = [];

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'vastdeck-comfy-'));
  inputPng = join(work, 'input photo.png');
  const png = new PNG({width: 48, height: 32});
  png.data.fill(0x80);
  writeFileSync(inputPng, PNG.sync.write(png));

  sim = await startSimCloud({port: 0, rateLimitScale: 0, churnIntervalMs: 0, speed: 400});
  const vast = new VastClient({baseUrl: sim.baseUrl, apiKey: sim.apiKey, pacingScale: 0});
  const [offer] = await vast.searchOffers({rentable: {eq: true}, num_gpus: {eq: 1}, gpu_name: {eq: 'RTX 4090'}, inet_down: {gte: 500}, limit: 5});
  cloudToken = newWebPassword();
  const {instanceId} = await createInstance(vast, offer!.id, buildCreateBody({offer: offer!, settings: DEFAULT_SETTINGS, label: 'vastdeck:comfy-test', webPassword: cloudToken}));
  const deadline = Date.now() + 20_000;
  while (!sim.instances.hostOf(instanceId)?.comfyListening() || !sim.instances.comfyOf(instanceId)) {
    if (Date.now() > deadline) throw new Error('the simulated instance never started ComfyUI');
    await new Promise(resolve => setTimeout(resolve, 25));
  }
  cloudUrl = `http://127.0.0.1:${sim.instances.hostOf(instanceId)!.portalPort}`;
  cloudComfy = sim.instances.comfyOf(instanceId)!;

  const fs = new VirtualFs();
  for (const dir of ['/workspace/ComfyUI/input', '/workspace/ComfyUI/output', CHECKPOINTS]) fs.mkdir(dir);
  fs.write(`${CHECKPOINTS}/sd_xl_base_1.0.safetensors`, 'placeholder');
  slowComfy = createSimComfy({fs, speed: 1, gpuName: 'RTX 4090', listening: () => true, comfyuiArgs: () => slowArgs});
  slowGate = await startPortalGate({
    instanceId: 1,
    webUsername: 'vastai',
    webPassword: SLOW_TOKEN,
    openButtonToken: '',
    isAppUp: () => true,
    handleRequest: slowComfy.handleRequest,
    handleUpgrade: slowComfy.handleUpgrade,
  });
  slowProxy = await RecordingProxy.start(slowGate.port);
});

afterAll(async () => {
  await Promise.all(clients.map(client => client.close()));
  await slowProxy?.close();
  await slowGate?.close();
  await slowComfy?.close();
  await sim?.close();
});

function cloudClient(options: {baseUrl?: string; watchdogMs?: number; pollMs?: number} = {}): ComfyClient {
  const client = new ComfyClient({baseUrl: cloudUrl, token: cloudToken, ...options});
  clients.push(client);
  return client;
}

/** A client of the real-time ComfyUI, through its proxy. */
function slowClient(options: {watchdogMs?: number; pollMs?: number} = {}): ComfyClient {
  const client = new ComfyClient({baseUrl: slowProxy.url, token: SLOW_TOKEN, watchdogMs: 2000, pollMs: 100, ...options});
  clients.push(client);
  return client;
}

async function boundWorkflow(client: ComfyClient, name: string, settings: Partial<JobSpec> = {}): Promise<ApiWorkflow> {
  const loaded = await loadWorkflow(name);
  const upload = await client.uploadImage(inputPng);
  const spec: JobSpec = {workflow: name, imagePath: inputPng, prompt: 'a lighthouse at dusk', width: 64, height: 64, steps: 4, ...settings};
  return bindJob(loaded, spec, loadImageValue(upload)).workflow;
}

async function refusal(client: ComfyClient, workflow: ApiWorkflow): Promise<ComfyValidationError> {
  const error = await client.submit(workflow).then(() => undefined, (caught: unknown) => caught);
  expect(error).toBeInstanceOf(ComfyValidationError);
  return error as ComfyValidationError;
}

/** Resolves with the first progress report that satisfies `test`. */
function progressWhere(test: (progress: PromptProgress) => boolean): {onProgress: (progress: PromptProgress) => void; seen: Promise<PromptProgress>} {
  let resolve: (progress: PromptProgress) => void = () => {};
  const seen = new Promise<PromptProgress>(done => (resolve = done));
  return {onProgress: progress => test(progress) && resolve(progress), seen};
}

describe('a job end to end', () => {
  it('uploads, submits, follows with progress and downloads a decodable image', async () => {
    const client = cloudClient();
    expect((await client.systemStats()).comfyuiVersion).toBe('0.3.64');
    const workflow = await boundWorkflow(client, 'img2img-sdxl');
    expect(workflow['2']!.inputs.image).toMatch(/^[0-9a-f-]{36}-input_photo\.png$/);
    const {promptId, number} = await client.submit(workflow);
    expect(promptId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(number).toBeGreaterThanOrEqual(0);
    const reports: PromptProgress[] = [];
    const result = await client.follow(promptId, {onProgress: progress => reports.push(progress)});
    expect(result.status).toBe('success');
    expect(result.outputs).toEqual([{filename: expect.stringMatching(/^img2img_\d{5}_\.png$/), subfolder: 'vastdeck', type: 'output', nodeId: '8'}]);
    expect(reports).toContainEqual(expect.objectContaining({nodeId: '6', nodeTitle: 'Sampler', value: 4, max: 4}));
    expect(reports.at(-1)).toEqual({nodesDone: 9, nodesTotal: 9});

    const byteCounts: number[] = [];
    const path = await client.download(result.outputs[0]!, join(work, 'e2e'), {onBytes: doneBytes => byteCounts.push(doneBytes)});
    const image = PNG.sync.read(readFileSync(path));
    expect([image.width, image.height]).toEqual([64, 64]);
    expect(byteCounts.at(-1)).toBe(readFileSync(path).length);
    const again = await client.download(result.outputs[0]!, join(work, 'e2e'));
    expect(again).toMatch(/img2img_\d{5}_-1\.png$/);
    expect(readdirSync(join(work, 'e2e')).sort()).toEqual([result.outputs[0]!.filename, again.split('/').at(-1)].sort());
  });

  it('runs the video workflow and downloads its animated file', async () => {
    const client = cloudClient();
    const {promptId} = await client.submit(await boundWorkflow(client, 'img2vid', {frames: 3}));
    const result = await client.follow(promptId);
    expect(result.status).toBe('success');
    expect(result.outputs).toHaveLength(1);
    const path = await client.download(result.outputs[0]!, join(work, 'video'));
    expect(PNG.sync.read(readFileSync(path)).width).toBe(64);
    expect(readFileSync(path).includes('acTL')).toBe(true);
  });

  it('reports a node failure with the node and the message', async () => {
    const client = cloudClient();
    cloudComfy.failNextJob({node: '6', exceptionType: 'RuntimeError', message: 'CUDA error: an illegal memory access was encountered'});
    const {promptId} = await client.submit(await boundWorkflow(client, 'img2img-sdxl'));
    const result = await client.follow(promptId);
    expect(result).toMatchObject({status: 'error', error: {nodeId: '6', nodeType: 'KSampler', message: expect.stringContaining('illegal memory access')}});
  });
});

describe('refusals in plain words', () => {
  it('names the node, its title and the input for a missing image and a missing model', async () => {
    const client = cloudClient();
    const workflow = await boundWorkflow(client, 'img2img-sdxl');
    workflow['2']!.inputs.image = 'cat.png';
    workflow['1']!.inputs.ckpt_name = 'sd15.safetensors';
    const error = await refusal(client, workflow);
    expect(error.code).toBe('bad-input');
    expect(error.message).toContain('ComfyUI refused the workflow: ');
    expect(error.message).toContain('node 2 LoadImage (Input Image): image — Invalid image file: cat.png');
    expect(error.message).toContain("node 1 CheckpointLoaderSimple (Checkpoint): ckpt_name 'sd15.safetensors' is not one of the installed models (sd_xl_base_1.0.safetensors)");
    expect(error.problems.map(problem => problem.nodeId).sort()).toEqual(['1', '2']);
  });

  it('explains an unknown node class, a workflow without outputs and an out-of-range value', async () => {
    const client = cloudClient();
    const workflow = await boundWorkflow(client, 'img2img-sdxl');
    expect((await refusal(client, {...workflow, '7': {...workflow['7']!, class_type: 'VAEDecodr'}})).message).toBe(
      "ComfyUI refused the workflow: Cannot execute because node VAEDecodr does not exist (Node ID '#7') — install the custom node it needs, or fix its class_type.",
    );
    const withoutOutput = Object.fromEntries(Object.entries(workflow).filter(([id]) => id !== '8'));
    expect((await refusal(client, withoutOutput)).message).toContain('the workflow has no output node');
    const zeroSteps = structuredClone(workflow);
    zeroSteps['6']!.inputs.steps = 0;
    expect((await refusal(client, zeroSteps)).message).toContain('node 6 KSampler (Sampler): steps — Value 0 smaller than min of 1');
  });

  it('does not run a workflow that ComfyUI accepted only in part', async () => {
    const client = cloudClient();
    const workflow = await boundWorkflow(client, 'img2img-sdxl');
    workflow['20'] = {class_type: 'LoadImage', inputs: {image: 'cat.png'}};
    workflow['21'] = {class_type: 'SaveImage', inputs: {images: ['20', 0], filename_prefix: 'broken'}};
    expect((await refusal(client, workflow)).message).toBe('ComfyUI refused part of the workflow: node 20 LoadImage: image — Invalid image file: cat.png.');
  });

  it('refuses a missing or non-image input file before uploading', async () => {
    const client = cloudClient();
    await expect(client.uploadImage(join(work, 'nope.png'))).rejects.toThrow(new InputError(`The input image ${join(work, 'nope.png')} does not exist: check the path.`));
    const text = join(work, 'notes.png');
    writeFileSync(text, 'not really a picture');
    await expect(client.uploadImage(text)).rejects.toThrow(/is not a PNG, JPEG or WebP file/);
    await expect(client.uploadImage(inputPng, {subfolder: '../up'})).rejects.toThrow(InputError);
  });

  it('refuses output names that would escape the folder, and writes nothing', async () => {
    const client = cloudClient();
    const dest = join(work, 'escape', 'inside');
    for (const filename of ['../outside.png', '/etc/passwd', 'a\nb.png', '', '..', 'sub\\x.png']) {
      const error = await client.download({filename, subfolder: '', type: 'output', nodeId: '8'}, dest).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(VastdeckError);
      expect((error as VastdeckError).message).toMatch(/^ComfyUI listed an output named .*, which is not a plain file name, so vastdeck did not save it/);
    }
    expect(existsSync(join(work, 'escape'))).toBe(false);
  });
});

describe('when the socket misbehaves', () => {
  it('reconnects after a drop mid-job and still ends on executing null plus history', async () => {
    const client = slowClient();
    const {promptId} = await client.submit(await boundWorkflow(client, 'img2img-sdxl', {steps: 60}));
    const started = progressWhere(progress => progress.value === 3);
    const reports: PromptProgress[] = [];
    const following = client.follow(promptId, {onProgress: progress => (reports.push(progress), started.onProgress(progress))});
    await started.seen;
    expect(slowComfy.dropWebSocket(client.clientId)).toBe(1);
    const result = await following;
    expect(result.status).toBe('success');
    expect(reports.some(progress => (progress.value ?? 0) > 10)).toBe(true);
    expect(slowProxy.requests.filter(entry => entry.upgrade && entry.url.includes(client.clientId)).length).toBeGreaterThanOrEqual(2);
  });

  it('finishes by polling history when the socket cannot come back', async () => {
    const client = slowClient();
    const {promptId} = await client.submit(await boundWorkflow(client, 'img2img-sdxl', {steps: 40}));
    const started = progressWhere(progress => progress.value === 2);
    const following = client.follow(promptId, started);
    await started.seen;
    slowProxy.refuseUpgrades = true;
    try {
      slowProxy.cutSockets();
      const cutAt = slowProxy.requests.length;
      const result = await following;
      expect(result.status).toBe('success');
      const afterCut = slowProxy.requests.slice(cutAt);
      expect(afterCut.filter(entry => entry.url === `/history/${promptId}`).length).toBeGreaterThanOrEqual(2);
      expect(afterCut.some(entry => entry.upgrade)).toBe(true);
    } finally {
      slowProxy.refuseUpgrades = false;
    }
  });

  it('finishes a job whose socket stays silent, through the watchdog', async () => {
    const client = slowClient({watchdogMs: 300, pollMs: 100});
    slowComfy.stallNextJob();
    const {promptId} = await client.submit(await boundWorkflow(client, 'img2img-sdxl', {steps: 10}));
    const reports: PromptProgress[] = [];
    const result = await client.follow(promptId, {onProgress: progress => reports.push(progress)});
    expect(result.status).toBe('success');
    expect(result.outputs).toHaveLength(1);
    // Nothing live came through; only the closing report after history said "success".
    expect(reports).toEqual([{nodesDone: 9, nodesTotal: 9}]);
  });

  it('ignores binary preview frames', async () => {
    slowProxy.injectBinaryFrame = true;
    try {
      const client = slowClient();
      const {promptId} = await client.submit(await boundWorkflow(client, 'img2img-sdxl', {steps: 3}));
      const reports: PromptProgress[] = [];
      expect((await client.follow(promptId, {onProgress: progress => reports.push(progress)})).status).toBe('success');
      expect(reports.some(progress => progress.value === 3)).toBe(true);
    } finally {
      slowProxy.injectBinaryFrame = false;
    }
  });

  it("follows a job through a real ComfyUI's JPEG latent previews (type 1, image type 1) to its outputs", async () => {
    slowArgs = '--preview-method auto';
    const jpegPreview = [0, 0, 0, 1, 0, 0, 0, 1, 0xff, 0xd8, 0xff, 0xe0];
    const before = slowProxy.binaryFramesStarting(jpegPreview);
    try {
      const client = slowClient();
      const {promptId} = await client.submit(await boundWorkflow(client, 'img2img-sdxl', {steps: 3}));
      const reports: PromptProgress[] = [];
      const result = await client.follow(promptId, {onProgress: progress => reports.push(progress)});
      expect(result.status).toBe('success');
      expect(result.outputs).toHaveLength(1);
      expect(reports.some(progress => progress.value === 3)).toBe(true);
      // One preview per sampler step reached the client's socket.
      expect(slowProxy.binaryFramesStarting(jpegPreview) - before).toBe(3);
    } finally {
      slowArgs = '';
    }
  });

  it('says the prompt is lost when ComfyUI restarts under it', async () => {
    const client = slowClient({watchdogMs: 300});
    const {promptId} = await client.submit(await boundWorkflow(client, 'img2img-sdxl', {steps: 60}));
    const started = progressWhere(progress => progress.value === 2);
    const following = client.follow(promptId, started);
    await started.seen;
    slowComfy.restart();
    await expect(following).rejects.toMatchObject({code: 'not-found', message: expect.stringContaining(`no longer knows prompt ${promptId}`)});
  });
});

describe('interrupting', () => {
  it('stops following on abort, while the prompt runs on', async () => {
    const client = slowClient();
    const {promptId} = await client.submit(await boundWorkflow(client, 'img2img-sdxl', {steps: 20}));
    const controller = new AbortController();
    const started = progressWhere(progress => progress.value === 2);
    const following = client.follow(promptId, {signal: controller.signal, onProgress: started.onProgress});
    await started.seen;
    controller.abort();
    await expect(following).rejects.toMatchObject({name: 'AbortError'});
    expect((await client.follow(promptId)).status).toBe('success');
  });

  it('interrupts the running prompt and cancels a pending one, leaving other prompts alone', async () => {
    const client = slowClient();
    const running = await client.submit(await boundWorkflow(client, 'img2img-sdxl', {steps: 80}));
    const pending = await client.submit(await boundWorkflow(client, 'img2img-sdxl', {steps: 80}));
    const bystander = await client.submit(await boundWorkflow(client, 'img2img-sdxl', {steps: 3}));
    const started = progressWhere(progress => progress.value === 2);
    const followingRunning = client.follow(running.promptId, started);
    await started.seen;
    await client.interrupt(pending.promptId);
    expect(await client.follow(pending.promptId)).toEqual({status: 'interrupted', outputs: []});
    await client.interrupt(running.promptId);
    expect((await followingRunning).status).toBe('interrupted');
    expect((await client.follow(bystander.promptId)).status).toBe('success');
  });
});

describe('secrets', () => {
  it('sends the token only in the Authorization header, never in a URL', async () => {
    const proxy = await RecordingProxy.start(Number(new URL(cloudUrl).port));
    try {
      const client = cloudClient({baseUrl: proxy.url});
      await client.systemStats();
      const {promptId} = await client.submit(await boundWorkflow(client, 'img2img-sdxl'));
      const result = await client.follow(promptId);
      await client.download(result.outputs[0]!, join(work, 'secrets'));
      await client.interrupt(promptId);
      const upgrades = proxy.requests.filter(entry => entry.upgrade);
      expect(upgrades).toEqual([{method: 'GET', url: `/ws?clientId=${client.clientId}`, authorization: `Bearer ${cloudToken}`, upgrade: true}]);
      expect(proxy.requests.map(entry => `${entry.method} ${entry.url.split('?')[0]}`)).toEqual(
        expect.arrayContaining(['GET /system_stats', 'POST /upload/image', 'POST /prompt', `GET /history/${promptId}`, 'GET /view', 'POST /queue', 'POST /interrupt']),
      );
      for (const entry of proxy.requests) {
        expect(entry.url).not.toContain(cloudToken);
        expect(entry.url).not.toContain('token');
        expect(entry.authorization).toBe(`Bearer ${cloudToken}`);
      }
    } finally {
      await proxy.close();
    }
  });

  it('names the refused token without showing it', async () => {
    const client = new ComfyClient({baseUrl: cloudUrl, token: 'wrong-token'});
    clients.push(client);
    const error = await client.systemStats().catch((caught: unknown) => caught);
    expect(error).toMatchObject({code: 'auth'});
    expect((error as Error).message).not.toContain('wrong-token');
    expect(() => new ComfyClient({baseUrl: `${cloudUrl}/?token=${cloudToken}`, token: cloudToken})).toThrow(InputError);
  });
});
