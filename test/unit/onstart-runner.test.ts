// Runs provisioning/onstart-runner.py with python3 against the simulated ComfyUI served by a plain
// loopback node:http server (VASTDECK_COMFY_URL), with a loopback image server: the marker, the copied
// files, every log line against the log contract, and each failure ending in an error marker, never a hang.
import {spawn} from 'node:child_process';
import {createHash} from 'node:crypto';
import {once} from 'node:events';
import {existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {createServer, type Server} from 'node:http';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {PNG} from 'pngjs';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import type {ApiWorkflow} from '../../source/core/comfy/types.js';
import {LOG_CONTRACT_PATH} from '../../source/core/instances/log-contract.js';
import {encodeOnstartJob, parseMarker, RUNNER_PATH, type OnstartJob} from '../../source/core/onstart/job-env.js';
import {createSimComfy, type SimComfy} from '../../source/sim/comfy/comfy-server.js';
import {VirtualFs} from '../../source/sim/virtual-fs.js';
import {listenLoopback} from '../helpers/loopback.js';

interface OnstartKind {
  template: string;
  regex: string;
}
const ONSTART_KINDS = (JSON.parse(readFileSync(LOG_CONTRACT_PATH, 'utf8')) as {onstart: {kinds: Record<string, OnstartKind>}}).onstart.kinds;
const WORKFLOW = JSON.parse(readFileSync(new URL('../../workflows/img2img-sdxl.json', import.meta.url), 'utf8')) as ApiWorkflow;
const sandbox = mkdtempSync(join(tmpdir(), 'vastdeck-onstart-runner-'));
const servers: Server[] = [];
let comfy: SimComfy;
let comfyUrl: string;
let imageBase: string;
let png: Buffer;
let runs = 0;

function listen(server: Server): Promise<string> {
  servers.push(server);
  return listenLoopback(server);
}

beforeAll(async () => {
  const fs = new VirtualFs();
  fs.write('/workspace/ComfyUI/models/checkpoints/sd_xl_base_1.0.safetensors', Buffer.alloc(64));
  comfy = createSimComfy({fs, speed: 1000, gpuName: 'RTX 4090', listening: () => true});
  comfyUrl = await listen(createServer(comfy.handleRequest));
  const image = new PNG({width: 48, height: 40});
  image.data.fill(180);
  png = PNG.sync.write(image);
  imageBase = await listen(
    createServer((req, res) => {
      if (req.url === '/fox.png') res.writeHead(200, {'Content-Type': 'image/png'}).end(png);
      else if (req.url === '/notes.txt') res.writeHead(200).end('not an image');
      else res.writeHead(404).end();
    }),
  );
});

afterAll(async () => {
  await comfy.close();
  for (const server of servers) server.close();
  rmSync(sandbox, {recursive: true, force: true});
});

interface RunResult {
  code: number | null;
  dir: string;
  log: string[];
  marker: ReturnType<typeof parseMarker>;
  stdout: string;
}

function workflow(patch: (graph: ApiWorkflow) => void = () => {}): ApiWorkflow {
  const graph = structuredClone(WORKFLOW);
  graph['9']!.inputs.width = 64;
  graph['9']!.inputs.height = 64;
  graph['6']!.inputs.steps = 3;
  patch(graph);
  return graph;
}

/** One runner process in its own folder; the Node servers keep answering while it runs (spawn, not spawnSync). */
async function runRunner(job: Partial<OnstartJob>, env: Record<string, string> = {}, dir = join(sandbox, `run-${++runs}`)): Promise<RunResult> {
  mkdirSync(dir, {recursive: true});
  const full: OnstartJob = {version: 1, id: `job-${runs}`, workflow: workflow(), imageNode: '2', imageInput: 'image', image: {url: `${imageBase}/fox.png`}, outputsDir: join(dir, 'outputs'), ...job};
  const child = spawn('python3', [RUNNER_PATH], {
    env: {
      PATH: process.env.PATH,
      ...encodeOnstartJob(full),
      VASTDECK_COMFY_URL: comfyUrl,
      VASTDECK_ONSTART_LOG: join(dir, 'log', 'vastdeck-onstart.log'),
      VASTDECK_DONE_FILE: join(dir, 'done.json'),
      VASTDECK_POLL_SECONDS: '0.02',
      VASTDECK_RETRY_BASE_SECONDS: '0.01',
      VASTDECK_IMAGE_ATTEMPTS: '3',
      ...env,
    },
  });
  let stdout = '';
  child.stdout.on('data', chunk => (stdout += String(chunk)));
  child.stderr.on('data', chunk => (stdout += String(chunk)));
  const [code] = (await once(child, 'exit')) as [number | null];
  const log = readFileSync(join(dir, 'log', 'vastdeck-onstart.log'), 'utf8').trim().split('\n');
  return {code, dir, log, marker: parseMarker(readFileSync(join(dir, 'done.json'), 'utf8')), stdout};
}

/** The contract kind of every line (each must match exactly one). */
function kindsOf(log: string[]): string[] {
  return log.map(line => {
    const kinds = Object.entries(ONSTART_KINDS).filter(([, spec]) => new RegExp(spec.regex).test(line)).map(([kind]) => kind);
    expect(kinds, line).toHaveLength(1);
    return kinds[0]!;
  });
}

describe('provisioning/onstart-runner.py', () => {
  it('runs the job, copies the outputs and writes a success marker with their sizes and hashes', async () => {
    const result = await runRunner({});
    expect(result.code, result.stdout).toBe(0);
    expect(result.marker).toMatchObject({id: `job-${runs}`, status: 'success'});
    expect(result.marker.finishedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(result.marker.outputs).toHaveLength(1);
    for (const output of result.marker.outputs) {
      const bytes = readFileSync(join(result.dir, 'outputs', output.file));
      expect(output).toEqual({file: output.file, bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex')});
      expect(PNG.sync.read(bytes).width).toBe(64);
    }
    expect(kindsOf(result.log)).toEqual(['onstart-begin', 'onstart-waiting', 'onstart-comfyui-ready', 'onstart-image', 'onstart-uploaded', 'onstart-submitted', 'onstart-output', 'onstart-done']);
    expect(result.log[3]).toBe(`[vastdeck] onstart image source=${imageBase}/fox.png bytes=${png.length}`);
    expect(result.log[4]).toBe(`[vastdeck] onstart uploaded name=vastdeck-onstart-job-${runs}.png`);
    expect(result.stdout.trim().split('\n')).toEqual(result.log);
  });

  it('uses an image shipped with the provisioning assets', async () => {
    const shipped = join(sandbox, 'inputs', 'fox.png');
    mkdirSync(join(sandbox, 'inputs'), {recursive: true});
    writeFileSync(shipped, png);
    const result = await runRunner({image: {path: shipped}});
    expect(result.marker.status).toBe('success');
    expect(result.log).toContain(`[vastdeck] onstart image source=${shipped} bytes=${png.length}`);
  });

  it('gives up on an unreachable image URL after its attempts, with a one-sentence error (no query string shown)', async () => {
    const dead = createServer();
    const deadUrl = await listen(dead);
    dead.close();
    const result = await runRunner({image: {url: `${deadUrl}/fox.png?signature=abc123`}});
    expect(result.code).toBe(1);
    expect(result.marker).toMatchObject({status: 'error', outputs: []});
    expect(result.marker.error).toBe(`The input image could not be fetched from ${deadUrl}/fox.png after 3 attempts (Connection refused): check that the URL is reachable from the instance and points at an image.`);
    expect(kindsOf(result.log)).toEqual(['onstart-begin', 'onstart-waiting', 'onstart-comfyui-ready', 'onstart-image-retry', 'onstart-image-retry', 'onstart-failed']);
    expect(result.log.join('\n')).not.toContain('abc123');
  });

  it('stops at once on a 404, and refuses a file that is not an image', async () => {
    const missing = await runRunner({image: {url: `${imageBase}/missing.png`}});
    expect(missing.marker.error).toContain('after 1 attempt (HTTP 404)');
    const text = await runRunner({image: {url: `${imageBase}/notes.txt`}});
    expect(text.marker.error).toBe(`The input image from ${imageBase}/notes.txt is not a PNG, JPEG or WebP file: point the job at an image.`);
  });

  it('reports ComfyUI\'s validation refusal and an execution error from history', async () => {
    const refused = await runRunner({workflow: workflow(graph => (graph['1']!.inputs.ckpt_name = 'sd15.safetensors'))});
    expect(refused.marker.error).toMatch(/^ComfyUI refused the workflow \(node 1 CheckpointLoaderSimple: ckpt_name: 'sd15\.safetensors' not in .*\): fix the workflow or its settings and run again\.$/);
    comfy.failNextJob({node: '6', message: 'CUDA out of memory'});
    const failed = await runRunner({});
    expect(failed.marker.error).toMatch(/^ComfyUI failed at node 6 \(KSampler\): .*CUDA out of memory.*\.$/);
    expect(kindsOf(failed.log).at(-1)).toBe('onstart-failed');
  });

  it('times out waiting for ComfyUI, and reports an undecodable job', async () => {
    const result = await runRunner({}, {VASTDECK_COMFY_URL: 'http://127.0.0.1:9', VASTDECK_COMFY_TIMEOUT: '0.2'});
    expect(result.marker.error).toBe('ComfyUI did not answer on http://127.0.0.1:9 within 0.2 s: read /var/log/portal/comfyui.log and /var/log/portal/provisioning.log on the instance.');
    const broken = await runRunner({}, {VASTDECK_JOB_0: 'bm90IGd6aXA=', VASTDECK_JOB_1: ''});
    expect(broken.marker).toMatchObject({id: 'unknown', status: 'error'});
    expect(broken.marker.error).toMatch(/^The job in the VASTDECK_JOB_\* variables cannot be read \(.+\): create the instance again with vastdeck run --onstart\.$/);
  });

  it('does nothing when done.json already holds its job (the container restarted)', async () => {
    const first = await runRunner({id: 'restart-job'});
    const again = await runRunner({id: 'restart-job'}, {}, first.dir);
    expect(again.code).toBe(0);
    expect(again.log.at(-1)).toBe('[vastdeck] onstart skip job=restart-job reason=done.json already holds this job (the instance restarted)');
    expect(again.marker).toEqual(first.marker);
    expect(existsSync(join(first.dir, 'done.json.tmp'))).toBe(false);
  });

  it('prints its templates exactly as the "onstart" kinds of log-contract.json define them', () => {
    const text = readFileSync(RUNNER_PATH, 'utf8');
    const table = /^CONTRACT = \{\n([\s\S]*?)\n\}/m.exec(text)?.[1];
    expect(table).toBeDefined();
    const templates = Object.fromEntries(table!.split('\n').map(line => {
      const row = /^ {4}"([a-z-]+)": "(.*)",$/.exec(line);
      expect(row, line).not.toBeNull();
      return [row![1], row![2]];
    }));
    expect(templates).toEqual(Object.fromEntries(Object.entries(ONSTART_KINDS).map(([kind, spec]) => [kind, spec.template])));
  });
});
