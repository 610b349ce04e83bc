// ComfyClient: everything vastdeck does with one ComfyUI behind an instance portal — health probe,
// image upload, prompt submission, following a prompt to its end, interrupt and output download.
// The portal token travels only in the Authorization header (HTTP and the WebSocket upgrade).
// Used by the generation queue; docs/comfyui-api.md is the protocol it speaks.
import {randomUUID} from 'node:crypto';
import {readFile} from 'node:fs/promises';
import {basename, extname} from 'node:path';
import {InputError, VastdeckError} from '../errors.js';
import {comfyStatusError, validationError} from './comfy-errors.js';
import {ComfyHttp, parseJson} from './comfy-http.js';
import {parsePromptAnswer, parseSystemStats, parseUploadAnswer, type SystemStats} from './comfy-parse.js';
import {ComfySocket} from './comfy-socket.js';
import {checkInputImage, IMAGE_EXTENSIONS} from './image-file.js';
import {downloadOutput} from './output-download.js';
import {PromptFollower} from './prompt-follower.js';
import type {ApiWorkflow, HistoryResult, OutputFile, PromptProgress, UploadedImage} from './types.js';

export interface ComfyClientOptions {
  /** The instance's 8188 portal URL, e.g. 'http://203.0.113.7:40123'. */
  baseUrl: string;
  /** WEB_PASSWORD or OPEN_BUTTON_TOKEN of the instance. */
  token: string;
  /** The WebSocket's clientId and the prompts' client_id; default crypto.randomUUID(). */
  clientId?: string;
  /** A request that makes no progress for this long fails (default 30 s). */
  requestTimeoutMs?: number;
  /** Socket silence about a prompt before following it by polling (default 15 s). */
  watchdogMs?: number;
  /** Polling interval while the socket is down or silent (default 2 s). */
  pollMs?: number;
  /** How long a followed prompt tolerates an unreachable ComfyUI before failing (default 60 s). */
  unreachableMs?: number;
}

export interface FollowHandlers {
  onProgress?(progress: PromptProgress): void;
  /** Stops following (the prompt keeps running on the server; use interrupt() to stop it). */
  signal?: AbortSignal;
}

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const SUBFOLDER_PATTERN = /^[\w.-]+(\/[\w.-]+)*$/;

/** The LoadImage `image` value for an upload: `subfolder/name`, or `name` at the top level. */
export function loadImageValue(upload: UploadedImage): string {
  return upload.subfolder ? `${upload.subfolder}/${upload.name}` : upload.name;
}

export class ComfyClient {
  readonly baseUrl: string;
  readonly clientId: string;
  readonly #http: ComfyHttp;
  readonly #socket: ComfySocket;
  readonly #timing: {watchdogMs: number; pollMs: number; unreachableMs: number};
  /** Workflows submitted by this client and not yet followed to the end (titles, node counts). */
  readonly #submitted = new Map<string, ApiWorkflow>();
  readonly #cancelled = new Set<string>();
  readonly #followers = new Map<PromptFollower, string>();

