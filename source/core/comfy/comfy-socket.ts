// The one WebSocket a ComfyClient keeps to ComfyUI's /ws?clientId=…: the token in the Bearer header
// of the upgrade, ping liveness, reconnect with backoff and jitter while someone listens (the old
// socket always closed first, docs/comfyui-api.md §5.1), binary frames (previews) ignored.
// Used by client.ts; prompt-follower.ts subscribes to it.
import WebSocket from 'ws';
import {parseSocketEvent, type ComfyEvent} from './comfy-parse.js';

export interface SocketListener {
  onEvent(event: ComfyEvent): void;
  /** The socket went down, or came back after a drop: anything may have been missed. */
  onStateChange(): void;
}

export interface ComfySocketOptions {
  /** The portal URL, e.g. 'http://203.0.113.7:40123'. */
  baseUrl: string;
  token: string;
  clientId: string;
  handshakeTimeoutMs: number;
  /** A ping unanswered for this long ends the connection (and a reconnect follows). */
  livenessMs: number;
}

const BACKOFF_BASE_MS = 250;
const BACKOFF_CAP_MS = 10_000;
const CLOSE_GRACE_MS = 1000;

export class ComfySocket {
  readonly #options: ComfySocketOptions;
  readonly #listeners = new Set<SocketListener>();
  #ws: WebSocket | undefined;
  #open = false;
  #failures = 0;
  #attempt: Promise<void> = Promise.resolve();
  #retryTimer: NodeJS.Timeout | undefined;
  #pingTimer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: ComfySocketOptions) {
    this.#options = options;
  }

  get isOpen(): boolean {
    return this.#open;
  }

  /** Connects unless connected; resolves when open or when that attempt failed (never rejects). */
  ready(): Promise<void> {
    this.#connect();
    return this.#attempt;
  }

  /** While anyone is subscribed, a dropped socket is reconnected. */
  subscribe(listener: SocketListener): () => void {
    this.#listeners.add(listener);
    this.#connect();
    return () => {
      this.#listeners.delete(listener);
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#retryTimer);
    const ws = this.#ws;
    if (!ws) return;
    const closed = new Promise<void>(resolve => ws.once('close', () => resolve()));
    const grace = setTimeout(() => ws.terminate(), CLOSE_GRACE_MS);
    ws.close();
    await closed;
    clearTimeout(grace);
  }

  #connect(): void {
    if (this.#closed || this.#ws || this.#retryTimer) return;
    const url = new URL(`${this.#options.baseUrl}/ws`);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    url.searchParams.set('clientId', this.#options.clientId);
    const ws = new WebSocket(url, {headers: {authorization: `Bearer ${this.#options.token}`}, handshakeTimeout: this.#options.handshakeTimeoutMs});
    this.#ws = ws;
    this.#attempt = new Promise(resolve => {
      ws.once('open', () => resolve());
      ws.once('close', () => resolve());
    });
    ws.on('error', () => {}); // 'close' always follows, and the reconnect handles it
    ws.on('open', () => {
      const afterDrop = this.#failures > 0;
      this.#failures = 0;
      this.#open = true;
      this.#startPings(ws);
      if (afterDrop) this.#notifyStateChange();
    });
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      const event = parseSocketEvent(data.toString());
      if (event) for (const listener of [...this.#listeners]) listener.onEvent(event);
    });
    ws.on('close', () => {
      const wasOpen = this.#open;
      this.#ws = undefined;
      this.#open = false;
      clearInterval(this.#pingTimer);
      this.#failures++;
      if (wasOpen) this.#notifyStateChange();
      this.#scheduleReconnect();
    });
  }

  #scheduleReconnect(): void {
    if (this.#closed || this.#listeners.size === 0) return;
    const delayMs = Math.random() * Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** (this.#failures - 1));
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      this.#connect();
    }, delayMs);
    this.#retryTimer.unref();
  }

  #startPings(ws: WebSocket): void {
    let awaitingPong = false;
    ws.on('pong', () => {
      awaitingPong = false;
    });
    this.#pingTimer = setInterval(() => {
      if (awaitingPong) {
        ws.terminate();
        return;
      }
      awaitingPong = true;
      ws.ping();
    }, this.#options.livenessMs);
    this.#pingTimer.unref();
  }

  #notifyStateChange(): void {
    for (const listener of [...this.#listeners]) listener.onStateChange();
  }
}
