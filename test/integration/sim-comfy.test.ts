// The simulated ComfyUI over real loopback sockets, through the portal gate of a real instance host,
// as a client sees it (fetch + ws with the Bearer token): upload, /prompt and its validation errors,
// the WebSocket message order, history, /view, caching, interrupt, faults, the shipped workflows.
import {once} from 'node:events';
import {readFileSync} from 'node:fs';
import {PNG} from 'pngjs';
import ssh2 from 'ssh2';
import {afterEach, describe, expect, it} from 'vitest';
import WebSocket from 'ws';
import {startSimCloud, type SimCloud} from '../../source/sim/cloud.js';
import {createSimComfy, deferredComfyHandlers, type SimComfy} from '../../source/sim/comfy/comfy-server.js';
import {startInstanceHost, type InstanceHost} from '../../source/sim/instance-host.js';

type Json = Record<string, any>;
interface Message {
  type: string;
  data: Json;
}

const TOKEN = 'portal-token-0123456789';
/** One host key for every host: ssh2's generator sometimes emits a key its own parser refuses (a public key with a leading zero byte). */
const HOST_KEY = ((): string => {
  for (;;) {
    const pem = ssh2.utils.generateKeyPairSync('ed25519').private;
    if (!(ssh2.utils.parseKey(pem) instanceof Error)) return pem;
  }
})();
const OUTPUT = '/workspace/ComfyUI/output';
const hosts: InstanceHost[] = [];
const comfies: SimComfy[] = [];
const sockets: WebSocket[] = [];
const clouds: SimCloud[] = [];

afterEach(async () => {
  for (const ws of sockets.splice(0)) ws.terminate();
  await Promise.all(clouds.splice(0).map((cloud) => cloud.close()));
  await Promise.all(comfies.splice(0).map((comfy) => comfy.close()));
  await Promise.all(hosts.splice(0).map((host) => host.close()));
});

interface Harness {
  host: InstanceHost;
  comfy: SimComfy;
  base: string;
}

/** A booted instance host (happy boot at speed 1000) whose 8188 gate fronts a simulated ComfyUI. */
async function startComfy(comfySpeed = 1000): Promise<Harness> {
  const handlers = deferredComfyHandlers();
  const host = await startInstanceHost({
    instanceId: 31337,
    scenario: 'happy',
    speed: 1000,
    authorizedKeys: [],
    hostKey: HOST_KEY,
    webPassword: TOKEN,
    openButtonToken: '',
    gpuName: 'RTX 4090',
    comfyHandler: handlers.comfyHandler,
    comfyUpgrade: handlers.comfyUpgrade,
  });
  hosts.push(host);
  const comfy = createSimComfy({fs: host.fs, speed: comfySpeed, gpuName: 'RTX 4090', listening: () => host.comfyListening()});
  comfies.push(comfy);
  handlers.bind(comfy);
  if (!host.comfyListening()) await once(host.events, 'comfy-listening');
  return {host, comfy, base: `http://127.0.0.1:${host.portalPort}`};
}

async function call(h: Harness, path: string, init: RequestInit = {}): Promise<{status: number; json: any; bytes: Buffer; headers: Headers}> {
  const response = await fetch(`${h.base}${path}`, {...init, headers: {Authorization: `Bearer ${TOKEN}`, ...(init.headers as Record<string, string>)}});
  const bytes = Buffer.from(await response.arrayBuffer());
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch {
    json = undefined;
  }
  return {status: response.status, json, bytes, headers: response.headers};
}

