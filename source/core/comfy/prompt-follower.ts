// Follows one prompt to its end (docs/comfyui-api.md §5.3, §9): progress from the shared WebSocket,
// completion only on `executing` null for this prompt AND a non-empty GET /history/{id}; while the
// socket is down or silent past the watchdog it polls /queue then /history instead, and it tells a
// finished prompt from a lost one (neither queued nor in history). Created by ComfyClient.follow.
import {VastdeckError} from '../errors.js';
import type {ComfyHttp} from './comfy-http.js';
import {parseHistoryAnswer, parseQueueAnswer, type ComfyEvent} from './comfy-parse.js';
import type {ComfySocket} from './comfy-socket.js';
import type {ApiWorkflow, HistoryResult, PromptProgress} from './types.js';

export interface FollowerOptions {
  promptId: string;
  http: ComfyHttp;
  socket: ComfySocket;
  /** The submitted workflow (node titles, node count); absent for prompts another client sent. */
  workflow?: ApiWorkflow;
  /** Whether interrupt() was called for this prompt: a vanished prompt was then cancelled, not lost. */
  isCancelled: () => boolean;
  watchdogMs: number;
  pollMs: number;
  /** How long HTTP may keep failing before the follow gives up. */
  unreachableMs: number;
  onProgress?: (progress: PromptProgress) => void;
  signal?: AbortSignal;
}

export class PromptFollower {
  readonly #options: FollowerOptions;
  readonly #done = new Set<string>();
  #current: string | undefined;
  #step: {value: number; max: number} | undefined;
  #lastReported = '';
  #lastEventMs = Date.now();
  #lastCheckMs = 0;
  #checkSoon = true; // the first check catches prompts that ended before we subscribed
  #doneSignal = false;
  #missingChecks = 0;
  #failingSinceMs: number | undefined;
  #socketError: HistoryResult['error'];
  #failure: unknown;
  #wake: (() => void) | undefined;

  constructor(options: FollowerOptions) {
    this.#options = options;
  }

  /** Look at /queue and /history now (after an interrupt, for example). */
  nudge(): void {
    this.#checkSoon = true;
    this.#wake?.();
  }

  /** Ends run() with `reason`. */
  stop(reason: Error): void {
    this.#failure ??= reason;
    this.#wake?.();
  }

  async run(): Promise<HistoryResult> {
    const {signal, socket, watchdogMs, pollMs} = this.#options;
    signal?.throwIfAborted();
    const onAbort = (): void => this.#wake?.();
    signal?.addEventListener('abort', onAbort);
    const unsubscribe = socket.subscribe({onEvent: event => this.#onEvent(event), onStateChange: () => this.nudge()});
    try {
      for (;;) {
        signal?.throwIfAborted();
        if (this.#failure !== undefined) throw this.#failure;
        const now = Date.now();
        const polling = this.#doneSignal || this.#missingChecks > 0 || this.#failingSinceMs !== undefined || !socket.isOpen || now - this.#lastEventMs >= watchdogMs;
        if (this.#checkSoon || (polling && now - this.#lastCheckMs >= pollMs)) {
          this.#checkSoon = false;
          this.#lastCheckMs = now;
          const result = await this.#check();
          if (result) return this.#finish(result);
          continue;
        }
        await this.#nap(polling ? this.#lastCheckMs + pollMs - now : this.#lastEventMs + watchdogMs - now);
      }
    } finally {
      unsubscribe();
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /** GET /queue first, then /history: a prompt that leaves the queue is in the history by then. */
  async #check(): Promise<HistoryResult | undefined> {
    const {http, promptId} = this.#options;
    try {
      const queue = await http.json('GET', 'queue', parseQueueAnswer);
      const result = await http.json('GET', `history/${encodeURIComponent(promptId)}`, body => parseHistoryAnswer(body, promptId));
      this.#failingSinceMs = undefined;
      if (result) return result;
      if (queue.running.includes(promptId) || queue.pending.includes(promptId)) {
        this.#missingChecks = 0;
        return undefined;
      }
      if (this.#options.isCancelled()) return {status: 'interrupted', outputs: []};
      // Twice in a row, so that a history eviction race or a restart in progress is not misread.
      if (++this.#missingChecks >= 2) {
        throw new VastdeckError(
          'not-found',
          `ComfyUI at ${http.baseUrl} no longer knows prompt ${promptId} (neither queued nor in its history; the server may have restarted): submit the job again.`,
        );
      }
      return undefined;
    } catch (error) {
      if (!(error instanceof VastdeckError) || error.code !== 'unreachable') throw error;
      this.#failingSinceMs ??= Date.now();
      if (Date.now() - this.#failingSinceMs >= this.#options.unreachableMs) throw error;
      return undefined;
    }
  }

  #onEvent(event: ComfyEvent): void {
    if (event.promptId !== this.#options.promptId) return;
    this.#lastEventMs = Date.now();
    switch (event.type) {
      case 'execution_cached':
        for (const node of event.nodes) this.#done.add(node);
        break;
      case 'executing':
        if (event.node === null) {
          this.#doneSignal = true;
          this.nudge();
          return;
        }
        this.#moveTo(event.node);
        break;
      case 'progress':
        if (event.node !== undefined) this.#moveTo(event.node);
        this.#step = {value: event.value, max: event.max};
        break;
      case 'progress_state':
        for (const node of event.finished) this.#done.add(node);
        break;
      case 'executed':
        this.#done.add(event.node);
        break;
      case 'execution_error':
        this.#socketError = {nodeId: event.nodeId, nodeType: event.nodeType, message: event.message};
        break;
      default:
        break;
    }
    this.#report(false);
  }

  #moveTo(node: string): void {
    if (node === this.#current) return;
    if (this.#current !== undefined) this.#done.add(this.#current);
    this.#current = node;
    this.#step = undefined;
  }

  #finish(result: HistoryResult): HistoryResult {
    if (result.status === 'success') this.#report(true);
    if (result.status === 'error' && this.#socketError && result.error?.nodeId === '?') return {...result, error: this.#socketError};
    return result;
  }

  #report(finished: boolean): void {
    const {onProgress, workflow} = this.#options;
    if (!onProgress) return;
    const running = !finished && this.#current !== undefined && !this.#done.has(this.#current) ? this.#current : undefined;
    const total = Math.max(workflow ? Object.keys(workflow).length : 0, this.#done.size + (running === undefined ? 0 : 1));
    const progress: PromptProgress = {
      nodeId: running,
      nodeTitle: running === undefined ? undefined : workflow?.[running]?._meta?.title,
      value: running === undefined ? undefined : this.#step?.value,
      max: running === undefined ? undefined : this.#step?.max,
      nodesDone: finished ? total : this.#done.size,
      nodesTotal: total,
    };
    const key = JSON.stringify(progress);
    if (key === this.#lastReported) return;
    this.#lastReported = key;
    try {
      onProgress(progress);
    } catch (error) {
      this.stop(error instanceof Error ? error : new Error(String(error)));
    }
  }

  #nap(ms: number): Promise<void> {
    return new Promise(resolve => {
      const wake = (): void => {
        clearTimeout(timer);
        this.#wake = undefined;
        resolve();
      };
      const timer = setTimeout(wake, Math.max(0, ms));
      this.#wake = wake;
    });
  }
}
