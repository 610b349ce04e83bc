// The simulated ComfyUI answers as a real one does: /object_info printed as Python prints it (floats,
// the u64 seed max, tooltips), every nodes.py node plus the common comfy_extras ones and
// SaveImageWebsocket, GET /, /extensions, /upload/mask, /view_metadata, previews as binary frames
// (JPEG latent previews, with metadata for clients that ask), and execution time that follows the
// rented GPU.
import {randomUUID} from 'node:crypto';
import {createServer, type Server} from 'node:http';
import type {AddressInfo} from 'node:net';
import {PNG} from 'pngjs';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import WebSocket from 'ws';
import {createSimComfy} from '../../source/sim/comfy/comfy-server.js';
import {ManualClock} from '../../source/sim/comfy/sim-clock.js';
import {VirtualFs} from '../../source/sim/virtual-fs.js';
import {decodeBaselineJpeg} from '../helpers/jpeg-decoder.js';
import {SD15, WEB_PASSWORD, comfyBase, createProvisioned, startManualCloud, untilComfyListens, type ManualCloud} from '../helpers/sim-provisioned.js';

/** Every class in ComfyUI 0.3.64's nodes.py NODE_CLASS_MAPPINGS. */
const NODES_PY = [
  'KSampler', 'CheckpointLoaderSimple', 'CLIPTextEncode', 'CLIPSetLastLayer', 'VAEDecode', 'VAEEncode', 'VAEEncodeForInpaint', 'VAELoader',
  'EmptyLatentImage', 'LatentUpscale', 'LatentUpscaleBy', 'LatentFromBatch', 'RepeatLatentBatch', 'SaveImage', 'PreviewImage', 'LoadImage',
  'LoadImageMask', 'ImageScale', 'ImageScaleBy', 'ImageInvert', 'ImageBatch', 'ImagePadForOutpaint', 'EmptyImage', 'ConditioningAverage',
  'ConditioningCombine', 'ConditioningConcat', 'ConditioningSetArea', 'ConditioningSetAreaPercentage', 'ConditioningSetAreaStrength',
  'ConditioningSetMask', 'KSamplerAdvanced', 'SetLatentNoiseMask', 'LatentComposite', 'LatentBlend', 'LatentRotate', 'LatentFlip',
  'LatentCrop', 'LoraLoader', 'CLIPLoader', 'UNETLoader', 'DualCLIPLoader', 'CLIPVisionEncode', 'StyleModelApply', 'unCLIPConditioning',
  'ControlNetApply', 'ControlNetApplyAdvanced', 'ControlNetLoader', 'DiffControlNetLoader', 'StyleModelLoader', 'CLIPVisionLoader',
  'VAEDecodeTiled', 'VAEEncodeTiled', 'unCLIPCheckpointLoader', 'GLIGENLoader', 'GLIGENTextBoxApply', 'InpaintModelConditioning',
  'CheckpointLoader', 'DiffusersLoader', 'LoadLatent', 'SaveLatent', 'ConditioningZeroOut', 'ConditioningSetTimestepRange', 'LoraLoaderModelOnly',
];
const EXTRAS = ['SaveImageWebsocket', 'CLIPTextEncodeSDXL', 'CLIPTextEncodeFlux', 'FluxGuidance', 'EmptySD3LatentImage', 'SamplerCustomAdvanced', 'KSamplerSelect', 'BasicScheduler', 'RandomNoise', 'BasicGuider', 'UpscaleModelLoader', 'ImageUpscaleWithModel', 'WanImageToVideo', 'CreateVideo', 'SaveVideo', 'SaveAnimatedPNG', 'EmptyHunyuanLatentVideo', 'ModelSamplingSD3'];

let manual: ManualCloud;
let base: string;
const auth = {Authorization: `Bearer ${WEB_PASSWORD}`};

beforeAll(async () => {
  manual = await startManualCloud();
  const {id} = await createProvisioned(manual.cloud, {models: [{url: SD15, folder: 'checkpoints'}], comfyuiArgs: '--preview-method auto'});
  await untilComfyListens(manual, id);
  base = await comfyBase(manual.cloud, id);
});

afterAll(async () => {
  await manual.cloud.close();
});

