// The simulated instance does what it was asked: vastdeck's provision.sh and manifest, shipped in the
// create's variables (no web host), decide what the boot downloads; the contract lines carry the
// timings of the offer's bandwidth; requested models appear in ComfyUI and unrequested ones stay
// value_not_in_list; a 404 or a gated model without a token fails provisioning as the script would
// (three provisioner attempts, ComfyUI still starts). Time runs on a ManualClock: no test sleeps.
import {afterEach, describe, expect, it} from 'vitest';
import {parseContractLine} from '../../source/core/instances/log-contract.js';
import type {SimCloud} from '../../source/sim/cloud.js';
import {SD15, WEB_PASSWORD, comfyBase, createProvisioned, startManualCloud, untilComfyListens, type Json, type ManualCloud} from '../helpers/sim-provisioned.js';

const SD15_BYTES = 4_265_146_304;
const clouds: SimCloud[] = [];

afterEach(async () => {
  await Promise.all(clouds.splice(0).map(cloud => cloud.close()));
});

async function start(): Promise<ManualCloud> {
  const started = await startManualCloud();
  clouds.push(started.cloud);
  return started;
}

function fileText(cloud: SimCloud, id: number, path: string): string {
  return cloud.instances.hostOf(id)?.fs.read(path)?.toString('utf8') ?? '';
}

