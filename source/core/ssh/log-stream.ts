// Follows an instance's log files live over one SSH connection: one `tail -n +K -F` exec channel per
// file, so each file resumes exactly after its last complete line, lines into a bounded ring for the
// log pane and to an onLine listener, reconnection with backoff after any drop. One per instance.
import {chmod, writeFile} from 'node:fs/promises';
import {resolve} from 'node:path';
import type {Client as SshClient, ClientChannel} from 'ssh2';
import {toVastdeckError} from '../errors.js';
import {Model} from '../model.js';
import {connectSsh, SshError, sshDropReason, type LoginIdentity} from './connect.js';
import {pinKeyInstance, type KnownHosts} from './known-hosts.js';
import {LineSplitter, type LogLine} from './line-splitter.js';
import {LogRingBuffer, type LogEntry} from './ring-buffer.js';

/**
 * The portal copies keep progress bars as CR redraws (one line each on screen). /var/log/onstart.log
 * is left out: it repeats the provisioner's output with every bar redraw on its own line.
 * vastdeck-onstart.log is the OnStart runner's log (absent unless the instance runs a job at boot),
 * vastdeck-autostop.log the autostop watchdog's (docs/autostop.md).
 */
export const DEFAULT_LOG_FILES: readonly string[] = ['/var/log/portal/provisioning.log', '/var/log/portal/comfyui.log', '/var/log/portal/vastdeck-onstart.log', '/var/log/portal/vastdeck-autostop.log'];

export type LogStreamState = 'connecting' | 'streaming' | 'reconnecting' | 'stopped' | 'failed';

export interface LogStreamSnapshot {
  state: LogStreamState;
  /** One sentence: the last drop while (re)connecting, the cause when failed. */
  error?: string;
  /** Connection attempts since start() or since the last stable connection. */
  attempts: number;
  /** Lines held by the ring. */
  lines: number;
  endSeq: number;
  lastLineAtMs?: number;
  /** host:port of the live connection. */
  connectedVia?: string;
}

export interface LogStreamOptions {
  /** Re-read before every attempt: the instance may move. Undefined while it has no SSH address. */
  endpoint: () => {host: string; port: number} | undefined;
  identity: LoginIdentity;
  pinKey: string;
  knownHosts: KnownHosts;
  /** 'root' on Vast instances. */
  username?: string;
  files?: readonly string[];
  /** Lines kept (5000). */
  capacity?: number;
  /** Every line as it lands in the ring, redraws (and re-read partial lines) flagged `redraw`. */
  onLine?: (entry: LogEntry, atMs: number) => void;
  /** Reconnect delays: doubling from baseMs up to capMs, with jitter (500 ms → 30 s). */
  backoff?: {baseMs: number; capMs: number};
  /** Auth refusals retried quietly before failing (5): keys take a few seconds to propagate after boot. */
  authRetries?: number;
  connect?: typeof connectSsh;
}

interface Connection {
  generation: number;
  client: SshClient;
  where: string;
  channels: ClientChannel[];
  closed: Promise<void>;
  streamingSince?: number;
}

/** A connection that streamed this long resets the backoff. */
const STABLE_MS = 10_000;
/**
 * Each tail runs on a pty so that closing its channel hangs it up (SIGHUP) on a real sshd; output
 * processing is off so the bytes arrive as the file holds them. The pty merges tail's stderr into
 * the stream, where LineSplitter recognises its notices.
 */
const PTY = {modes: {OPOST: 0}} as const;
/** GNU tail's complaints that are not about a file's content (inotify trouble, giving up). */
const TAIL_DIAGNOSTIC = /^tail: (inotify |cannot watch |warning: |no files remaining|error reading |['‘].*['’] has been replaced with an untailable file)/;