const sd15 = (output: Record<string, unknown>): Record<string, unknown> => ({
  4: {class_type: 'CheckpointLoaderSimple', inputs: {ckpt_name: 'v1-5-pruned-emaonly.safetensors'}},
  5: {class_type: 'EmptyLatentImage', inputs: {width: 512, height: 512, batch_size: 1}},
  6: {class_type: 'CLIPTextEncode', inputs: {text: 'a fox', clip: ['4', 1]}},
  3: {class_type: 'KSampler', inputs: {seed: 1, steps: 3, cfg: 7, sampler_name: 'euler', scheduler: 'normal', denoise: 1, model: ['4', 0], positive: ['6', 0], negative: ['6', 0], latent_image: ['5', 0]}},
  8: {class_type: 'VAEDecode', inputs: {samples: ['3', 0], vae: ['4', 2]}},
  ...output,
});

describe('/object_info and the node catalogue', () => {
  it('prints KSampler as Python does: seed max 18446744073709551615, floats with a fraction, tooltips and output_tooltips', async () => {
    const text = await (await fetch(`${base}/object_info/KSampler`, {headers: auth})).text();
    expect(text).toContain('"max": 18446744073709551615');
    expect(text).toContain('"cfg": ["FLOAT", {"default": 8.0, "min": 0.0, "max": 100.0, "step": 0.1, "round": 0.01, "tooltip": ');
    expect(text).toContain('"denoise": ["FLOAT", {"default": 1.0, "min": 0.0, "max": 1.0, "step": 0.01');
    expect(text).toContain('"output_tooltips": ["The denoised latent."]');
    expect(text).not.toContain('18446744073709552000');
  });

  it('knows every nodes.py node, the common comfy_extras ones and SaveImageWebsocket, each in the node_info shape', async () => {
    const all = (await (await fetch(`${base}/object_info`, {headers: auth})).json()) as Record<string, Record<string, unknown>>;
    for (const name of [...NODES_PY, ...EXTRAS]) {
      expect(all[name], name).toMatchObject({name, input: {required: expect.any(Object)}, input_order: {required: expect.any(Array)}, output: expect.any(Array), output_is_list: expect.any(Array), output_name: expect.any(Array), display_name: expect.any(String), category: expect.any(String), output_node: expect.any(Boolean)});
    }
    expect(all.SaveImageWebsocket).toMatchObject({python_module: 'custom_nodes.websocket_image_save', category: 'api node/image', output_node: true, output: []});
    expect(all.CheckpointLoaderSimple!.input).toEqual({required: {ckpt_name: [['v1-5-pruned-emaonly.safetensors'], {tooltip: 'The name of the checkpoint (model) to load.'}]}});
  });

  it('validates and runs a Flux-style custom-sampling graph', async () => {
    const prompt = {
      4: {class_type: 'CheckpointLoaderSimple', inputs: {ckpt_name: 'v1-5-pruned-emaonly.safetensors'}},
      6: {class_type: 'CLIPTextEncodeFlux', inputs: {clip: ['4', 1], clip_l: 'a fox', t5xxl: 'a fox in snow', guidance: 3.5}},
      10: {class_type: 'BasicGuider', inputs: {model: ['4', 0], conditioning: ['6', 0]}},
      11: {class_type: 'KSamplerSelect', inputs: {sampler_name: 'euler'}},
      12: {class_type: 'BasicScheduler', inputs: {model: ['4', 0], scheduler: 'simple', steps: 4, denoise: 1}},
      13: {class_type: 'RandomNoise', inputs: {noise_seed: 42}},
      5: {class_type: 'EmptySD3LatentImage', inputs: {width: 256, height: 256, batch_size: 1}},
      14: {class_type: 'SamplerCustomAdvanced', inputs: {noise: ['13', 0], guider: ['10', 0], sampler: ['11', 0], sigmas: ['12', 0], latent_image: ['5', 0]}},
      8: {class_type: 'VAEDecode', inputs: {samples: ['14', 0], vae: ['4', 2]}},
      9: {class_type: 'SaveImage', inputs: {images: ['8', 0], filename_prefix: 'flux/run'}},
    };
    const queued = await fetch(`${base}/prompt`, {method: 'POST', headers: auth, body: JSON.stringify({prompt})});
    expect(queued.status).toBe(200);
    const {prompt_id: promptId} = (await queued.json()) as {prompt_id: string};
    let outputs: Record<string, {images: Array<{filename: string; subfolder: string}>}> | undefined;
    for (let polls = 0; polls < 200 && !outputs; polls++) {
      await manual.clock.advance(500);
      const history = (await (await fetch(`${base}/history/${promptId}`, {headers: auth})).json()) as Record<string, {outputs: typeof outputs}>;
      outputs = history[promptId]?.outputs;
    }
    expect(outputs!['9']!.images[0]).toMatchObject({filename: 'run_00001_.png', subfolder: 'flux'});
  });
});

