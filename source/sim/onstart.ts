// The OnStart runner of a simulated instance: when the create env carries VASTDECK_JOB_* chunks it
// does what provisioning/onstart-runner.py does on a real one (decode, wait for ComfyUI, fetch the
// image, upload, submit, poll history, copy outputs, write done.json and the log). Wired in by instances.ts.
import {createHash, randomUUID} from 'node:crypto';
import {once} from 'node:events';
import {readFileSync} from 'node:fs';
import {createServer, type Server} from 'node:http';
import type {AddressInfo} from 'node:net';
import {gunzipSync} from 'node:zlib';
import type {SimComfy} from './comfy/comfy-server.js';
import type {InstanceHost} from './instance-host.js';

export interface SimOnstartOptions {
  /** The create body's env, in request order. */
  env: ReadonlyArray<readonly [string, string]>;
  host: Pick<InstanceHost, 'fs' | 'events' | 'comfyListening'>;
  comfy: Pick<SimComfy, 'handleRequest'>;
  /** Sim seconds per real second: the runner's waits and timeouts shrink with it. */
  speed: number;
}

export interface SimOnstart {
  /** The instance went away: the run ends quietly, without a marker. */
  stop(): void;
}

interface Job {
  id: string;
  workflow: Record<string, {inputs: Record<string, unknown>}>;
  imageNode: string;
  imageInput: string;
  image: {url: string} | {path: string};
  outputsDir: string;
}

type HistoryFile = {filename: string; subfolder?: string; type?: string};
type Collected = {file: string; bytes: number; sha256: string};

const DONE_FILE = '/workspace/vastdeck/done.json';
const LOG_FILE = '/var/log/portal/vastdeck-onstart.log';
/** Where the real runner finds ComfyUI (shown in the log); the sim reaches it on a private loopback port. */
const COMFY_URL = 'http://127.0.0.1:18188';
const COMFY_TIMEOUT_S = 3600;
const JOB_TIMEOUT_S = 3600;
const POLL_S = 2;
const IMAGE_ATTEMPTS = 5;
const RETRY_BASE_S = 2;
const TEMPLATES = loadTemplates();

class JobFailed extends Error {}
class Stopped extends Error {}

/** Starts the run when `env` holds a job; undefined otherwise. */
export function startSimOnstart(options: SimOnstartOptions): SimOnstart | undefined {
  const env = new Map(options.env);
  if (!env.has('VASTDECK_JOB_0')) return undefined;
  const run = new SimRunner(options, env);
  void run.main();
  return {stop: () => run.stop()};
}

class SimRunner {
  private stopped = false;
  private server: Server | undefined;
  private base = '';
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly startMs = Date.now();

  constructor(private readonly options: SimOnstartOptions, private readonly env: Map<string, string>) {}

  stop(): void {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.closeServer();
  }

  async main(): Promise<void> {
    let marker: Record<string, unknown>;
    let jobId = 'unknown';
    try {
      const job = this.readJob();
      jobId = job.id;
      this.say('onstart-begin', 1, jobId);
      await this.waitForComfy();
      const [source, data] = await this.fetchImage(job.image);
      const outputs = await this.collect(job, await this.runPrompt(job, await this.upload(job, source, data)));
      marker = {id: jobId, status: 'success', outputs};
      this.say('onstart-done', outputs.length, this.simSeconds());
    } catch (error) {
      if (error instanceof Stopped || this.stopped) return;
      const reason = error instanceof JobFailed ? error.message : `The OnStart runner stopped unexpectedly (${(error as Error).name}: ${oneLine((error as Error).message)}): read ${LOG_FILE} on the instance.`;
      marker = {id: jobId, status: 'error', outputs: [], error: reason};
      this.say('onstart-failed', reason);
    } finally {
      this.closeServer();
    }
    marker.finishedAt = new Date().toISOString();
    const {fs} = this.options.host;
    fs.write(`${DONE_FILE}.tmp`, JSON.stringify(marker));
    fs.rename(`${DONE_FILE}.tmp`, DONE_FILE);
  }

  private readJob(): Job {
    const chunks: string[] = [];
    for (let index = 0; this.env.has(`VASTDECK_JOB_${index}`); index++) chunks.push(this.env.get(`VASTDECK_JOB_${index}`)!);
    try {
      const job = JSON.parse(gunzipSync(Buffer.from(chunks.join(''), 'base64')).toString('utf8')) as Record<string, unknown>;
      for (const key of ['id', 'workflow', 'imageNode', 'imageInput', 'image', 'outputsDir']) if (!(key in job)) throw new Error(`no ${key} field`);
      if (job.version !== 1) throw new Error(`version ${JSON.stringify(job.version)}, not 1`);
      return job as unknown as Job;
    } catch (error) {
      throw new JobFailed(`The job in the VASTDECK_JOB_* variables cannot be read (${oneLine((error as Error).message)}): create the instance again with vastdeck run --onstart.`);
    }
  }

