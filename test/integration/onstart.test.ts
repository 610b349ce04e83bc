// `vastdeck run --onstart` end to end against the simulated cloud: the job travels in the create
// request, the simulated instance runs it at boot (the same contract as provisioning/onstart-runner.py),
// and vastdeck only waits for done.json over SSH, then collects and verifies the outputs.
import {createHash} from 'node:crypto';
import {once} from 'node:events';
import {mkdtempSync, readFileSync, readdirSync} from 'node:fs';
import {createServer, type Server} from 'node:http';
import type {AddressInfo} from 'node:net';
import {tmpdir} from 'node:os';
import {basename, dirname, join} from 'node:path';
import {PNG} from 'pngjs';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {parseMarker} from '../../source/core/onstart/job-env.js';
import {startSimCloud, type SimCloud} from '../../source/sim/cloud.js';
import {runCli as run} from '../helpers/run-cli.js';

function fox(): Buffer {
  const png = new PNG({width: 80, height: 60});
  for (let i = 0; i < png.data.length; i += 4) png.data.set([200, 90 + (i % 97), 30, 255], i);
  return PNG.sync.write(png);
}

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');
const OUTPUTS = mkdtempSync(join(tmpdir(), 'vastdeck-onstart-outputs-'));
const JOB_ARGS = ['--workflow', 'img2img-sdxl', '--prompt', 'a fox in watercolor', '--width', '64', '--height', '64', '--steps', '3', '--seed', '7', 'gpu=RTX_4090', 'inet_down>=500'];
let images: Server;
let imageUrl: string;
const imageRequests: string[] = [];

beforeAll(async () => {
  process.env.VASTDECK_SIM_SPEED = '400';
  expect((await run(['config', 'set', 'outputsDir', OUTPUTS])).code).toBe(0);
  const png = fox();
  images = createServer((req, res) => {
    imageRequests.push(req.url ?? '');
    res.writeHead(200, {'Content-Type': 'image/png', 'Content-Length': png.length}).end(png);
  });
  images.listen(0, '127.0.0.1');
  await once(images, 'listening');
  imageUrl = `http://127.0.0.1:${(images.address() as AddressInfo).port}/fox.png`;
});

afterAll(async () => {
  images.close();
  delete process.env.VAST_API_KEY;
  delete process.env.VAST_URL;
});

/** The files of a job folder, each checked against job.json's sizes and hashes. */
function verifiedJobFolder(outputPath: string): {record: Record<string, any>; files: string[]} {
  const folder = dirname(outputPath);
  const record = JSON.parse(readFileSync(join(folder, 'job.json'), 'utf8')) as Record<string, any>;
  for (const output of record.outputs as Array<{file: string; bytes: number; sha256: string}>) {
    const bytes = readFileSync(join(folder, output.file));
    expect(bytes.length).toBe(output.bytes);
    expect(sha256(bytes)).toBe(output.sha256);
  }
  return {record, files: readdirSync(folder).sort()};
}

