// The one Vast.ai REST client (got 14): Bearer auth read per request, a total timeout, our own
// retry with exponential backoff and full jitter, per-endpoint pacing (pacing.ts), and typed
// errors (errors.ts). Demo and live mode differ only in baseUrl and key. Used by every core model.
import {CloudClock} from './cloud-clock.js';
import got, {RequestError, TimeoutError, type Got} from 'got';
import {
  VastAuthError,
  VastBadAnswerError,
  VastRateLimitedError,
  VastRefusedError,
  VastUnreachableError,
  VastdeckError,
  InputError,
} from '../errors.js';
import {VERSION} from '../version.js';
import {EndpointPacer, endpointKey, sleep} from './pacing.js';
import {isRecord, parseOffersAnswer, parseUser, type VastUser} from './parse.js';
import type {Offer} from './types.js';

/** One attempt of one request, for activity views. Never carries the key or a query string. */
export interface RequestEvent {
  method: string;
  path: string;
  status?: number;
  durationMs: number;
  attempt: number;
  error?: string;
}

export interface VastClientOptions {
  /** e.g. 'https://console.vast.ai' (no /api/v0). */
  baseUrl: string;
  apiKey?: string;
  /** Total time for one attempt; default 20 s. */
  timeoutMs?: number;
  /** Attempts per request, the first included; default 6. */
  maxAttempts?: number;
  backoff?: {baseMs?: number; capMs?: number};
  /** Multiplies the published per-endpoint intervals: 1 = as published, 0 = no pacing. */
  pacingScale?: number;
  userAgent?: string;
  onRequest?: (event: RequestEvent) => void;
}

export interface RequestOptions<T> {
  json?: unknown;
  searchParams?: Record<string, string>;
  /** Pacing key; defaults to endpointKey(method, path), e.g. 'PUT /asks/{id}'. */
  endpoint?: string;
  /** false for calls that must not run twice (create): then only 429 and refused connections are retried. */
  idempotent?: boolean;
  /** Turns the answer (parsed JSON, or the text when expectJson is false) into our type; throw to reject it. */
  parse: (body: unknown) => T;
  /** Default true: the answer must be application/json. */
  expectJson?: boolean;
}

type Outcome =
  | {kind: 'response'; status: number; mediaType: string; text: string}
  | {kind: 'network'; code: string; reason: string};

const RETRIED_STATUSES = new Set([429, 500, 502, 503, 504]);
const RETRIED_NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN']);
const NETWORK_REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EPIPE: 'connection broken',
  EAI_AGAIN: 'DNS lookup failed',
  ENOTFOUND: 'host not found',
  ENETUNREACH: 'network unreachable',
  EHOSTUNREACH: 'host unreachable',
};

export class VastClient {
  /** Origin and path of the API, without a trailing slash or query string. */
  readonly baseUrl: string;
  /** The cloud's clock, from the Date header of every answer (billing is by this clock). */
  readonly cloudClock = new CloudClock();
  #simSpeed: number | undefined;
  #apiKey: string | undefined;
  readonly #http: Got;
  readonly #pacer: EndpointPacer;
  readonly #timeoutMs: number;
  readonly #maxAttempts: number;
  readonly #backoffBaseMs: number;
  readonly #backoffCapMs: number;
  readonly #onRequest?: (event: RequestEvent) => void;

  constructor(options: VastClientOptions) {
    this.baseUrl = cleanBaseUrl(options.baseUrl);
    this.#apiKey = options.apiKey || undefined;
    this.#timeoutMs = options.timeoutMs ?? 20_000;
    this.#maxAttempts = Math.max(1, Math.floor(options.maxAttempts ?? 6));
    this.#backoffBaseMs = options.backoff?.baseMs ?? 1000;
    this.#backoffCapMs = options.backoff?.capMs ?? 30_000;
    this.#pacer = new EndpointPacer(options.pacingScale ?? 1);
    this.#onRequest = options.onRequest;
    this.#http = got.extend({
      prefixUrl: `${this.baseUrl}/`,
      retry: {limit: 0},
      timeout: {request: this.#timeoutMs},
      throwHttpErrors: false,
      followRedirect: false,
      responseType: 'text',
      headers: {'user-agent': options.userAgent ?? `vastdeck/${VERSION}`, accept: 'application/json'},
      hooks: {
        beforeRequest: [
          request => {
            if (this.#apiKey) request.headers.authorization = `Bearer ${this.#apiKey}`;
            else delete request.headers.authorization;
          },
        ],
      },
    });
  }