describe('the other routes', () => {
  it('serves GET / as HTML and /extensions as a list of scripts, also under /api', async () => {
    const index = await fetch(`${base}/`, {headers: auth});
    expect(index.headers.get('content-type')).toBe('text/html');
    expect(await index.text()).toContain('<title>ComfyUI</title>');
    const extensions = (await (await fetch(`${base}/api/extensions`, {headers: auth})).json()) as string[];
    expect(extensions.every(path => path.startsWith('/extensions/') && path.endsWith('.js'))).toBe(true);
  });

  it('answers /view_metadata with a model\'s safetensors __metadata__, and 404 for an unknown one', async () => {
    const metadata = await fetch(`${base}/view_metadata/checkpoints?filename=v1-5-pruned-emaonly.safetensors`, {headers: auth});
    expect(metadata.status).toBe(200);
    expect(await metadata.json()).toMatchObject({'modelspec.title': 'v1-5-pruned-emaonly.safetensors'});
    expect((await fetch(`${base}/view_metadata/checkpoints?filename=nope.safetensors`, {headers: auth})).status).toBe(404);
  });

  it('puts an uploaded mask\'s alpha onto the original with /upload/mask, and refuses a mask of another size', async () => {
    const image = (width: number, alpha: number): Blob => {
      const png = new PNG({width, height: width});
      for (let at = 0; at < png.data.length; at += 4) png.data.set([10, 20, 30, alpha], at);
      return new Blob([PNG.sync.write(png)], {type: 'image/png'});
    };
    const upload = new FormData();
    upload.append('image', image(8, 255), 'photo.png');
    expect((await fetch(`${base}/upload/image`, {method: 'POST', headers: auth, body: upload})).status).toBe(200);
    const mask = new FormData();
    mask.append('image', image(8, 40), 'photo-mask.png');
    mask.append('original_ref', JSON.stringify({filename: 'photo.png', subfolder: '', type: 'input'}));
    const answer = await fetch(`${base}/upload/mask`, {method: 'POST', headers: auth, body: mask});
    expect(await answer.json()).toEqual({name: 'photo-mask.png', subfolder: '', type: 'input'});
    const saved = PNG.sync.read(Buffer.from(await (await fetch(`${base}/view?filename=photo-mask.png&type=input`, {headers: auth})).arrayBuffer()));
    expect([...saved.data.subarray(0, 4)]).toEqual([10, 20, 30, 40]);
    const wrong = new FormData();
    wrong.append('image', image(4, 40), 'small-mask.png');
    wrong.append('original_ref', JSON.stringify({filename: 'photo.png', type: 'input'}));
    expect((await fetch(`${base}/upload/mask`, {method: 'POST', headers: auth, body: wrong})).status).toBe(500);
  });
});