describe('vastdeck run --onstart', () => {
  it('rents an instance that runs the job at boot, then collects verified outputs over SSH', async () => {
    const {code, stdout, stderr} = await run(['run', '--onstart', '--demo', '--json', '--create-key', '--image-url', imageUrl, ...JOB_ARGS]);
    expect(stderr).not.toMatch(/\n\s+at /);
    expect(code, stderr).toBe(0);
    const events = stdout.trim().split('\n').map(line => JSON.parse(line) as Record<string, any>);
    const kinds = events.map(event => event.event as string);
    expect(kinds).toEqual(expect.arrayContaining(['job', 'created', 'ssh-connected', 'marker', 'collected']));
    const done = events.at(-1)!;
    expect(done).toMatchObject({event: 'job', state: 'done', method: 'onstart'});
    expect(done.outputs).toHaveLength(1);
    const output = done.outputs[0] as string;
    expect(output.startsWith(join(OUTPUTS, done.id as string))).toBe(true);
    expect(PNG.sync.read(readFileSync(output)).width).toBe(64);
    const {record, files} = verifiedJobFolder(output);
    expect(files).toEqual(['img2img_00001_.png', 'job.json']);
    expect(record).toMatchObject({id: done.id, method: 'onstart', workflow: 'img2img-sdxl', seed: 7, inputs: {image: {url: imageUrl}, prompt: 'a fox in watercolor'}});
    expect(record.settings).toMatchObject({image: imageUrl, steps: 3, width: 64});
    expect(record.instance.id).toBe(done.instanceId);
    expect(imageRequests).toContain('/fox.png');
  });

  it('exits 1 with the runner\'s sentence when the instance cannot fetch the image', async () => {
    const closed = createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const deadUrl = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/gone.png`;
    closed.close();
    const {code, stderr} = await run(['run', '--onstart', '--demo', '--image-url', deadUrl, ...JOB_ARGS]);
    expect(code).toBe(1);
    expect(stderr).toMatch(new RegExp(`failed on instance \\d+: The input image could not be fetched from ${deadUrl.replaceAll('.', '\\.')} after 5 attempts \\(Connection refused\\): check that the URL is reachable`));
  });

  it('refuses a local --image, and needs an image source, before renting anything', async () => {
    const local = await run(['run', '--onstart', '--demo', '--image', 'fox.png', ...JOB_ARGS]);
    expect(local.code).toBe(2);
    expect(local.stderr).toContain('--onstart cannot ship a local --image');
    const none = await run(['run', '--onstart', '--demo', ...JOB_ARGS]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('--onstart needs exactly one of --image-url URL');
    const stray = await run(['run', '--demo', '--image-url', imageUrl, ...JOB_ARGS]);
    expect(stray.code).toBe(2);
    expect(stray.stderr).toContain('add --onstart');
  });

  describe('against a simulated cloud the test can look into', () => {
    let cloud: SimCloud;
    beforeAll(async () => {
      cloud = await startSimCloud({port: 0, rateLimitScale: 0, churnIntervalMs: 0, speed: 400});
      process.env.VAST_API_KEY = cloud.apiKey;
      process.env.VAST_URL = cloud.baseUrl;
    });
    afterAll(async () => {
      delete process.env.VAST_API_KEY;
      delete process.env.VAST_URL;
      await cloud.close();
    });

    it('leaves ComfyUI to the instance: one prompt from the on-instance runner, the marker and log on its disk, SSH for the rest', async () => {
      const {code, stdout, stderr} = await run(['run', '--onstart', '--image-url', imageUrl, ...JOB_ARGS]);
      expect(code, stderr).toBe(0);
      const output = stdout.trim();
      const {record} = verifiedJobFolder(output);
      const id = record.instance.id as number;
      const fs = cloud.instances.hostOf(id)!.fs;
      const marker = parseMarker(fs.read('/workspace/vastdeck/done.json')!.toString('utf8'));
      expect(marker).toMatchObject({id: record.id, status: 'success', outputs: record.outputs});
      expect(fs.read(`/workspace/vastdeck/outputs/${record.id as string}/${basename(output)}`)).toEqual(readFileSync(output));
      const log = fs.read('/var/log/portal/vastdeck-onstart.log')!.toString('utf8').trim().split('\n');
      expect(log.map(line => /^\[vastdeck\] onstart (\S+)/.exec(line)?.[1])).toEqual(['start', 'waiting-for-comfyui', 'comfyui-ready', 'image', 'uploaded', 'submitted', 'output', 'done']);
      // Looking from outside (as the test, not as vastdeck): ComfyUI's history holds only the runner's prompt.
      const submitted = /submitted prompt=(\S+)/.exec(log.join('\n'))![1]!;
      const instance = cloud.instances.get(id) as {jupyter_token: string; ports: Record<string, Array<{HostPort: string}>>};
      const history = (await (await fetch(`http://127.0.0.1:${instance.ports['8188/tcp']![0]!.HostPort}/history`, {headers: {Authorization: `Bearer ${instance.jupyter_token}`}})).json()) as Record<string, any>;
      expect(Object.keys(history)).toEqual([submitted]);
      expect(history[submitted].prompt[3]).toEqual({client_id: 'vastdeck-onstart'});
      expect(stderr).toContain('keeps running and billing until you destroy it');
      cloud.instances.destroy(id);
    });

    it('runs with an image shipped with the provisioning assets (--image-remote)', async () => {
      // Stands in for the provisioning step that puts the asset on the instance's disk.
      const ship = ({instanceId}: {instanceId: number}): void => cloud.instances.hostOf(instanceId)?.fs.write('/workspace/vastdeck/inputs/fox.png', fox());
      cloud.instances.events.on('provisioning-complete', ship);
      try {
        const {code, stdout, stderr} = await run(['run', '--onstart', '--image-remote', '/workspace/vastdeck/inputs/fox.png', ...JOB_ARGS]);
        expect(code, stderr).toBe(0);
        const {record} = verifiedJobFolder(stdout.trim());
        expect(record.settings.image).toBe('/workspace/vastdeck/inputs/fox.png');
        const log = cloud.instances.hostOf(record.instance.id as number)!.fs.read('/var/log/portal/vastdeck-onstart.log')!.toString('utf8');
        expect(log).toContain(`[vastdeck] onstart image source=/workspace/vastdeck/inputs/fox.png bytes=${fox().length}`);
        cloud.instances.destroy(record.instance.id as number);
      } finally {
        cloud.instances.events.off('provisioning-complete', ship);
      }
    });
  });
});