  /** Switches the key for every later request (an empty key sends none). */
  /**
   * The time compression a simulated cloud announces (its X-Vastdeck-Sim-Speed header); undefined
   * against the real API. Paces what must keep up with the cloud's clock (autostop's heartbeat).
   */
  get simSpeed(): number | undefined {
    return this.#simSpeed;
  }

  setApiKey(key: string | undefined): void {
    this.#apiKey = key || undefined;
  }

  /** POST /api/v0/bundles/ with a Vast query object; unusable offers are dropped and reported. */
  searchOffers(query: Record<string, unknown>, options: {onDropped?: (count: number, firstProblem: string) => void} = {}): Promise<Offer[]> {
    return this.request('POST', '/api/v0/bundles/', {json: query, parse: body => parseOffersAnswer(body, options.onDropped)});
  }

  /** GET /api/v0/users/current/ (the answer's api_key field is dropped by parseUser). */
  currentUser(): Promise<VastUser> {
    return this.request('GET', '/api/v0/users/current/', {parse: parseUser});
  }

  async request<T>(method: string, path: string, options: RequestOptions<T>): Promise<T> {
    const upper = method.toUpperCase();
    const bare = path.split('?', 1)[0]!;
    const pacingKey = options.endpoint ?? endpointKey(upper, bare);
    const idempotent = options.idempotent ?? true;
    for (let attempt = 1; ; attempt++) {
      const done = await this.#pacer.acquire(pacingKey);
      let outcome: Outcome;
      try {
        outcome = await this.#send(upper, path, bare, options, attempt);
      } finally {
        done();
      }
      if (attempt < this.#maxAttempts && isRetried(outcome, idempotent)) {
        const delayMs = Math.random() * Math.min(this.#backoffCapMs, this.#backoffBaseMs * 2 ** (attempt - 1));
        if (outcome.kind === 'response' && outcome.status === 429) this.#pacer.holdOff(pacingKey, delayMs);
        await sleep(delayMs);
        continue;
      }
      return this.#conclude(outcome, `${upper} ${bare}`, attempt, options);
    }
  }

  async #send<T>(method: string, path: string, bare: string, options: RequestOptions<T>, attempt: number): Promise<Outcome> {
    const started = performance.now();
    const sentMs = Date.now();
    let outcome: Outcome;
    try {
      const response = await this.#http(path.replace(/^\/+/, ''), {
        method: method as 'GET',
        ...(options.json === undefined ? {} : {json: options.json}),
        ...(options.searchParams ? {searchParams: options.searchParams} : {}),
      });
      this.cloudClock.observe(typeof response.headers.date === 'string' ? response.headers.date : undefined, Date.now(), sentMs);
      const mediaType = String(response.headers['content-type'] ?? '').split(';', 1)[0]!.trim().toLowerCase();
      outcome = {kind: 'response', status: response.statusCode, mediaType, text: response.body};
      const simSpeed = Number(response.headers['x-vastdeck-sim-speed']);
      if (simSpeed > 0) this.#simSpeed = simSpeed;
    } catch (error) {
      outcome = this.#describeFailure(error);
    }
    const status = outcome.kind === 'response' ? outcome.status : undefined;
    const problem = outcome.kind === 'network' ? outcome.reason : status !== undefined && status >= 400 ? `HTTP ${status}` : undefined;
    try {
      const durationMs = Math.round(performance.now() - started);
      this.#onRequest?.({method, path: bare, ...(status === undefined ? {} : {status}), durationMs, attempt, ...(problem ? {error: problem} : {})});
    } catch {
      // An activity listener must never break the request it is watching.
    }
    return outcome;
  }

  #describeFailure(error: unknown): Outcome {
    if (error instanceof TimeoutError) return {kind: 'network', code: 'ETIMEDOUT', reason: `timed out after ${formatDuration(this.#timeoutMs)}`};
    if (error instanceof RequestError) {
      const code = error.code;
      return {kind: 'network', code, reason: NETWORK_REASONS[code] ?? `network error ${code}`};
    }
    throw error;
  }

  #conclude<T>(outcome: Outcome, label: string, attempts: number, options: RequestOptions<T>): T {
    if (outcome.kind === 'network') throw new VastUnreachableError(this.baseUrl, outcome.reason);
    const {status, mediaType, text} = outcome;
    if (status === 429) throw new VastRateLimitedError(label, attempts);
    if (status >= 500) throw new VastUnreachableError(this.baseUrl, `HTTP ${status}`);
    if (status >= 300 && status < 400) {
      throw new VastRefusedError(`Vast.ai answered ${label} with a redirect (HTTP ${status}): set VAST_URL to the API's own address, e.g. https://console.vast.ai.`, status);
    }
    if (status >= 400) {
      const said = this.#serverSays(text, mediaType);
      if (status === 401 || ((said.code === 'auth_error' || /invalid user key|api key not provided/i.test(said.text)) && (status === 403 || status === 404))) {
        throw new VastAuthError(undefined, said.text || undefined);
      }
      throw new VastRefusedError(`Vast.ai refused ${label} (HTTP ${status}): ${said.text || 'no reason given'}.`, status, said.code);
    }
    let body: unknown = text;
    if (options.expectJson !== false) {
      if (mediaType !== 'application/json') throw new VastBadAnswerError(label, `Content-Type ${mediaType || 'missing'} instead of application/json`);
      try {
        body = JSON.parse(text);
      } catch {
        throw new VastBadAnswerError(label, 'not valid JSON');
      }
    }
    try {
      return options.parse(body);
    } catch (error) {
      if (error instanceof VastdeckError) throw error;
      throw new VastBadAnswerError(label, this.#clean(error instanceof Error ? error.message : String(error)));
    }
  }

  /** The server's own words (msg, message, detail or error) and error code, cleaned for one sentence. */
  #serverSays(text: string, mediaType: string): {text: string; code?: string} {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return {text: mediaType === 'text/plain' ? this.#clean(text) : ''};
    }
    if (!isRecord(parsed)) return {text: ''};
    const words = [parsed.msg, parsed.message, parsed.detail, parsed.error].find(value => typeof value === 'string' && value.trim() !== '');
    const code = typeof parsed.error === 'string' ? this.#clean(parsed.error) : undefined;
    return {text: typeof words === 'string' ? this.#clean(words) : '', ...(code ? {code} : {})};
  }

  /** One line, no control characters, at most 200 characters, never the key. */
  #clean(text: string): string {
    let line = text.replace(/[\u0000-\u001f\u007f]+/g, ' ').replace(/\s+/g, ' ').trim().replace(/[.\s]+$/, '');
    if (this.#apiKey) line = line.split(this.#apiKey).join('[key]');
    return line.length > 200 ? `${line.slice(0, 199)}…` : line;
  }
}

function isRetried(outcome: Outcome, idempotent: boolean): boolean {
  if (outcome.kind === 'network') return idempotent ? RETRIED_NETWORK_CODES.has(outcome.code) : outcome.code === 'ECONNREFUSED';
  return idempotent ? RETRIED_STATUSES.has(outcome.status) : outcome.status === 429;
}

function cleanBaseUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new InputError(`The Vast.ai API address '${raw.split('?', 1)[0]}' is not a URL: use one like https://console.vast.ai.`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InputError(`The Vast.ai API address must start with http:// or https://, like https://console.vast.ai.`);
  }
  return `${url.origin}${url.pathname}`.replace(/\/+$/, '');
}

function formatDuration(ms: number): string {
  return ms >= 1000 ? `${Number((ms / 1000).toFixed(1))} s` : `${ms} ms`;
}