  constructor(options: ComfyClientOptions) {
    const requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
    this.#http = new ComfyHttp({baseUrl: options.baseUrl, token: options.token, timeoutMs: requestTimeoutMs});
    this.baseUrl = this.#http.baseUrl;
    this.clientId = options.clientId ?? randomUUID();
    this.#timing = {watchdogMs: options.watchdogMs ?? 15_000, pollMs: options.pollMs ?? 2000, unreachableMs: options.unreachableMs ?? 60_000};
    this.#socket = new ComfySocket({
      baseUrl: this.baseUrl,
      token: options.token,
      clientId: this.clientId,
      handshakeTimeoutMs: requestTimeoutMs,
      livenessMs: this.#timing.watchdogMs,
    });
  }

  /** GET /system_stats: the health and version probe. */
  systemStats(): Promise<SystemStats> {
    return this.#http.json('GET', 'system_stats', parseSystemStats);
  }

  /**
   * Uploads a PNG/JPEG/WebP under a unique name (`<uuid>-<basename>`), so jobs never reuse or
   * replace each other's inputs; put loadImageValue(result) into LoadImage.
   */
  async uploadImage(path: string, options: {subfolder?: string} = {}): Promise<UploadedImage> {
    const subfolder = options.subfolder ?? '';
    if (subfolder !== '' && (!SUBFOLDER_PATTERN.test(subfolder) || subfolder.split('/').includes('..'))) {
      throw new InputError(`The upload subfolder "${subfolder}" is not a plain relative folder: use letters, digits, '.', '-', '_' and '/'.`);
    }
    const format = await checkInputImage(path);
    const bytes = await readFile(path);
    const form = new FormData();
    form.set('image', new Blob([bytes], {type: `image/${format}`}), uploadName(path, IMAGE_EXTENSIONS[format]));
    form.set('type', 'input');
    if (subfolder) form.set('subfolder', subfolder);
    return this.#http.json('POST', 'upload/image', parseUploadAnswer, {body: form});
  }

  /**
   * POST /prompt with our client_id and a lowercase UUID prompt_id. A refusal (400, or a 200 that
   * dropped some outputs, which is then taken back out of the queue) is a ComfyValidationError.
   */
  async submit(workflow: ApiWorkflow, options: {promptId?: string} = {}): Promise<{promptId: string; number: number}> {
    const promptId = options.promptId ?? randomUUID();
    if (!UUID_PATTERN.test(promptId)) throw new InputError(`The prompt id "${promptId}" is not a lowercase UUID: leave it out and vastdeck picks one.`);
    // ComfyUI drops a prompt's events unless this client's socket is connected when it runs.
    await this.#socket.ready();
    const answer = await this.#http.send('POST', 'prompt', {json: {prompt: workflow, client_id: this.clientId, prompt_id: promptId}});
    if (answer.status === 400) throw validationError(parseJson(answer.text, 'POST /prompt'), workflow);
    if (answer.status !== 200) throw comfyStatusError(this.baseUrl, 'POST /prompt', answer.status, answer.text);
    const accepted = parsePromptAnswer(parseJson(answer.text, 'POST /prompt'));
    if (Object.keys(accepted.nodeErrors).length > 0) {
      await this.#withdraw(accepted.promptId);
      throw validationError({node_errors: accepted.nodeErrors}, workflow, 'ComfyUI refused part of the workflow');
    }
    this.#submitted.set(accepted.promptId, workflow);
    return {promptId: accepted.promptId, number: accepted.number};
  }

  /** Follows a prompt until it ends; see prompt-follower.ts for the rules. */
  async follow(promptId: string, handlers: FollowHandlers = {}): Promise<HistoryResult> {
    const follower = new PromptFollower({
      promptId,
      http: this.#http,
      socket: this.#socket,
      workflow: this.#submitted.get(promptId),
      isCancelled: () => this.#cancelled.has(promptId),
      ...this.#timing,
      onProgress: handlers.onProgress,
      signal: handlers.signal,
    });
    this.#followers.set(follower, promptId);
    try {
      return await follower.run();
    } finally {
      this.#followers.delete(follower);
      // An aborted follow may be resumed later; any other ending is the prompt's last word.
      if (!handlers.signal?.aborted) {
        this.#submitted.delete(promptId);
        this.#cancelled.delete(promptId);
      }
    }
  }

  /** Cancels a prompt: removed from the queue if pending, interrupted if running (others are untouched). */
  async interrupt(promptId: string): Promise<void> {
    this.#cancelled.add(promptId);
    await this.#withdraw(promptId);
    for (const [follower, followed] of this.#followers) if (followed === promptId) follower.nudge();
  }

  /** Streams an output to `destDir` under its own name (never overwriting); returns the local path. */
  download(file: OutputFile, destDir: string, options: {onBytes?(doneBytes: number, totalBytes?: number): void} = {}): Promise<string> {
    return downloadOutput(this.#http, file, destDir, options.onBytes);
  }

  /** Closes the socket; prompts still being followed end with an error. */
  async close(): Promise<void> {
    for (const follower of this.#followers.keys()) {
      follower.stop(new VastdeckError('internal', 'The ComfyUI client was closed while following a prompt: follow it again with a new client.'));
    }
    await this.#socket.close();
  }

  /** POST /queue delete (if pending) then POST /interrupt with the id (if running). */
  async #withdraw(promptId: string): Promise<void> {
    await this.#http.post('queue', {delete: [promptId]});
    await this.#http.post('interrupt', {prompt_id: promptId});
  }
}

/** `<uuid>-<basename>` with only safe characters, ending in the extension of the real format. */
function uploadName(path: string, extension: string): string {
  const original = basename(path);
  const stem = original.slice(0, original.length - extname(original).length).replace(/[^\w.-]+/g, '_').slice(0, 80);
  return `${randomUUID()}-${stem || 'image'}${extension}`;
}
