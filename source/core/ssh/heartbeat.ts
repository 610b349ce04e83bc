// vastdeck's side of autostop (docs/autostop.md): while vastdeck runs it tells each instance so, over
// an SSH connection it already holds (the log stream's, or the one `vastdeck run` opens), by having
// the instance write its own clock into /workspace/vastdeck/heartbeat; with the same command it
// appends the outputs that are safely home to /workspace/vastdeck/fetched, so the instance's watchdog
// destroys only what nobody can lose. Used by InstanceWatch (dashboard, up, watch, run --up) and
// usecases/run-jobs.ts.
import {createHash} from 'node:crypto';
import {createReadStream} from 'node:fs';
import {basename} from 'node:path';
import type {Client as SshClient} from 'ssh2';
import {toVastdeckError} from '../errors.js';
import {fetchedLine, heartbeatCommand} from '../provisioning/autostop.js';
import {cloudSpeed} from '../usecases/pace.js';
import {connectSsh, execCapture, type LoginIdentity} from './connect.js';
import type {KnownHosts} from './known-hosts.js';

export interface HeartbeatOptions {
  /** A connected client to beat over, or undefined while there is none (the beat waits for the next turn). */
  client: () => SshClient | undefined | Promise<SshClient | undefined>;
  /** Between beats (60 s live; shorter against a fast simulator: asked again before every wait). */
  intervalMs?: number | (() => number);
  timeoutMs?: number;
  now?: () => number;
  /** After every beat that reached the instance. */
  onBeat?: (atMs: number) => void;
}

export interface HeartbeatState {
  /** This machine's clock at the last beat the instance confirmed. */
  lastBeatAtMs?: number;
  /** Why the last beat did not arrive, when it did not. */
  error?: string;
  /** Lines of outputs home that are not on the instance's list yet. */
  pending: number;
}

const DEFAULT_INTERVAL_MS = 60_000;

/** The beat interval for a cloud running `speed` times faster than the wall clock (the simulator). */
export function heartbeatMs(speed: number): number {
  return Math.max(250, DEFAULT_INTERVAL_MS / Math.max(1, speed));
}

/**
 * The beat interval against this context's cloud: its own speed (the embedded simulator's), or the
 * one a standalone simulator announces once the client has heard from it; 60 s against Vast.
 */
export function heartbeatPace(ctx: {speed: number; client: {readonly simSpeed?: number}}): () => number {
  return () => heartbeatMs(cloudSpeed(ctx));
}
const DEFAULT_TIMEOUT_MS = 20_000;

export class Heartbeat {
  readonly #options: HeartbeatOptions;
  #timer: NodeJS.Timeout | undefined;
  #running = false;
  #pending: string[] = [];
  #inFlight: Promise<boolean> | undefined;
  #again = false;
  readonly #work = new Set<Promise<unknown>>();
  #state: HeartbeatState = {pending: 0};

  constructor(options: HeartbeatOptions) {
    this.#options = options;
  }

  get state(): HeartbeatState {
    return {...this.#state, pending: this.#pending.length};
  }

  /** Beats now and then every interval until stop(). */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#schedule(0);
  }

  /** No more beats (pending lines are kept for a later start or flush). */
  stop(): void {
    this.#running = false;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** These local files are home: their sha256 go on the instance's list with the next beat (sent at once). */
  markHome(localPaths: readonly string[]): void {
    const hashing = Promise.all(localPaths.map(async path => fetchedLine(await sha256File(path), basename(path))))
      .then(lines => {
        this.#pending.push(...lines);
        return this.beat();
      })
      .catch(() => undefined);
    this.#track(hashing);
  }

  /** Lines already in fetched-list form (sha256 and name). */
  markLines(lines: readonly string[]): void {
    if (lines.length === 0) return;
    this.#pending.push(...lines);
    this.#track(this.beat());
  }

  /** One beat (with the pending lines); true when the instance confirmed it. Concurrent calls share one. */
  beat(): Promise<boolean> {
    if (this.#inFlight) {
      this.#again = true;
      return this.#inFlight;
    }
    this.#inFlight = this.#send().finally(() => {
      this.#inFlight = undefined;
      if (this.#again) {
        this.#again = false;
        void this.beat();
      }
    });
    return this.#inFlight;
  }

  /** Waits for hashing in progress, then beats until every pending line is on the instance (or a beat fails). */
  async flush(): Promise<boolean> {
    while (this.#work.size > 0) await Promise.all([...this.#work]);
    while (this.#inFlight) await this.#inFlight;
    return this.#pending.length === 0 ? true : this.beat();
  }

  async #send(): Promise<boolean> {
    const lines = this.#pending.splice(0);
    try {
      const client = await this.#options.client();
      if (!client) throw new Error('no SSH connection to the instance yet');
      const result = await execCapture(client, heartbeatCommand(lines), {timeoutMs: this.#options.timeoutMs ?? DEFAULT_TIMEOUT_MS});
      if (result.code !== 0) throw new Error(`the instance answered exit ${result.code ?? 'none'}: ${result.stderr.trim().split('\n')[0] ?? ''}`);
      const atMs = (this.#options.now ?? Date.now)();
      this.#state = {lastBeatAtMs: atMs, pending: 0};
      this.#options.onBeat?.(atMs);
      return true;
    } catch (error) {
      this.#pending.unshift(...lines);
      this.#state = {...this.#state, error: toVastdeckError(error).message};
      return false;
    }
  }

  #schedule(delayMs: number): void {
    if (!this.#running) return;
    this.#timer = setTimeout(() => {
      const interval = this.#options.intervalMs;
      void this.beat().finally(() => this.#schedule(typeof interval === 'function' ? interval() : (interval ?? DEFAULT_INTERVAL_MS)));
    }, delayMs);
    this.#timer.unref();
  }

  #track(work: Promise<unknown>): void {
    const tracked = work.finally(() => this.#work.delete(tracked));
    this.#work.add(tracked);
  }
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export interface DialOptions {
  host: string;
  port: number;
  identity: LoginIdentity;
  pinKey: string;
  knownHosts: KnownHosts;
}

/**
 * An SSH connection of the heartbeat's own, for front ends that hold none while jobs run (`vastdeck
 * run`): opened on the first beat, opened again after a drop, ended by close().
 */
export class OwnConnection {
  readonly #options: DialOptions;
  #client: Promise<SshClient> | undefined;
  #closed = false;

  constructor(options: DialOptions) {
    this.#options = options;
  }

  client = (): Promise<SshClient | undefined> => {
    if (this.#closed) return Promise.resolve(undefined);
    this.#client ??= connectSsh(this.#options).then(
      client => {
        client.on('error', () => {});
        client.once('close', () => (this.#client = undefined));
        return client;
      },
      (error: unknown) => {
        this.#client = undefined;
        throw error;
      },
    );
    return this.#client;
  };

  close(): void {
    this.#closed = true;
    void this.#client?.then(client => client.end(), () => undefined);
  }
}