function post(h: Harness, path: string, body: unknown): ReturnType<typeof call> {
  return call(h, path, {method: 'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify(body)});
}

function png(width: number, height: number, rgb: [number, number, number]): Buffer {
  const image = new PNG({width, height});
  for (let at = 0; at < image.data.length; at += 4) image.data.set([rgb[0], (rgb[1] + at) % 256, rgb[2], 255], at);
  return PNG.sync.write(image);
}

async function upload(h: Harness, name: string, bytes: Buffer, fields: Record<string, string> = {}): ReturnType<typeof call> {
  const form = new FormData();
  form.append('image', new Blob([bytes], {type: 'image/png'}), name);
  for (const [key, value] of Object.entries(fields)) form.append(key, value);
  return call(h, '/upload/image', {method: 'POST', body: form});
}

interface Socket {
  ws: WebSocket;
  messages: Message[];
  waitFor(test: (message: Message) => boolean): Promise<Message>;
}

async function connect(h: Harness, clientId: string): Promise<Socket> {
  const ws = new WebSocket(`ws://127.0.0.1:${h.host.portalPort}/ws?clientId=${clientId}`, {headers: {Authorization: `Bearer ${TOKEN}`}});
  sockets.push(ws);
  const messages: Message[] = [];
  const waiters: Array<() => void> = [];
  ws.on('message', (raw, binary) => {
    if (binary) return;
    messages.push(JSON.parse(String(raw)) as Message);
    for (const wake of waiters.splice(0)) wake();
  });
  const waitFor = async (test: (message: Message) => boolean): Promise<Message> => {
    for (;;) {
      const found = messages.find(test);
      if (found) return found;
      await new Promise<void>((resolve) => waiters.push(resolve));
    }
  };
  await waitFor((message) => message.type === 'status');
  return {ws, messages, waitFor};
}

const doneOf = (promptId: string) => (message: Message) => message.type === 'executing' && message.data.node === null && message.data.prompt_id === promptId;

/** The shipped img2img workflow with the image, size, steps and seed set. */
function img2img(image: string, overrides: {seed?: number; steps?: number; size?: number; prefix?: string} = {}): Json {
  const workflow = JSON.parse(readFileSync(new URL('../../workflows/img2img-sdxl.json', import.meta.url), 'utf8')) as Json;
  workflow['2'].inputs.image = image;
  workflow['9'].inputs.width = overrides.size ?? 64;
  workflow['9'].inputs.height = overrides.size ?? 64;
  workflow['6'].inputs.steps = overrides.steps ?? 5;
  workflow['6'].inputs.seed = overrides.seed ?? 1234;
  if (overrides.prefix) workflow['8'].inputs.filename_prefix = overrides.prefix;
  return workflow;
}

/** One line per event: progress_state names the node whose state changed. */
function compact(messages: Message[]): string[] {
  let before: Json = {};
  return messages.map(({type, data}) => {
    if (type === 'status') return `status ${data.status.exec_info.queue_remaining}`;
    if (type === 'executing') return `executing ${data.node}`;
    if (type === 'progress') return `progress ${data.node} ${data.value}/${data.max}`;
    if (type === 'executed') return `executed ${data.node}`;
    if (type === 'execution_cached') return `execution_cached [${data.nodes.join(',')}]`;
    if (type !== 'progress_state') return type;
    const changed = Object.entries(data.nodes as Json).find(([id, entry]) => JSON.stringify(before[id]) !== JSON.stringify(entry));
    before = data.nodes;
    return `progress_state ${changed?.[0]} ${changed?.[1].state}`;
  });
}

describe('simulated ComfyUI behind the portal gate', () => {
  it('answers system_stats, features, object_info, models and embeddings, also under /api', async () => {
    const h = await startComfy();
    const stats = await call(h, '/api/system_stats');
    expect(stats.json.devices[0].name).toBe('cuda:0 NVIDIA GeForce RTX 4090 : cudaMallocAsync');
    expect((await call(h, '/features')).json).toEqual({supports_preview_metadata: true, max_upload_size: 104857600});
    const ksampler = (await call(h, '/object_info/KSampler')).json.KSampler;
    expect(ksampler).toMatchObject({name: 'KSampler', output: ['LATENT'], output_node: false, category: 'sampling'});
    expect(ksampler.input.required.steps).toEqual(['INT', {default: 20, min: 1, max: 10000, tooltip: 'The number of steps used in the denoising process.'}]);
    expect((await call(h, '/api/object_info/NoSuchNode')).json).toEqual({});
    const all = (await call(h, '/object_info')).json;
    expect(all.SaveAnimatedPNG.output_node).toBe(true);
    expect(all.CheckpointLoaderSimple.input.required.ckpt_name[0]).toEqual(['sd_xl_base_1.0.safetensors']);
    expect((await call(h, '/models')).json).toEqual(expect.arrayContaining(['checkpoints', 'loras', 'vae', 'diffusion_models']));
    expect((await call(h, '/api/models/checkpoints')).json).toEqual(['sd_xl_base_1.0.safetensors']);
    // The boot's LoRA went to models/lora, a folder ComfyUI does not scan.
    expect((await call(h, '/models/loras')).json).toEqual([]);
    expect((await call(h, '/models/nope')).status).toBe(404);
    expect((await call(h, '/embeddings')).json).toEqual([]);
    expect((await call(h, '/api/prompt')).json).toEqual({exec_info: {queue_remaining: 0}});
    expect((await call(h, '/queue')).json).toEqual({queue_running: [], queue_pending: []});
    expect((await call(h, '/nope')).status).toBe(404);
    expect((await call(h, '/view', {method: 'POST'})).status).toBe(405);
    expect((await fetch(`${h.base}/system_stats`)).status).toBe(401);
  });

  it('uploads images: returned name, sha256 dedupe, " (1)" suffix, overwrite, subfolder, 400s', async () => {
    const h = await startComfy();
    const first = png(8, 8, [200, 10, 10]);
    const second = png(8, 8, [10, 200, 10]);
    expect((await upload(h, 'cat.png', first)).json).toEqual({name: 'cat.png', subfolder: '', type: 'input'});
    expect((await upload(h, 'cat.png', first)).json.name).toBe('cat.png');
    expect((await upload(h, 'cat.png', second)).json.name).toBe('cat (1).png');
    expect((await upload(h, 'cat.png', second)).json.name).toBe('cat (1).png');
    expect((await upload(h, 'cat.png', png(8, 8, [1, 2, 3]))).json.name).toBe('cat (2).png');
    expect((await upload(h, 'cat.png', second, {overwrite: 'true'})).json.name).toBe('cat.png');
    expect(h.host.fs.read('/workspace/ComfyUI/input/cat.png')).toEqual(second);
    expect((await upload(h, 'dog.png', first, {subfolder: 'jobs/1', type: 'temp'})).json).toEqual({name: 'dog.png', subfolder: 'jobs/1', type: 'temp'});
    expect(h.host.fs.read('/workspace/ComfyUI/temp/jobs/1/dog.png')).toEqual(first);
    expect((await upload(h, 'x.png', first, {subfolder: '../../etc'})).status).toBe(400);
    // An empty filename makes the part plain data for aiohttp: `image.file` then raises.
    expect((await upload(h, '', first)).status).toBe(500);
    expect((await call(h, '/api/upload/image', {method: 'POST', body: new FormData()})).status).toBe(400);
    const view = await call(h, '/view?filename=dog.png&type=temp&subfolder=jobs/1');
    expect(view.headers.get('content-type')).toBe('image/png');
    expect(view.bytes).toEqual(first);
  });

  it('runs a prompt with ComfyUI\'s exact WebSocket order and writes history at the end', async () => {
    const h = await startComfy();
    await upload(h, 'in.png', png(80, 60, [120, 40, 200]));
    const socket = await connect(h, 'client-a');
    expect(socket.messages[0]).toEqual({type: 'status', data: {status: {exec_info: {queue_remaining: 0}}, sid: 'client-a'}});
    const submitted = await post(h, '/prompt', {prompt: img2img('in.png'), client_id: 'client-a'});
    expect(submitted.status).toBe(200);
    expect(submitted.json).toMatchObject({number: 0, node_errors: {}});
    const promptId = submitted.json.prompt_id as string;
    await socket.waitFor(doneOf(promptId));

    const node = (id: string, ...middle: string[]): string[] => [`progress_state ${id} running`, `executing ${id}`, ...middle, `progress_state ${id} finished`];
    const steps = [1, 2, 3, 4, 5].flatMap((step) => [`progress_state 6 running`, `progress 6 ${step}/5`]);
    expect(compact(socket.messages.slice(1))).toEqual([
      'status 1',
      'status 1',
      'execution_start',
      'execution_cached []',
      ...['1', '2', '9', '3', '5', '4'].flatMap((id) => node(id)),
      ...node('6', ...steps),
      ...node('7'),
      ...node('8', 'executed 8'),
      'execution_success',
      'status 0',
      'executing null',
    ]);
    for (const message of socket.messages.slice(3)) expect(message.data.prompt_id ?? promptId).toBe(promptId);

    const history = (await call(h, `/history/${promptId}`)).json[promptId];
    expect(history.status).toMatchObject({status_str: 'success', completed: true});
    expect(history.status.messages.map(([event]: [string]) => event)).toEqual(['execution_start', 'execution_cached', 'execution_success']);
    expect(history.prompt.slice(0, 2)).toEqual([0, promptId]);
    expect(history.prompt[3]).toEqual({client_id: 'client-a'});
    expect(history.prompt[4]).toEqual(['8']);
    expect(history.outputs).toEqual({8: {images: [{filename: 'img2img_00001_.png', subfolder: 'vastdeck', type: 'output'}]}});
    expect(history.meta['8']).toEqual({node_id: '8', display_node: '8', parent_node: null, real_node_id: '8'});
    expect((await call(h, '/api/history')).json).toHaveProperty(promptId);

    const file = await call(h, '/view?filename=img2img_00001_.png&subfolder=vastdeck&type=output');
    expect(file.status).toBe(200);
    expect(file.headers.get('content-type')).toBe('image/png');
    expect(file.headers.get('content-disposition')).toBe('filename="img2img_00001_.png"');
    const decoded = PNG.sync.read(file.bytes);
    expect([decoded.width, decoded.height]).toEqual([64, 64]);
    expect(file.bytes.toString('latin1')).toContain('tEXtprompt');
  });

  it('shows a running job in /queue while its history is still {}, and only then writes it', async () => {
    const h = await startComfy(20);
    await upload(h, 'in.png', png(16, 16, [9, 9, 9]));
    const socket = await connect(h, 'slow');
    const {json} = await post(h, '/prompt', {prompt: img2img('in.png', {steps: 1500, size: 16}), client_id: 'slow'});
    await socket.waitFor((message) => message.type === 'progress');
    expect((await call(h, `/history/${json.prompt_id}`)).json).toEqual({});
    expect((await call(h, '/queue')).json.queue_running[0].slice(0, 2)).toEqual([0, json.prompt_id]);
    expect((await call(h, '/prompt')).json.exec_info.queue_remaining).toBe(1);
    await socket.waitFor(doneOf(json.prompt_id));
    expect((await call(h, `/history/${json.prompt_id}`)).json[json.prompt_id].status.status_str).toBe('success');
  });

  it('derives outputs from the seed, and answers an identical prompt from the cache without a new file', async () => {
    const h = await startComfy();
    await upload(h, 'in.png', png(64, 64, [30, 160, 90]));
    const socket = await connect(h, 'seeds');
    const run = async (seed: number): Promise<{id: string; files: Json[]}> => {
      const {json} = await post(h, '/prompt', {prompt: img2img('in.png', {seed}), client_id: 'seeds'});
      await socket.waitFor(doneOf(json.prompt_id));
      const entry = (await call(h, `/history/${json.prompt_id}`)).json[json.prompt_id];
      return {id: json.prompt_id, files: entry.outputs['8'].images};
    };
    const first = await run(1);
    const second = await run(2);
    expect(second.files[0]?.filename).toBe('img2img_00002_.png');
    const bytesOf = async (file: Json): Promise<Buffer> => (await call(h, `/view?filename=${file.filename}&subfolder=${file.subfolder}`)).bytes;
    const [a, b] = [PNG.sync.read(await bytesOf(first.files[0] as Json)), PNG.sync.read(await bytesOf(second.files[0] as Json))];
    expect(a.data.equals(b.data)).toBe(false);

    const repeat = await run(2);
    expect(repeat.files).toEqual(second.files);
    expect(h.host.fs.list(`${OUTPUT}/vastdeck`)).toEqual(['img2img_00001_.png', 'img2img_00002_.png']);
    const events = compact(socket.messages.filter((message) => message.data.prompt_id === repeat.id));
    expect(events).toEqual(['execution_start', 'execution_cached [1,2,3,4,5,6,7,8,9]', 'executed 8', 'progress_state 8 finished', 'execution_success', 'executing null']);
    // A new seed re-runs only what depends on it: the loaders, the image and the prompts come from the cache.
    const third = await post(h, '/prompt', {prompt: img2img('in.png', {seed: 3}), client_id: 'seeds'});
    await socket.waitFor(doneOf(third.json.prompt_id));
    const cached = socket.messages.find((message) => message.type === 'execution_cached' && message.data.prompt_id === third.json.prompt_id);
    expect(cached?.data.nodes).toEqual(['1', '2', '3', '4', '5', '9']);
  });

  it('saves the video workflow as an animated PNG with one frame per requested frame', async () => {
    const h = await startComfy();
    const name = (await upload(h, 'still.png', png(48, 40, [220, 120, 20]))).json.name as string;
    const workflow = JSON.parse(readFileSync(new URL('../../workflows/img2vid.json', import.meta.url), 'utf8')) as Json;
    Object.assign(workflow['2'].inputs, {image: name});
    Object.assign(workflow['9'].inputs, {width: 32, height: 24});
    Object.assign(workflow['6'].inputs, {steps: 3, seed: 99});
    workflow['10'].inputs.amount = 6;
    const socket = await connect(h, 'video');
    const {json} = await post(h, '/prompt', {prompt: workflow, client_id: 'video'});
    const executed = await socket.waitFor((message) => message.type === 'executed');
    expect(executed.data.output).toEqual({images: [{filename: 'img2vid_00001_.png', subfolder: 'vastdeck', type: 'output'}], animated: [true]});
    await socket.waitFor(doneOf(json.prompt_id));
    const bytes = (await call(h, '/view?filename=img2vid_00001_.png&subfolder=vastdeck')).bytes;
    const decoded = PNG.sync.read(bytes);
    expect([decoded.width, decoded.height]).toEqual([32, 24]);
    const chunks: Array<[string, Buffer]> = [];
    for (let at = 8; at < bytes.length; ) {
      const length = bytes.readUInt32BE(at);
      chunks.push([bytes.toString('latin1', at + 4, at + 8), bytes.subarray(at + 8, at + 8 + length)]);
      at += 12 + length;
    }
    const types = chunks.map(([type]) => type);
    expect(types.indexOf('acTL')).toBeLessThan(types.indexOf('IDAT'));
    expect(chunks.find(([type]) => type === 'acTL')?.[1].readUInt32BE(0)).toBe(6);
    expect(types.filter((type) => type === 'fcTL')).toHaveLength(6);
    expect(types.filter((type) => type === 'fdAT')).toHaveLength(5);
    const history = (await call(h, `/history/${json.prompt_id}`)).json[json.prompt_id];
    expect(history.outputs['8'].animated).toEqual([true]);
  });

  it('validates prompts with the real error shapes', async () => {
    const h = await startComfy();
    await upload(h, 'in.png', png(8, 8, [1, 1, 1]));
    const rejected = async (prompt: Json): Promise<Json> => {
      const answer = await post(h, '/prompt', {prompt});
      expect(answer.status).toBe(400);
      return answer.json as Json;
    };
    const chain = {
      10: {class_type: 'LoadImage', inputs: {image: 'in.png'}},
      20: {class_type: 'ImageInvert', inputs: {image: ['10', 0]}},
      30: {class_type: 'SaveImage', inputs: {images: ['20', 0], filename_prefix: 'tests/inv'}},
    };
    expect(await rejected({...chain, 20: {class_type: 'ImageInvrt', inputs: {image: ['10', 0]}}})).toEqual({
      error: {type: 'invalid_prompt', message: 'Cannot execute because node ImageInvrt does not exist.', details: "Node ID '#20'", extra_info: {}},
      node_errors: {},
    });
    expect((await rejected({10: chain[10], 20: chain[20]})).error).toEqual({type: 'prompt_no_outputs', message: 'Prompt has no outputs', details: '', extra_info: {}});
    expect(await rejected({...chain, 10: {class_type: 'LoadImage', inputs: {image: 'cat-missing.png'}}})).toEqual({
      error: {type: 'prompt_outputs_failed_validation', message: 'Prompt outputs failed validation', details: '', extra_info: {}},
      node_errors: {
        10: {
          errors: [{type: 'custom_validation_failed', message: 'Custom validation failed for node', details: 'image - Invalid image file: cat-missing.png', extra_info: {input_name: 'image'}}],
          dependent_outputs: ['30'],
          class_type: 'LoadImage',
        },
      },
    });
    const model = await rejected({...img2img('in.png'), 1: {class_type: 'CheckpointLoaderSimple', inputs: {ckpt_name: 'sd15.safetensors'}}});
    expect(model.error.details).toBe('');
    expect(model.node_errors['1'].errors[0]).toEqual({
      type: 'value_not_in_list',
      message: 'Value not in list',
      details: "ckpt_name: 'sd15.safetensors' not in ['sd_xl_base_1.0.safetensors']",
      extra_info: {input_name: 'ckpt_name', input_config: [['sd_xl_base_1.0.safetensors'], {tooltip: 'The name of the checkpoint (model) to load.'}], received_value: 'sd15.safetensors'},
    });
    expect(model.node_errors['1'].dependent_outputs).toEqual(['8']);
    const ranges = img2img('in.png');
    Object.assign(ranges['6'].inputs, {steps: 0, denoise: 1.5});
    const range = await rejected(ranges);
    expect(range.node_errors['6'].errors.map((error: Json) => [error.type, error.message, error.details])).toEqual([
      ['value_smaller_than_min', 'Value 0 smaller than min of 1', 'steps'],
      ['value_bigger_than_max', 'Value 1.5 bigger than max of 1.0', 'denoise'],
    ]);
    // An output node's own errors do show in details.
    const own = await rejected({...chain, 30: {class_type: 'SaveImage', inputs: {filename_prefix: 'x'}}});
    expect(own.error.details).toBe('Required input is missing: images');
    // A link to a node that does not exist: the linking node carries the KeyError.
    const dangling = await rejected({...chain, 20: {class_type: 'ImageInvert', inputs: {image: ['99', 0]}}});
    expect(dangling.node_errors['20'].errors[0]).toMatchObject({type: 'exception_during_inner_validation', details: "'99'", extra_info: {exception_type: 'KeyError', linked_node: ['20', 0]}});
    const coerced = await rejected({...img2img('in.png'), 6: {...img2img('in.png')['6'], inputs: {...img2img('in.png')['6'].inputs, steps: 'many'}}});
    expect(coerced.node_errors['6'].errors[0]).toMatchObject({type: 'invalid_input_type', details: "steps, many, invalid literal for int() with base 10: 'many'"});
    expect((await post(h, '/prompt', {})).json.error.type).toBe('no_prompt');
    // Every submission consumed a number, valid or not: the next one gets 9.
    expect((await post(h, '/prompt', {prompt: {...img2img('in.png'), 6: {...img2img('in.png')['6'], inputs: {...img2img('in.png')['6'].inputs, steps: '3'}}}})).json.number).toBe(9);
  });

  it('interrupts only the running prompt named by prompt_id', async () => {
    const h = await startComfy(20);
    await upload(h, 'in.png', png(16, 16, [5, 5, 5]));
    const socket = await connect(h, 'stopper');
    const {json} = await post(h, '/prompt', {prompt: img2img('in.png', {steps: 10000, size: 16}), client_id: 'stopper'});
    await socket.waitFor((message) => message.type === 'progress');
    expect((await post(h, '/interrupt', {prompt_id: 'not-this-one'})).status).toBe(200);
    expect((await post(h, '/api/interrupt', {prompt_id: json.prompt_id})).status).toBe(200);
    await socket.waitFor(doneOf(json.prompt_id));
    const tail = compact(socket.messages).slice(-3);
    expect(tail).toEqual(['execution_interrupted', 'status 0', 'executing null']);
    const interrupted = socket.messages.find((message) => message.type === 'execution_interrupted');
    expect(interrupted?.data).toMatchObject({prompt_id: json.prompt_id, node_id: '6', node_type: 'KSampler', executed: ['1', '2', '9', '3', '5', '4']});
    const history = (await call(h, `/history/${json.prompt_id}`)).json[json.prompt_id];
    expect(history.status).toMatchObject({status_str: 'error', completed: false});
    expect(history.status.messages.at(-1)[0]).toBe('execution_interrupted');
  });

  it('keeps running when the client\'s WebSocket drops, and routes events only to the submitter', async () => {
    const h = await startComfy(20);
    await upload(h, 'in.png', png(16, 16, [50, 60, 70]));
    const submitter = await connect(h, 'submitter');
    const bystander = await connect(h, 'bystander');
    const {json} = await post(h, '/prompt', {prompt: img2img('in.png', {steps: 600, size: 16}), client_id: 'submitter'});
    await submitter.waitFor((message) => message.type === 'progress');
    expect(h.comfy.dropWebSocket('submitter')).toBe(1);
    await once(submitter.ws, 'close');
    for (;;) {
      const entry = (await call(h, `/history/${json.prompt_id}`)).json[json.prompt_id];
      if (entry) {
        expect(entry.status.status_str).toBe('success');
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(h.host.fs.list(`${OUTPUT}/vastdeck`)).toEqual(['img2img_00001_.png']);
    expect(new Set(bystander.messages.map((message) => message.type))).toEqual(new Set(['status']));
  });

  it('stalls a job\'s WebSocket events on request, still writing history', async () => {
    const h = await startComfy();
    await upload(h, 'in.png', png(8, 8, [1, 2, 3]));
    const socket = await connect(h, 'quiet');
    h.comfy.stallNextJob();
    const {json} = await post(h, '/prompt', {prompt: img2img('in.png'), client_id: 'quiet'});
    for (;;) {
      if ((await call(h, `/history/${json.prompt_id}`)).json[json.prompt_id]) break;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    // The queue's own status broadcasts (put, get) went out before the job started; nothing after.
    await socket.waitFor(() => socket.messages.length >= 3);
    expect(compact(socket.messages.slice(1))).toEqual(['status 1', 'status 1']);
  });

  it('reports node failures as execution_error: an injected fault, and an out-of-memory decode', async () => {
    const h = await startComfy();
    await upload(h, 'in.png', png(8, 8, [1, 2, 3]));
    const socket = await connect(h, 'fails');
    h.comfy.failNextJob({node: 'VAEEncode'});
    const failed = await post(h, '/prompt', {prompt: img2img('in.png'), client_id: 'fails'});
    await socket.waitFor(doneOf(failed.json.prompt_id));
    const error = socket.messages.find((message) => message.type === 'execution_error');
    expect(error?.data).toMatchObject({
      prompt_id: failed.json.prompt_id,
      node_id: '3',
      node_type: 'VAEEncode',
      executed: ['1', '2', '9'],
      exception_type: 'RuntimeError',
      exception_message: 'CUDA error: an illegal memory access was encountered\n',
      current_outputs: [],
    });
    expect(error?.data.current_inputs.vae[0]).toMatch(/^<comfy\.sd\.VAE object at 0x/);
    expect(error?.data.traceback.length).toBeGreaterThan(0);
    expect(compact(socket.messages).slice(-3)).toEqual(['execution_error', 'status 0', 'executing null']);

    const huge = {
      1: {class_type: 'CheckpointLoaderSimple', inputs: {ckpt_name: 'sd_xl_base_1.0.safetensors'}},
      2: {class_type: 'EmptyLatentImage', inputs: {width: 16384, height: 16384, batch_size: 4}},
      3: {class_type: 'VAEDecode', inputs: {samples: ['2', 0], vae: ['1', 2]}},
      4: {class_type: 'PreviewImage', inputs: {images: ['3', 0]}},
    };
    const oom = await post(h, '/prompt', {prompt: huge, client_id: 'fails'});
    await socket.waitFor(doneOf(oom.json.prompt_id));
    const oomError = socket.messages.filter((message) => message.type === 'execution_error').at(-1);
    expect(oomError?.data).toMatchObject({node_id: '3', node_type: 'VAEDecode', exception_type: 'torch.OutOfMemoryError'});
    expect(oomError?.data.exception_message).toContain('This error means you ran out of memory on your GPU.');
  });

  it('answers /view with 400, 403 and 404 like ComfyUI', async () => {
    const h = await startComfy();
    await upload(h, 'a.png', png(4, 4, [1, 1, 1]));
    expect((await call(h, '/view')).status).toBe(404);
    expect((await call(h, '/view?filename=../secret.png')).status).toBe(400);
    expect((await call(h, '/view?filename=/etc/passwd')).status).toBe(400);
    expect((await call(h, '/view?filename=a.png&type=models')).status).toBe(400);
    expect((await call(h, '/view?filename=a.png&subfolder=../input')).status).toBe(403);
    expect((await call(h, '/view?filename=missing.png')).status).toBe(404);
    expect((await call(h, '/view?filename=a.png')).status).toBe(404);
    expect((await call(h, '/view?filename=a.png&type=input')).status).toBe(200);
    expect((await call(h, '/api/view?filename=a.png%20[input]')).status).toBe(200);
    const rgb = PNG.sync.read((await call(h, '/view?filename=a.png&type=input&channel=rgb')).bytes);
    expect(rgb.width).toBe(4);
  });

  it('requires the portal token for the WebSocket upgrade too', async () => {
    const h = await startComfy();
    const refused = new WebSocket(`ws://127.0.0.1:${h.host.portalPort}/ws?clientId=x`);
    sockets.push(refused);
    refused.on('error', () => {});
    const [, response] = (await once(refused, 'unexpected-response')) as [unknown, {statusCode: number}];
    expect(response.statusCode).toBe(401);
    const socket = await connect(h, 'welcome');
    socket.ws.send(JSON.stringify({type: 'feature_flags', data: {supports_preview_metadata: true}}));
    const flags = await socket.waitFor((message) => message.type === 'feature_flags');
    expect(flags.data).toEqual({supports_preview_metadata: true, max_upload_size: 104857600});
  });

  it('forgets queue, history and temp/ on restart', async () => {
    const h = await startComfy();
    await upload(h, 'in.png', png(8, 8, [1, 2, 3]));
    const socket = await connect(h, 'restart');
    const prompt = {
      1: {class_type: 'LoadImage', inputs: {image: 'in.png'}},
      2: {class_type: 'PreviewImage', inputs: {images: ['1', 0]}},
    };
    const {json} = await post(h, '/prompt', {prompt, client_id: 'restart'});
    await socket.waitFor(doneOf(json.prompt_id));
    const preview = (await call(h, `/history/${json.prompt_id}`)).json[json.prompt_id].outputs['2'].images[0];
    expect(preview).toMatchObject({subfolder: '', type: 'temp', filename: expect.stringMatching(/^ComfyUI_temp_[a-z]{5}_00001_\.png$/)});
    expect((await call(h, `/view?filename=${preview.filename}&type=temp`)).status).toBe(200);
    h.comfy.restart();
    await once(socket.ws, 'close');
    expect((await call(h, '/history')).json).toEqual({});
    expect((await call(h, `/view?filename=${preview.filename}&type=temp`)).status).toBe(404);
    expect((await post(h, '/prompt', {prompt, client_id: 'restart'})).json.number).toBe(0);
  });
});

describe('the simulated cloud', () => {
  it('gives every rented instance this ComfyUI, with its fault hooks', async () => {
    const cloud = await startSimCloud({port: 0, seed: 5, offers: 200, rateLimitScale: 0, churnIntervalMs: 0, speed: 1000});
    clouds.push(cloud);
    const rest = async (path: string, init: RequestInit = {}): Promise<Json> => {
      const response = await fetch(`${cloud.baseUrl}${path}`, {...init, headers: {Authorization: `Bearer ${cloud.apiKey}`, 'Content-Type': 'application/json'}});
      return (await response.json()) as Json;
    };
    const search = await rest('/api/v0/bundles/', {method: 'POST', body: JSON.stringify({rentable: {eq: true}, inet_down: {gte: 1500}, limit: 1})});
    const offer = search.offers[0] as Json;
    const listening = new Promise<void>((resolve) => cloud.instances.events.on('comfy-listening', () => resolve()));
    const created = await rest(`/api/v0/asks/${offer.id}/`, {
      method: 'PUT',
      body: JSON.stringify({image: 'vastai/comfyui:@vastai-automatic-tag', disk: 40, runtype: 'jupyter_direct', env: {'-p 8188:8188': '1', WEB_PASSWORD: TOKEN}}),
    });
    const id = created.new_contract as number;
    await listening;
    const instance = (await rest(`/api/v0/instances/${id}/`)).instances as Json;
    const port = Number(instance.ports['8188/tcp'][0].HostPort);
    const models = await fetch(`http://127.0.0.1:${port}/api/models/checkpoints`, {headers: {Authorization: `Bearer ${TOKEN}`}});
    expect(await models.json()).toEqual(['sd_xl_base_1.0.safetensors']);
    const stats = (await (await fetch(`http://127.0.0.1:${port}/system_stats`, {headers: {Authorization: `Bearer ${TOKEN}`}})).json()) as Json;
    expect(stats.devices[0].name).toContain(String(offer.gpu_name));
    expect(cloud.instances.comfyOf(id)?.dropWebSocket()).toBe(0);
    cloud.instances.destroy(id);
    expect(cloud.instances.comfyOf(id)).toBeUndefined();
  });
});