  private async waitForComfy(): Promise<void> {
    this.say('onstart-waiting', COMFY_URL, COMFY_TIMEOUT_S);
    const {host} = this.options;
    if (!host.comfyListening()) {
      const timeout = this.sleep(COMFY_TIMEOUT_S).then(() => 'timeout' as const);
      const listening = once(host.events, 'comfy-listening').then(() => 'up' as const);
      if ((await Promise.race([timeout, listening])) === 'timeout') {
        throw new JobFailed(`ComfyUI did not answer on ${COMFY_URL} within ${COMFY_TIMEOUT_S} s: read /var/log/portal/comfyui.log and /var/log/portal/provisioning.log on the instance.`);
      }
    }
    this.checkStopped();
    this.server = createServer(this.options.comfy.handleRequest);
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    this.say('onstart-comfyui-ready', this.simSeconds());
  }

  private async fetchImage(image: Job['image']): Promise<[string, Buffer]> {
    if ('path' in image) {
      const data = this.options.host.fs.read(image.path);
      if (!data) throw new JobFailed(`The input image ${image.path} is not on the instance: ship it with the provisioning assets, or use --image-url.`);
      return [image.path, Buffer.from(data)];
    }
    const url = new URL(image.url);
    const shown = `${url.protocol}//${url.host}${url.pathname}`;
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new JobFailed(`The input image URL ${shown} is not an http(s) URL: pass an http or https URL.`);
    for (let attempt = 1; ; attempt++) {
      let reason: string;
      let final = false;
      try {
        const response = await fetch(image.url, {headers: {'User-Agent': 'vastdeck-onstart/1'}});
        if (response.ok) return [shown, Buffer.from(await response.arrayBuffer())];
        await response.body?.cancel();
        reason = `HTTP ${response.status}`;
        final = response.status >= 400 && response.status < 500 && response.status !== 408 && response.status !== 429;
      } catch (error) {
        reason = networkReason(error);
      }
      this.checkStopped();
      if (final || attempt >= IMAGE_ATTEMPTS) {
        throw new JobFailed(`The input image could not be fetched from ${shown} after ${attempt} attempt${attempt === 1 ? '' : 's'} (${reason}): check that the URL is reachable from the instance and points at an image.`);
      }
      const delay = RETRY_BASE_S * 2 ** (attempt - 1);
      this.say('onstart-image-retry', attempt, IMAGE_ATTEMPTS, delay, reason);
      await this.sleep(delay);
    }
  }

  private async upload(job: Job, source: string, data: Buffer): Promise<string> {
    const extension = imageExtension(data);
    if (!extension) throw new JobFailed(`The input image from ${source} is not a PNG, JPEG or WebP file: point the job at an image.`);
    this.say('onstart-image', source, data.length);
    const form = new FormData();
    form.append('image', new Blob([data]), `vastdeck-onstart-${job.id}${extension}`);
    form.append('overwrite', 'true');
    const response = await this.comfy('/upload/image', {method: 'POST', body: form});
    if (!response.ok) throw new JobFailed(`ComfyUI refused the input image upload (HTTP ${response.status}): read /var/log/portal/comfyui.log on the instance.`);
    const answer = (await response.json()) as {name: string; subfolder?: string};
    const value = answer.subfolder ? `${answer.subfolder}/${answer.name}` : answer.name;
    this.say('onstart-uploaded', value);
    return value;
  }

