// ComfyUI's own script_examples (basic_api_example.py, websockets_api_example.py,
// websockets_api_example_ws_images.py) re-expressed in TypeScript, request for request, changed only
// in address and auth header (the portal's Bearer token), against a simulated instance whose
// provisioning manifest asked for the SD1.5 checkpoint. Images come back over HTTP and over the
// WebSocket. Time runs on a ManualClock.
import {randomUUID} from 'node:crypto';
import {PNG} from 'pngjs';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import WebSocket from 'ws';
import {SD15, SD15_CKPT, WEB_PASSWORD, comfyBase, createProvisioned, startManualCloud, untilComfyListens, type ManualCloud} from '../helpers/sim-provisioned.js';

/** The prompt_text of the examples (the default SD1.5 workflow), with its output node and checkpoint. */
function examplePrompt(output: Record<string, unknown>, ckptName: string): Record<string, {class_type: string; inputs: Record<string, unknown>}> {
  return {
    3: {class_type: 'KSampler', inputs: {cfg: 8, denoise: 1, latent_image: ['5', 0], model: ['4', 0], negative: ['7', 0], positive: ['6', 0], sampler_name: 'euler', scheduler: 'normal', seed: 8566257, steps: 20}},
    4: {class_type: 'CheckpointLoaderSimple', inputs: {ckpt_name: ckptName}},
    5: {class_type: 'EmptyLatentImage', inputs: {batch_size: 1, height: 512, width: 512}},
    6: {class_type: 'CLIPTextEncode', inputs: {clip: ['4', 1], text: 'masterpiece best quality girl'}},
    7: {class_type: 'CLIPTextEncode', inputs: {clip: ['4', 1], text: 'bad hands'}},
    8: {class_type: 'VAEDecode', inputs: {samples: ['3', 0], vae: ['4', 2]}},
    ...output,
  };
}

/** What every example does to the prompt before queueing it. */
function patched<T extends Record<string, {inputs: Record<string, unknown>}>>(prompt: T): T {
  prompt['6']!.inputs.text = 'masterpiece best quality man';
  prompt['3']!.inputs.seed = 5;
  return prompt;
}

/** urllib.request.Request(url, data=json.dumps(p).encode()) + urlopen: a POST with urllib's default content type. */
async function urllibPost(url: string, payload: unknown): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: {'Content-Type': 'application/x-www-form-urlencoded', 'User-Agent': 'Python-urllib/3.11', Authorization: `Bearer ${WEB_PASSWORD}`},
    body: JSON.stringify(payload),
  });
}

async function urllibGet(url: string): Promise<Response> {
  const response = await fetch(url, {headers: {'User-Agent': 'Python-urllib/3.11', Authorization: `Bearer ${WEB_PASSWORD}`}});
  expect(response.status, url).toBe(200);
  return response;
}

/** websocket-client's WebSocket(): connect, then recv() frame by frame (str for text, bytes for binary). */
class ScriptSocket {
  private readonly frames: Array<string | Buffer> = [];
  private constructor(private readonly ws: WebSocket, private readonly manual: ManualCloud) {
    ws.on('message', (data, isBinary) => this.frames.push(isBinary ? Buffer.from(data as Buffer) : String(data)));
  }

  static async connect(url: string, manual: ManualCloud): Promise<ScriptSocket> {
    const ws = new WebSocket(url, {headers: {Authorization: `Bearer ${WEB_PASSWORD}`}});
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    return new ScriptSocket(ws, manual);
  }

  /** ws.recv(): the next frame, letting simulated time pass while the job runs. */
  async recv(): Promise<string | Buffer> {
    const arrived = await this.manual.clock.advanceUntil(() => this.frames.length > 0, {stepMs: 20, limitMs: 600_000});
    if (!arrived) throw new Error('no WebSocket frame within ten simulated minutes');
    return this.frames.shift()!;
  }

  close(): void {
    this.ws.close();
  }
}

let manual: ManualCloud;
let base: string;
let wsBase: string;

beforeAll(async () => {
  manual = await startManualCloud();
  const {id} = await createProvisioned(manual.cloud, {models: [{url: SD15, folder: 'checkpoints'}, {url: SD15_CKPT, folder: 'checkpoints'}], comfyuiArgs: '--preview-method auto'});
  await untilComfyListens(manual, id);
  base = await comfyBase(manual.cloud, id);
  wsBase = base.replace('http://', 'ws://');
});

afterAll(async () => {
  await manual.cloud.close();
});

