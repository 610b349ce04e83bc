// A simulated cloud on a ManualClock and an instance created the way vastdeck creates one with a
// provisioning manifest (provision.sh + manifest shipped in the create's variables), booted by
// advancing simulated time — no test sleeps. Used by the provisioning and contract tests.
import {mkdtempSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {provisioningDelivery} from '../../source/core/provisioning/delivery.js';
import {DEFAULT_SETTINGS} from '../../source/core/settings.js';
import {startSimCloud, type SimCloud, type SimCloudOptions} from '../../source/sim/cloud.js';
import {ManualClock} from '../../source/sim/comfy/sim-clock.js';

export type Json = Record<string, unknown>;

export const WEB_PASSWORD = 'provisioned-instance-password-0123456789';
export const SD15 = 'https://huggingface.co/stable-diffusion-v1-5/stable-diffusion-v1-5/resolve/main/v1-5-pruned-emaonly.safetensors';
export const SD15_CKPT = 'https://huggingface.co/stable-diffusion-v1-5/stable-diffusion-v1-5/resolve/main/v1-5-pruned-emaonly.ckpt';

const work = mkdtempSync(join(tmpdir(), 'vastdeck-sim-provisioned-'));

export interface ManualCloud {
  cloud: SimCloud;
  clock: ManualClock;
}

export async function startManualCloud(options: SimCloudOptions = {}): Promise<ManualCloud> {
  const clock = new ManualClock();
  const cloud = await startSimCloud({port: 0, seed: 11, offers: 200, rateLimitScale: 0, churnIntervalMs: 0, time: clock, ...options});
  return {cloud, clock};
}

export async function api(cloud: SimCloud, path: string, options: {method?: string; body?: unknown} = {}): Promise<Json> {
  const response = await fetch(`${cloud.baseUrl}${path}`, {
    method: options.method ?? 'GET',
    headers: {Authorization: `Bearer ${cloud.apiKey}`, 'Content-Type': 'application/json'},
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  return (await response.json()) as Json;
}

/** Creates an instance on an RTX 4090 offer the way vastdeck does with instance.provisioningManifest = `manifest`. */
export async function createProvisioned(cloud: SimCloud, manifest: Json, env: Record<string, string> = {}): Promise<{id: number; offer: Json}> {
  const path = join(work, `manifest-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(path, JSON.stringify(manifest));
  const delivery = await provisioningDelivery({...DEFAULT_SETTINGS, instance: {...DEFAULT_SETTINGS.instance, provisioningManifest: path}});
  const offers = (await api(cloud, '/api/v0/bundles/', {method: 'POST', body: {gpu_name: {eq: 'RTX 4090'}, inet_down: {gte: 800}, order: [['inet_down', 'asc']], limit: 1}})).offers as Json[];
  const offer = offers[0]!;
  const body = {
    client_id: 'me',
    image: 'vastai/comfyui:@vastai-automatic-tag',
    disk: 60,
    runtype: 'jupyter_direct',
    onstart: delivery.onstart,
    env: {'-p 1111:1111': '1', '-p 8188:8188': '1', OPEN_BUTTON_TOKEN: '1', WEB_PASSWORD, COMFYUI_ARGS: '--disable-auto-launch --port 18188 --enable-cors-header', ...delivery.extraEnv, ...env},
  };
  const created = await api(cloud, `/api/v0/asks/${String(offer.id)}/`, {method: 'PUT', body});
  if (created.success !== true) throw new Error(`create failed: ${JSON.stringify(created)}`);
  return {id: created.new_contract as number, offer};
}

/** Advances simulated time until the instance's ComfyUI listens (at most a simulated hour). */
export async function untilComfyListens({cloud, clock}: ManualCloud, id: number): Promise<void> {
  const listening = await clock.advanceUntil(() => cloud.instances.hostOf(id)?.comfyListening() === true, {stepMs: 2000, limitMs: 3_600_000});
  if (!listening) throw new Error(`instance ${id}'s ComfyUI never listened within a simulated hour`);
}

/** http://127.0.0.1:<8188 HostPort> of a running instance, from the API as a client reads it. */
export async function comfyBase(cloud: SimCloud, id: number): Promise<string> {
  const instance = (await api(cloud, `/api/v0/instances/${id}/`)).instances as Json;
  const port = (instance.ports as Record<string, Array<{HostPort: string}>>)['8188/tcp']![0]!.HostPort;
  return `http://127.0.0.1:${port}`;
}