  private async runPrompt(job: Job, imageValue: string): Promise<HistoryFile[]> {
    job.workflow[job.imageNode]!.inputs[job.imageInput] = imageValue;
    const promptId = randomUUID();
    const response = await this.comfy('/prompt', {method: 'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify({prompt: job.workflow, client_id: 'vastdeck-onstart', prompt_id: promptId})});
    const answer = (await response.json().catch(() => null)) as Record<string, any> | null;
    if (response.status !== 200) throw new JobFailed(`ComfyUI refused the workflow (${refusal(answer)}): fix the workflow or its settings and run again.`);
    this.say('onstart-submitted', promptId);
    for (let waited = 0; waited < JOB_TIMEOUT_S; waited += POLL_S) {
      const history = (await (await this.comfy(`/history/${promptId}`)).json()) as Record<string, any>;
      const entry = history[promptId];
      if (entry) return historyOutputs(entry);
      await this.sleep(POLL_S);
    }
    throw new JobFailed(`The job did not finish within ${JOB_TIMEOUT_S} s on the instance: read /var/log/portal/comfyui.log there.`);
  }

  private async collect(job: Job, files: HistoryFile[]): Promise<Collected[]> {
    const {fs} = this.options.host;
    fs.mkdir(job.outputsDir);
    const collected: Collected[] = [];
    for (const item of files) {
      const query = new URLSearchParams({filename: item.filename, subfolder: item.subfolder ?? '', type: item.type ?? 'output'});
      const response = await this.comfy(`/view?${query}`);
      if (!response.ok) throw new JobFailed(`ComfyUI would not hand over the output ${item.filename} (HTTP ${response.status}): read /var/log/portal/comfyui.log on the instance.`);
      const data = Buffer.from(await response.arrayBuffer());
      const name = freeName(item.filename.slice(item.filename.lastIndexOf('/') + 1) || 'output', collected.map(entry => entry.file));
      const path = `${job.outputsDir}/${name}`;
      fs.write(path, data);
      const stored = fs.read(path) ?? Buffer.alloc(0);
      collected.push({file: name, bytes: stored.length, sha256: createHash('sha256').update(stored).digest('hex')});
      this.say('onstart-output', name, stored.length);
    }
    if (collected.length === 0) throw new JobFailed('The workflow produced no output files: check that it has a SaveImage (or another save) node.');
    return collected;
  }

  private closeServer(): void {
    this.server?.close();
    this.server?.closeAllConnections();
  }

  private async comfy(path: string, init: RequestInit = {}): Promise<Response> {
    this.checkStopped();
    const response = await fetch(`${this.base}${path}`, init);
    this.checkStopped();
    return response;
  }

  private say(kind: string, ...values: Array<string | number>): void {
    let index = 0;
    const template = TEMPLATES[kind] ?? `[vastdeck] onstart ${kind}`;
    const line = template.replace(/%[sd]/g, placeholder => {
      const value = values[index++] ?? '';
      return placeholder === '%d' ? String(Math.trunc(Number(value))) : String(value).replace(/[\r\n]+/g, ' ');
    });
    this.options.host.fs.append(LOG_FILE, `${line}\n`);
  }

  private sleep(simSeconds: number): Promise<void> {
    return new Promise(resolve => {
      const timer = setTimeout(() => this.timers.delete(timer) && resolve(), (simSeconds * 1000) / this.options.speed).unref();
      this.timers.add(timer);
    });
  }

  private simSeconds(): number {
    return ((Date.now() - this.startMs) * this.options.speed) / 1000;
  }

  private checkStopped(): void {
    if (this.stopped) throw new Stopped();
  }
}

/** The "onstart" kinds of provisioning/log-contract.json: kind → printf template. */
function loadTemplates(): Record<string, string> {
  const contract = JSON.parse(readFileSync(new URL('../../provisioning/log-contract.json', import.meta.url), 'utf8')) as {onstart: {kinds: Record<string, {template: string}>}};
  return Object.fromEntries(Object.entries(contract.onstart.kinds).map(([kind, spec]) => [kind, spec.template]));
}

function historyOutputs(entry: Record<string, any>): HistoryFile[] {
  const state = (entry.status ?? {}) as {status_str?: string; messages?: Array<[string, Record<string, unknown>]>};
  if (state.status_str !== 'success') {
    const failure = [...(state.messages ?? [])].reverse().find(([event]) => event === 'execution_error')?.[1];
    if (failure) throw new JobFailed(`ComfyUI failed at node ${String(failure.node_id)} (${String(failure.node_type)}): ${oneLine(String(failure.exception_message))}.`);
    throw new JobFailed('ComfyUI interrupted the job on the instance: run it again.');
  }
  const files: HistoryFile[] = [];
  for (const output of Object.values((entry.outputs ?? {}) as Record<string, Record<string, unknown>>)) {
    for (const [key, items] of Object.entries(output)) {
      if (key !== 'animated' && Array.isArray(items)) files.push(...items.filter(item => typeof item === 'object' && item !== null && 'filename' in item));
    }
  }
  return files;
}

function refusal(answer: Record<string, any> | null): string {
  for (const [nodeId, entry] of Object.entries((answer?.node_errors ?? {}) as Record<string, any>)) {
    const error = (entry.errors ?? [])[0];
    if (error) return `node ${nodeId} ${entry.class_type ?? '?'}: ${oneLine(error.details || error.message)}`;
  }
  const error = answer?.error ?? {};
  return oneLine(`${error.message ?? 'no reason given'} ${error.details ?? ''}`);
}

function imageExtension(data: Buffer): string | undefined {
  if (data.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return '.png';
  if (data[0] === 0xff && data[1] === 0xd8 && data[2] === 0xff) return '.jpg';
  if (data.toString('latin1', 0, 4) === 'RIFF' && data.toString('latin1', 8, 12) === 'WEBP') return '.webp';
  return undefined;
}

/** `name`, or `stem-1.ext`, `stem-2.ext`, … when an earlier output took it (as the runner does). */
function freeName(name: string, taken: string[]): string {
  const dot = name.lastIndexOf('.');
  let candidate = name;
  for (let suffix = 1; taken.includes(candidate); suffix++) candidate = dot > 0 ? `${name.slice(0, dot)}-${suffix}${name.slice(dot)}` : `${name}-${suffix}`;
  return candidate;
}

/** Python's strerror for the usual socket failures, so the sentence matches the real runner's. */
function networkReason(error: unknown): string {
  const cause = (error as {cause?: {code?: string; message?: string}}).cause;
  const known: Record<string, string> = {ECONNREFUSED: 'Connection refused', ECONNRESET: 'Connection reset by peer', ETIMEDOUT: 'Connection timed out', ENOTFOUND: 'Name or service not known'};
  return (cause?.code && known[cause.code]) || oneLine(cause?.code ?? cause?.message ?? (error as Error).message);
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim().replace(/\.$/, '');
}
