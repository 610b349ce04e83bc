// The autostop watchdog of a simulated instance: when the create shipped provisioning/autostop.py in
// its bundle and the onstart starts it, the instance does what that script does on a real one
// (docs/autostop.md), on the simulator's clock: reads the same variables, the heartbeat vastdeck
// writes over SSH, the ComfyUI queue and the list of outputs already home, logs one contract line
// per decision, and stops or destroys itself by calling the simulated API over HTTP with its own
// scoped key (CONTAINER_API_KEY). Started by instances.ts at every container start, stopped with it.
import {createHash} from 'node:crypto';
import {readFileSync} from 'node:fs';
import {AUTOSTOP_LOG_PATH, AUTOSTOP_REMOTE_PATH, FETCHED_PATH, HEARTBEAT_PATH, parseAutostopEnv, REMOTE_FOLDER, type AutostopConfig} from '../core/provisioning/autostop.js';
import {unpackBundle} from '../core/provisioning/bundle.js';
import type {TimeSource, TimerHandle} from './comfy/sim-clock.js';
import type {VirtualFs} from './virtual-fs.js';

export interface SimAutostopOptions {
  /** The create request's variables, in request order. */
  env: ReadonlyArray<readonly [string, string]>;
  /** The create's onstart (the watchdog runs only when it starts it). */
  onstart: string;
  /** The container's environment: CONTAINER_API_KEY and CONTAINER_ID. */
  containerEnv: Readonly<Record<string, string>>;
  fs: VirtualFs;
  /** Jobs running or waiting in ComfyUI's queue (GET /queue). */
  queueRemaining: () => number;
  /** Its timers. */
  time: TimeSource;
  /** The instance's clock, epoch ms: the cloud's (speed× the time source), what its `date` says. */
  cloudNow: () => number;
  /** Sim seconds per real second. */
  speed: number;
}

export interface SimAutostop {
  readonly config: AutostopConfig;
  /** The container stopped or the instance went away. */
  stop(): void;
}

const CHECK_SIM_MS = 30_000;
const PROVISIONING_MARKER = '/.provisioning';
const OUTPUT_DIRS = ['/workspace/ComfyUI/output', `${REMOTE_FOLDER}/outputs`];
const TEMPLATES = loadTemplates();

/** The watchdog when this create would run one on a real instance; undefined otherwise. */
export function startSimAutostop(options: SimAutostopOptions): SimAutostop | undefined {
  const config = parseAutostopEnv(options.env);
  const shipped = unpackBundle(options.env)?.[AUTOSTOP_REMOTE_PATH] !== undefined && options.onstart.includes(AUTOSTOP_REMOTE_PATH);
  if (!config || !shipped) return undefined;
  const watchdog = new Watchdog(options, config);
  watchdog.start();
  return {config, stop: () => watchdog.stop()};
}

class Watchdog {
  private timer: TimerHandle | undefined;
  private stopped = false;
  private startedAt: number;
  private lastActiveAt: number;
  private failed: string | undefined;
  private readonly hashes = new Map<unknown, {sizeBytes: number; sha256: string}>();

  constructor(private readonly options: SimAutostopOptions, private readonly config: AutostopConfig) {
    this.startedAt = options.cloudNow();
    this.lastActiveAt = this.startedAt;
  }

  start(): void {
    const {containerEnv} = this.options;
    const off = !containerEnv.CONTAINER_API_KEY ? 'CONTAINER_API_KEY is not set, so the instance cannot stop itself' : !/^\d+$/.test(containerEnv.CONTAINER_ID ?? '') ? `CONTAINER_ID is '${containerEnv.CONTAINER_ID ?? ''}', not an instance id` : undefined;
    if (off) return this.say('autostop-off', off);
    this.say('autostop-start', this.config.idleMinutes, formatNumber(this.config.maxHours), this.config.action);
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    this.options.time.clearTimeout(this.timer);
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = this.options.time.setTimeout(() => {
      const work = this.check();
      this.options.time.hold?.(work);
      void work.then(acted => {
        if (!acted) this.schedule();
      });
    }, CHECK_SIM_MS / this.options.speed);
  }