const shellQuote = (text: string): string => `'${text.replaceAll("'", `'\\''`)}'`;

export class LogStream extends Model<LogStreamSnapshot> {
  readonly ring: LogRingBuffer;
  readonly #options: LogStreamOptions;
  readonly #files: readonly string[];
  readonly #backoff: {baseMs: number; capMs: number};
  #running = false;
  /** Bumped by every attempt, drop and stop: callbacks of older connections see a stale number. */
  #generation = 0;
  #connection: Connection | undefined;
  #timer: NodeJS.Timeout | undefined;
  #failures = 0;
  #authRefusals = 0;
  #streamed = false;

  constructor(options: LogStreamOptions) {
    super({state: 'stopped', attempts: 0, lines: 0, endSeq: 0});
    this.#options = options;
    this.#files = options.files ?? DEFAULT_LOG_FILES;
    this.#backoff = options.backoff ?? {baseMs: 500, capMs: 30_000};
    this.ring = new LogRingBuffer(options.capacity ?? 5000);
  }

  /** Connects and follows; again after stop() or a failure it resumes where the ring left off. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#failures = 0;
    this.#authRefusals = 0;
    this.update(s => ({...s, state: this.#streamed ? 'reconnecting' : 'connecting', error: undefined, attempts: 0}));
    void this.#attempt();
  }

  /** Closes every channel (hanging up the remote tails) and the connection; resolves once it is closed. */
  async stop(): Promise<void> {
    const closed = this.#halt();
    this.update(s => ({...s, state: 'stopped', error: undefined}));
    this.flush();
    await closed;
  }

  /** Whether a connection attempt is scheduled or in flight (false once failed or stopped: nothing more will happen). */
  get active(): boolean {
    return this.#running && (this.#timer !== undefined || this.#connection !== undefined || this.getSnapshot().state === 'connecting' || this.getSnapshot().state === 'reconnecting');
  }

  /** The live connection while following (autostop's heartbeat runs its small command on it), else undefined. */
  connectedClient(): SshClient | undefined {
    return this.getSnapshot().state === 'streaming' ? this.#connection?.client : undefined;
  }

  /** Writes the buffered lines to `path` (0600), with tail-style `==> file <==` headers; returns the absolute path. */
  async saveTo(path: string): Promise<string> {
    const target = resolve(path);
    const out: string[] = [];
    let current: string | undefined;
    for (const entry of this.ring.slice(this.ring.firstSeq, this.ring.size)) {
      if (entry.file !== current || out.length === 0) {
        current = entry.file;
        out.push(`${out.length > 0 ? '\n' : ''}==> ${current ?? 'unknown file'} <==`);
      }
      out.push(entry.text);
    }
    await writeFile(target, out.length > 0 ? `${out.join('\n')}\n` : '', {mode: 0o600});
    await chmod(target, 0o600);
    return target;
  }

  async #attempt(): Promise<void> {
    this.#timer = undefined;
    const generation = ++this.#generation;
    this.update(s => ({...s, attempts: s.attempts + 1}));
    const endpoint = this.#options.endpoint();
    if (!endpoint) {
      this.#retry(`Instance ${pinKeyInstance(this.#options.pinKey)} has no SSH address yet: vastdeck keeps trying while it starts.`);
      return;
    }
    let client: SshClient;
    try {
      client = await (this.#options.connect ?? connectSsh)({
        ...endpoint,
        ...(this.#options.username === undefined ? {} : {username: this.#options.username}),
        identity: this.#options.identity,
        pinKey: this.#options.pinKey,
        knownHosts: this.#options.knownHosts,
      });
    } catch (error) {
      if (generation === this.#generation) this.#connectFailed(error);
      return;
    }
    if (generation !== this.#generation) {
      client.end();
      return;
    }
    this.#authRefusals = 0;
    const where = `${endpoint.host}:${endpoint.port}`;
    const closed = new Promise<void>(done => client.once('close', () => done()));
    const connection: Connection = {generation, client, where, channels: [], closed};
    this.#connection = connection;
    client.once('close', () => this.#drop(generation, sshDropReason(client)?.message ?? `The SSH connection to ${where} closed: vastdeck reconnects.`));
    let opened = 0;
    for (const file of this.#files) {
      this.#follow(connection, file, () => {
        if (++opened < this.#files.length || generation !== this.#generation) return;
        connection.streamingSince = Date.now();
        this.#streamed = true;
        this.update(s => ({...s, state: 'streaming', error: undefined, connectedVia: where}));
      });
    }
  }

  /** Opens `tail -n +K -F file` with K the file's next unseen line. */
  #follow(connection: Connection, file: string, onOpen: () => void): void {
    const {generation, where} = connection;
    const command = `tail -n +${this.ring.resumeLine(file)} -F ${shellQuote(file)}`;
    const cannot = (error: unknown): void =>
      this.#drop(generation, `vastdeck could not start following ${file} on ${where} (${error instanceof Error ? error.message : String(error)}): it reconnects.`);
    try {
      connection.client.exec(command, {pty: PTY}, (error, channel) => {
        if (error) return cannot(error);
        if (generation !== this.#generation) return void channel.close();
        connection.channels.push(channel);
        const stdout = new LineSplitter();
        const stderr = new LineSplitter();
        let complaint: string | undefined;
        let status = '';
        channel.on('data', (chunk: Buffer) => {
          complaint = this.#take(generation, file, stdout.push(chunk), false) ?? complaint;
        });
        channel.stderr.on('data', (chunk: Buffer) => {
          complaint = this.#take(generation, file, stderr.push(chunk), true) ?? complaint;
        });
        channel.on('exit', (code: number | null, signal?: string) => {
          status = code === null ? ` (${signal ?? 'killed'})` : ` (exit ${code})`;
        });
        // The connection's own close, if that is what ended the channel, is reported first.
        channel.on('close', () => setImmediate(() =>
          this.#drop(generation, `Following ${file} on ${where} stopped${status}${complaint ? `: ${complaint}` : ''}; vastdeck reconnects.`)));
        onOpen();
      });
    } catch (error) {
      cannot(error);
    }
  }

  /** Files lines into the ring; returns the last tail complaint seen (kept out of the ring). */
  #take(generation: number, file: string, lines: LogLine[], fromStderr: boolean): string | undefined {
    if (generation !== this.#generation || lines.length === 0) return undefined;
    const atMs = Date.now();
    let complaint: string | undefined;
    for (const line of lines) {
      if ((fromStderr && !line.notice) || (!line.notice && !line.redraw && TAIL_DIAGNOSTIC.test(line.text))) {
        if (!line.partial) complaint = line.text;
        continue;
      }
      const before = this.ring.endSeq;
      const entry = this.ring.push({...line, file, atMs});
      this.#options.onLine?.(entry.seq < before && !entry.redraw ? {...entry, redraw: true} : entry, atMs);
    }
    this.update(s => ({...s, lines: this.ring.size, endSeq: this.ring.endSeq, lastLineAtMs: atMs}));
    return complaint;
  }

  #connectFailed(error: unknown): void {
    const failure = error instanceof SshError ? error.failure : undefined;
    if (failure === 'auth' && this.#authRefusals++ < (this.#options.authRetries ?? 5)) return this.#retry(undefined);
    if (failure === undefined || failure === 'auth' || failure === 'key' || failure === 'host-key') {
      void this.#halt();
      this.update(s => ({...s, state: 'failed', error: toVastdeckError(error).message}));
      return;
    }
    this.#retry(toVastdeckError(error).message);
  }

  #drop(generation: number, reason: string): void {
    if (generation !== this.#generation) return;
    this.#generation++;
    const since = this.#connection?.streamingSince;
    if (since !== undefined && Date.now() - since >= STABLE_MS) {
      this.#failures = 0;
      this.update(s => ({...s, attempts: 0}));
    }
    void this.#close();
    this.#retry(reason);
  }

  #retry(reason: string | undefined): void {
    const ceiling = Math.min(this.#backoff.capMs, this.#backoff.baseMs * 2 ** this.#failures++);
    this.update(s => ({...s, state: this.#streamed ? 'reconnecting' : 'connecting', error: reason, connectedVia: undefined}));
    this.#timer = setTimeout(() => void this.#attempt(), ceiling / 2 + (Math.random() * ceiling) / 2);
  }

  /** Stops everything in flight; resolves when the connection (if any) has closed. */
  #halt(): Promise<void> {
    this.#running = false;
    this.#generation++;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    return this.#close();
  }

  #close(): Promise<void> {
    const connection = this.#connection;
    this.#connection = undefined;
    if (!connection) return Promise.resolve();
    for (const channel of connection.channels) channel.close();
    connection.client.end();
    return connection.closed;
  }
}