async function comfy(cloud: SimCloud, id: number, path: string, body?: unknown): Promise<{status: number; json: unknown}> {
  const response = await fetch(`${await comfyBase(cloud, id)}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: {Authorization: `Bearer ${WEB_PASSWORD}`},
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return {status: response.status, json: await response.json()};
}

const sd15Prompt = (ckpt: string): Json => ({
  4: {class_type: 'CheckpointLoaderSimple', inputs: {ckpt_name: ckpt}},
  5: {class_type: 'EmptyLatentImage', inputs: {width: 512, height: 512, batch_size: 1}},
  6: {class_type: 'CLIPTextEncode', inputs: {text: 'a fox', clip: ['4', 1]}},
  7: {class_type: 'CLIPTextEncode', inputs: {text: 'blurry', clip: ['4', 1]}},
  3: {class_type: 'KSampler', inputs: {seed: 5, steps: 4, cfg: 7, sampler_name: 'euler', scheduler: 'normal', denoise: 1, model: ['4', 0], positive: ['6', 0], negative: ['7', 0], latent_image: ['5', 0]}},
  8: {class_type: 'VAEDecode', inputs: {samples: ['3', 0], vae: ['4', 2]}},
  9: {class_type: 'SaveImage', inputs: {images: ['8', 0], filename_prefix: 'sd15'}},
});

describe('a provisioned first boot', () => {
  it('downloads what the shipped manifest asks, at the offer\'s bandwidth, and ComfyUI lists exactly that', async () => {
    const started = await start();
    const {cloud} = started;
    const {id, offer} = await createProvisioned(cloud, {
      nodes: [{url: 'https://github.com/kijai/ComfyUI-KJNodes'}],
      models: [{url: SD15, folder: 'checkpoints'}, {url: 'https://civitai.com/api/download/models/135867?type=Model', folder: 'loras', filename: 'detail_tweaker_xl.safetensors'}],
      comfyuiArgs: '--preview-method auto',
    });
    await untilComfyListens(started, id);

    const log = fileText(cloud, id, '/var/log/portal/provisioning.log').split(/\r?\n/);
    const contract = log.map(line => parseContractLine(line)).filter(line => line !== undefined);
    const kinds = contract.map(line => line.kind);
    expect(kinds[0]).toBe('begin');
    expect(kinds).toContain('download-progress');
    expect(kinds.at(-1)).toBe('complete');
    // The provisioner's stamps are this boot's (the manual clock starts 2026-01-01), not the fixture's day.
    expect(log.some(line => /^2026-01-01 00:0\d:\d\d \[INFO\] Provisioner starting/.test(line))).toBe(true);
    expect(log.join('\n')).not.toContain('2026-09-14');
    expect(log).toContain('[vastdeck] node clone name=ComfyUI-KJNodes ref=-');
    expect(log).toContain('[vastdeck] download start file=v1-5-pruned-emaonly.safetensors folder=checkpoints host=huggingface.co');
    const done = contract.find(line => line.kind === 'download-done' && line.values.file === 'v1-5-pruned-emaonly.safetensors')!;
    expect(Number(done.values.bytes)).toBe(SD15_BYTES);
    // Two files share the link for a while, so the checkpoint takes at least bytes / bandwidth.
    const bandwidthBytesPerSec = (Number(offer.inet_down) * 1e6) / 8;
    expect(Number(done.values.seconds)).toBeGreaterThanOrEqual(Math.floor(SD15_BYTES / bandwidthBytesPerSec));
    expect(fileText(cloud, id, '/var/log/onstart.log')).toContain('Provisioning complete!');
    expect(cloud.instances.hostOf(id)!.fs.exists('/.provisioning_complete')).toBe(true);

    expect((await comfy(cloud, id, '/models/checkpoints')).json).toEqual(['v1-5-pruned-emaonly.safetensors']);
    expect((await comfy(cloud, id, '/models/loras')).json).toEqual(['detail_tweaker_xl.safetensors']);
    const stats = (await comfy(cloud, id, '/system_stats')).json as {system: {argv: string[]}; devices: Array<{name: string; vram_total: number}>};
    expect(stats.system.argv).toEqual(['main.py', '--disable-auto-launch', '--port', '18188', '--enable-cors-header', '--use-sage-attention', '--preview-method', 'auto']);
    expect(stats.devices[0]!.name).toBe('cuda:0 NVIDIA GeForce RTX 4090 : cudaMallocAsync');
    expect(stats.devices[0]!.vram_total).toBe(Number(offer.gpu_ram) * 1024 * 1024);

    expect((await comfy(cloud, id, '/prompt', {prompt: sd15Prompt('v1-5-pruned-emaonly.safetensors')})).status).toBe(200);
    const unrequested = await comfy(cloud, id, '/prompt', {prompt: sd15Prompt('sd_xl_base_1.0.safetensors')});
    expect(unrequested.status).toBe(400);
    expect(JSON.stringify(unrequested.json)).toContain('value_not_in_list');

    const charges = cloud.instances.charges(id)!;
    expect(charges.downloadedGb).toBeGreaterThan((SD15_BYTES + 311_290_102) / 1e9);
    expect(charges.bandwidth).toBeCloseTo(charges.downloadedGb * Number(offer.inet_down_cost), 6);
  });

  it('fails provisioning on a 404 and on a gated model without HF_TOKEN, three attempts, and ComfyUI still starts', async () => {
    const started = await start();
    const {cloud} = started;
    const {id} = await createProvisioned(cloud, {
      models: [
        {url: SD15, folder: 'checkpoints'},
        {url: 'https://huggingface.co/example-org/missing-model/resolve/main/missing.safetensors', folder: 'loras'},
        {url: 'https://huggingface.co/black-forest-labs/FLUX.1-dev/resolve/main/flux1-dev.safetensors', folder: 'diffusion_models'},
      ],
    });
    await untilComfyListens(started, id);
    const log = fileText(cloud, id, '/var/log/provisioning.log');
    expect(log).toContain('[vastdeck] download failed file=missing.safetensors attempts=1 reason=wget exit 8 (ERROR 404: Not Found.)');
    expect(log).toContain('[vastdeck] download failed file=flux1-dev.safetensors attempts=1 reason=wget exit 6 (ERROR 401: Unauthorized.)');
    expect(log).toContain('[vastdeck] provisioning failed step=models reason=2 of 3 downloads failed: missing.safetensors flux1-dev.safetensors');
    expect(log).toMatch(/^\[ERROR\] Provisioning Script failed at line \d+ with exit code 1$/m);
    expect(log.match(/\[vastdeck\] provisioning start /g)).toHaveLength(3);
    expect(log).toContain('[vastdeck] info models/checkpoints/v1-5-pruned-emaonly.safetensors is already there; not downloading it again');
    expect(log).toMatch(/\[ERROR\] All 3 attempts exhausted/);
    expect(fileText(cloud, id, '/var/log/onstart.log')).toContain('Note: Provisioning encountered issues but instance startup will continue');
    expect(cloud.instances.hostOf(id)!.fs.exists('/.provisioning_failed')).toBe(true);
    expect((await comfy(cloud, id, '/models/checkpoints')).json).toEqual(['v1-5-pruned-emaonly.safetensors']);
  });

  it('downloads the gated model once the create passes HF_TOKEN, and never prints the token', async () => {
    const started = await start();
    const {cloud} = started;
    const token = 'hf_simulated_token_1234567890';
    const {id} = await createProvisioned(cloud, {models: [{url: 'https://huggingface.co/black-forest-labs/FLUX.1-dev/resolve/main/flux1-dev.safetensors', folder: 'diffusion_models'}]}, {HF_TOKEN: token});
    await untilComfyListens(started, id);
    const log = fileText(cloud, id, '/var/log/portal/provisioning.log');
    expect(log).toContain('[vastdeck] download done file=flux1-dev.safetensors bytes=23802932552');
    expect(log).not.toContain(token);
    expect(fileText(cloud, id, '/var/log/onstart.log')).not.toContain(token);
    expect((await comfy(cloud, id, '/models/diffusion_models')).json).toEqual(['flux1-dev.safetensors']);
  });
});