describe('binary WebSocket frames', () => {
  it('sends previews as type 4 with JSON metadata to a client that announced supports_preview_metadata', async () => {
    const clientId = randomUUID();
    const ws = new WebSocket(`${base.replace('http', 'ws')}/ws?clientId=${clientId}`, {headers: auth});
    const binary: Buffer[] = [];
    ws.on('message', (data, isBinary) => isBinary && binary.push(Buffer.from(data as Buffer)));
    await new Promise(resolve => ws.once('open', resolve));
    ws.send(JSON.stringify({type: 'feature_flags', data: {supports_preview_metadata: true}}));
    await manual.clock.advance(10);
    const queued = await fetch(`${base}/prompt`, {method: 'POST', headers: auth, body: JSON.stringify({prompt: sd15({9: {class_type: 'SaveImageWebsocket', inputs: {images: ['8', 0]}}}), client_id: clientId})});
    const {prompt_id: promptId} = (await queued.json()) as {prompt_id: string};
    await manual.clock.advanceUntil(() => binary.length >= 4, {stepMs: 100, limitMs: 120_000});
    ws.close();
    const frames = binary.map(frame => {
      expect(frame.readUInt32BE(0)).toBe(4);
      const length = frame.readUInt32BE(4);
      const metadata = JSON.parse(frame.subarray(8, 8 + length).toString('utf8')) as {node_id: string; prompt_id: string; image_type: string};
      return {metadata, image: frame.subarray(8 + length)};
    });
    // Three sampler previews from node 3 (JPEG, as latent_preview.py makes them), then the SaveImageWebsocket PNG from node 9.
    expect(frames.map(({metadata}) => [metadata.node_id, metadata.image_type])).toEqual([['3', 'image/jpeg'], ['3', 'image/jpeg'], ['3', 'image/jpeg'], ['9', 'image/png']]);
    for (const {metadata, image} of frames) {
      expect(metadata.prompt_id).toBe(promptId);
      expect([...image.subarray(0, 3)]).toEqual(metadata.image_type === 'image/jpeg' ? [0xff, 0xd8, 0xff] : [0x89, 0x50, 0x4e]);
    }
  });

  it("sends latent previews as type 1 with image type 1 (JPEG) to other clients, at the latent's aspect and --preview-size", async () => {
    const clientId = randomUUID();
    const ws = new WebSocket(`${base.replace('http', 'ws')}/ws?clientId=${clientId}`, {headers: auth});
    const binary: Buffer[] = [];
    ws.on('message', (data, isBinary) => isBinary && binary.push(Buffer.from(data as Buffer)));
    await new Promise(resolve => ws.once('open', resolve));
    const prompt = sd15({9: {class_type: 'PreviewImage', inputs: {images: ['8', 0]}}});
    prompt[5] = {class_type: 'EmptyLatentImage', inputs: {width: 768, height: 512, batch_size: 1}};
    await fetch(`${base}/prompt`, {method: 'POST', headers: auth, body: JSON.stringify({prompt, client_id: clientId})});
    await manual.clock.advanceUntil(() => binary.length >= 3, {stepMs: 100, limitMs: 120_000});
    ws.close();
    const brightness: number[] = [];
    for (const frame of binary) {
      expect([frame.readUInt32BE(0), frame.readUInt32BE(4)]).toEqual([1, 1]);
      const preview = decodeBaselineJpeg(frame.subarray(8));
      // --preview-size is 512 by default; the latent is 3:2.
      expect({width: preview.width, height: preview.height}).toEqual({width: 512, height: 341});
      brightness.push(preview.rgb[0]!);
    }
    // The preview's red brightens step by step as the sampler goes.
    expect(brightness).toEqual([...brightness].sort((a, b) => a - b));
    expect(brightness[0]).toBeLessThan(brightness.at(-1)!);
  });
});

describe('execution time follows the rented GPU (core/offers/gpu-speed.ts)', () => {
  async function simulatedSeconds(gpuName: string): Promise<number> {
    const clock = new ManualClock();
    const fs = new VirtualFs();
    fs.write('/workspace/ComfyUI/models/checkpoints/v1-5-pruned-emaonly.safetensors', 'weights');
    const comfy = createSimComfy({fs, speed: 1, gpuName, listening: () => true, time: clock});
    const server: Server = createServer(comfy.handleRequest);
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const started = clock.now();
      const {prompt_id: promptId} = (await (await fetch(`${url}/prompt`, {method: 'POST', body: JSON.stringify({prompt: sd15({9: {class_type: 'SaveImage', inputs: {images: ['8', 0], filename_prefix: 'speed'}}})})})).json()) as {prompt_id: string};
      let done = false;
      while (!done) {
        await clock.advance(10);
        done = Object.keys((await (await fetch(`${url}/history/${promptId}`)).json()) as object).length > 0;
      }
      return (clock.now() - started) / 1000;
    } finally {
      server.close();
      await comfy.close();
    }
  }

  it('finishes the same job sooner on a faster card', async () => {
    const [rtx5090, rtx4090, rtx3060] = [await simulatedSeconds('RTX 5090'), await simulatedSeconds('RTX 4090'), await simulatedSeconds('RTX 3060')];
    expect(rtx5090).toBeLessThan(rtx4090);
    expect(rtx4090).toBeLessThan(rtx3060);
  });
});