  /** One look, as autostop.py's check(); true once the instance was stopped or destroyed. */
  private async check(): Promise<boolean> {
    if (this.stopped) return true;
    const {fs} = this.options;
    const now = this.options.cloudNow();
    const beat = Number((fs.read(HEARTBEAT_PATH)?.toString('utf8') ?? '').split(/\s+/)[0]);
    if (beat > 0 && beat * 1000 > this.lastActiveAt) this.lastActiveAt = Math.min(beat * 1000, now);
    if (this.options.queueRemaining() > 0 || fs.exists(PROVISIONING_MARKER)) this.lastActiveAt = now;
    const idleMs = now - this.lastActiveAt;
    let reason: string;
    if (this.config.maxHours > 0 && now - this.startedAt >= this.config.maxHours * 3_600_000) {
      reason = `the instance ran for its maximum of ${formatNumber(this.config.maxHours)} h (autostop.maxHours)`;
    } else if (idleMs >= this.config.idleMinutes * 60_000) {
      reason = `no heartbeat from vastdeck and no ComfyUI job for ${Math.floor(idleMs / 60_000)} min`;
    } else return false;
    let action = this.config.action;
    if (action === 'destroy') {
      const missing = this.unfetched();
      if (missing > 0) {
        action = 'stop';
        reason += `; ${missing} output${missing === 1 ? '' : 's'} on the instance ${missing === 1 ? 'was' : 'were'} never fetched by vastdeck, so it is stopped instead of destroyed (its disk keeps billing storage until you destroy it)`;
      }
    } else reason += '; autostop.action is stop, so the disk keeps billing storage until you destroy it';
    if (this.failed !== action) this.say('autostop-act', action, new Date(now).toISOString().replace(/\.\d{3}Z$/, 'Z'), reason);
    const problem = await this.callApi(action);
    if (this.stopped) return true;
    if (problem) {
      if (this.failed !== action) this.say('autostop-failed', action, `${problem}, trying again at the next check`);
      this.failed = action;
      return false;
    }
    return true;
  }

  /** Output files whose sha256 is not on vastdeck's list. */
  private unfetched(): number {
    const {fs} = this.options;
    const done = new Set((fs.read(FETCHED_PATH)?.toString('utf8') ?? '').split('\n').map(line => line.split(/\s+/)[0] ?? '').filter(hash => /^[0-9a-f]{64}$/.test(hash)));
    let missing = 0;
    for (const path of OUTPUT_DIRS.flatMap(root => filesUnder(fs, root))) {
      const file = fs.open(path);
      if (!file) continue;
      let known = this.hashes.get(file);
      if (!known || known.sizeBytes !== file.sizeBytes) {
        known = {sizeBytes: file.sizeBytes, sha256: createHash('sha256').update(file.read()).digest('hex')};
        this.hashes.set(file, known);
      }
      if (!done.has(known.sha256)) missing++;
    }
    return missing;
  }

  /** PUT {"state": "stopped"} or DELETE on the instance, with its scoped key; undefined on success, else why not. */
  private async callApi(action: 'stop' | 'destroy'): Promise<string | undefined> {
    const {CONTAINER_API_KEY: key, CONTAINER_ID: id} = this.options.containerEnv;
    const init: RequestInit =
      action === 'stop'
        ? {method: 'PUT', body: JSON.stringify({state: 'stopped'}), headers: {authorization: `Bearer ${key}`, 'content-type': 'application/json', accept: 'application/json'}}
        : {method: 'DELETE', headers: {authorization: `Bearer ${key}`, accept: 'application/json'}};
    try {
      const answer = await fetch(`${this.config.api}/api/v0/instances/${id}/`, {...init, signal: AbortSignal.timeout(20_000)});
      const text = await answer.text();
      if (!answer.ok) return `HTTP ${answer.status} from ${this.config.api}`;
      const said = parseJson(text);
      return said?.success === false ? `the API said ${oneLine(String(said.msg ?? said.error ?? 'no'))}` : undefined;
    } catch (error) {
      return `${this.config.api} did not answer (${oneLine((error as Error).message)})`;
    }
  }

  private say(kind: string, ...values: Array<string | number>): void {
    let index = 0;
    const line = (TEMPLATES[kind] ?? `[vastdeck] ${kind}`).replace(/%[sd]/g, placeholder => {
      const value = values[index++] ?? '';
      return placeholder === '%d' ? String(Math.trunc(Number(value))) : String(value).replace(/[\r\n]+/g, ' ');
    });
    this.options.fs.append(AUTOSTOP_LOG_PATH, `${line}\n`);
  }
}

function filesUnder(fs: VirtualFs, dir: string): string[] {
  return (fs.list(dir) ?? [])
    .filter(name => !name.startsWith('.'))
    .flatMap(name => (fs.stat(`${dir}/${name}`)?.kind === 'directory' ? filesUnder(fs, `${dir}/${name}`) : [`${dir}/${name}`]));
}

/** Python's "%g": 0, 2, 0.5. */
function formatNumber(value: number): string {
  return String(Number(value.toPrecision(6)));
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(text) as unknown;
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim().replace(/\.$/, '');
}

/** The "autostop" kinds of provisioning/log-contract.json: kind → printf template. */
function loadTemplates(): Record<string, string> {
  const contract = JSON.parse(readFileSync(new URL('../../provisioning/log-contract.json', import.meta.url), 'utf8')) as {autostop: {kinds: Record<string, {template: string}>}};
  return Object.fromEntries(Object.entries(contract.autostop.kinds).map(([kind, spec]) => [kind, spec.template]));
}