describe('ComfyUI script_examples against a provisioned simulated instance', () => {
  it('basic_api_example.py: POST /prompt with {"prompt"} queues the job, which saves ComfyUI_00001_.png', async () => {
    const prompt = patched(examplePrompt({9: {class_type: 'SaveImage', inputs: {filename_prefix: 'ComfyUI', images: ['8', 0]}}}, 'v1-5-pruned-emaonly.safetensors'));
    const answer = await urllibPost(`${base}/prompt`, {prompt});
    expect(answer.status).toBe(200);
    const queued = (await answer.json()) as {prompt_id: string; number: number; node_errors: unknown};
    expect(queued).toMatchObject({number: expect.any(Number), node_errors: {}});
    expect(queued.prompt_id).toMatch(/^[0-9a-f-]{36}$/);
    // The script ends here; the job still runs to its history entry.
    let history: Record<string, {outputs: Record<string, {images: Array<{filename: string}>}>}> = {};
    for (let polls = 0; polls < 600 && Object.keys(history).length === 0; polls++) {
      await manual.clock.advance(500);
      history = (await (await urllibGet(`${base}/history/${queued.prompt_id}`)).json()) as typeof history;
    }
    expect(history[queued.prompt_id]!.outputs['9']!.images[0]!.filename).toBe('ComfyUI_00001_.png');
  });

  it('websockets_api_example.py: waits for executing null on /ws, reads /history and downloads every image from /view', async () => {
    const clientId = randomUUID();
    const ws = await ScriptSocket.connect(`${wsBase}/ws?clientId=${clientId}`, manual);
    const prompt = patched(examplePrompt({9: {class_type: 'SaveImage', inputs: {filename_prefix: 'ccniyUI', images: ['8', 0]}}}, 'v1-5-pruned-emaonly.ckpt'));
    const {prompt_id: promptId} = (await (await urllibPost(`${base}/prompt`, {prompt, client_id: clientId})).json()) as {prompt_id: string};
    let binaryFrames = 0;
    for (;;) {
      const out = await ws.recv();
      if (typeof out === 'string') {
        const message = JSON.parse(out) as {type: string; data: {node?: string | null; prompt_id?: string}};
        if (message.type === 'executing' && message.data.node === null && message.data.prompt_id === promptId) break;
      } else {
        binaryFrames++; // previews are binary data
        // PREVIEW_IMAGE, image type 1: latent previews are JPEG.
        expect([...out.subarray(0, 11)]).toEqual([0, 0, 0, 1, 0, 0, 0, 1, 0xff, 0xd8, 0xff]);
      }
    }
    ws.close();
    expect(binaryFrames).toBeGreaterThan(0); // --preview-method auto: one latent preview per sampler step
    const history = ((await (await urllibGet(`${base}/history/${promptId}`)).json()) as Record<string, {outputs: Record<string, {images?: Array<{filename: string; subfolder: string; type: string}>}>}>)[promptId]!;
    const outputImages: Record<string, Buffer[]> = {};
    for (const [nodeId, nodeOutput] of Object.entries(history.outputs)) {
      if (!nodeOutput.images) continue;
      outputImages[nodeId] = [];
      for (const image of nodeOutput.images) {
        const query = new URLSearchParams({filename: image.filename, subfolder: image.subfolder, type: image.type});
        outputImages[nodeId]!.push(Buffer.from(await (await urllibGet(`${base}/view?${query.toString()}`)).arrayBuffer()));
      }
    }
    expect(Object.keys(outputImages)).toEqual(['9']);
    const png = PNG.sync.read(outputImages['9']![0]!);
    expect([png.width, png.height]).toEqual([512, 512]);
  });

  it('websockets_api_example_ws_images.py: SaveImageWebsocket sends the image as a binary frame, read as out[8:]', async () => {
    const clientId = randomUUID();
    const ws = await ScriptSocket.connect(`${wsBase}/ws?clientId=${clientId}`, manual);
    const prompt = patched(examplePrompt({save_image_websocket_node: {class_type: 'SaveImageWebsocket', inputs: {images: ['8', 0]}}}, 'v1-5-pruned-emaonly.safetensors'));
    const {prompt_id: promptId} = (await (await urllibPost(`${base}/api/prompt`, {prompt, client_id: clientId})).json()) as {prompt_id: string};
    const outputImages: Record<string, Buffer[]> = {};
    let currentNode = '';
    for (;;) {
      const out = await ws.recv();
      if (typeof out === 'string') {
        const message = JSON.parse(out) as {type: string; data: {node?: string | null; prompt_id?: string}};
        if (message.type === 'executing' && message.data.prompt_id === promptId) {
          if (message.data.node === null) break;
          currentNode = message.data.node!;
        }
      } else if (currentNode === 'save_image_websocket_node') {
        (outputImages[currentNode] ??= []).push(out.subarray(8));
      }
    }
    ws.close();
    expect(Object.keys(outputImages)).toEqual(['save_image_websocket_node']);
    expect(outputImages.save_image_websocket_node).toHaveLength(1);
    const png = PNG.sync.read(outputImages.save_image_websocket_node![0]!);
    expect([png.width, png.height]).toEqual([512, 512]);
  });
});
