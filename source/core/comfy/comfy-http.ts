// HTTP to one ComfyUI through its instance portal (got 14): the portal token in the Bearer header
// only, stall timeouts instead of a total one (uploads and downloads may be large), and every
// failure mapped to a one-sentence error (comfy-errors.ts). Used by client.ts and output-download.ts.
import got, {RequestError, type Got, type Request} from 'got';
import {InputError, VastdeckError} from '../errors.js';
import {VERSION} from '../version.js';
import {ComfyBadAnswerError, ComfyUnreachableError, comfyStatusError} from './comfy-errors.js';

export interface ComfyHttpOptions {
  /** The portal URL, e.g. 'http://203.0.113.7:40123' (no token in it). */
  baseUrl: string;
  token: string;
  /** A request that makes no progress for this long fails. */
  timeoutMs: number;
}

export interface RawAnswer {
  status: number;
  text: string;
}

interface SendOptions {
  json?: unknown;
  body?: FormData;
  searchParams?: Record<string, string>;
}

const NETWORK_REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EPIPE: 'connection broken',
  ETIMEDOUT: 'timed out',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'DNS lookup failed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
};

export class ComfyHttp {
  readonly baseUrl: string;
  readonly #got: Got;

  constructor(options: ComfyHttpOptions) {
    this.baseUrl = checkedBaseUrl(options.baseUrl);
    const stallMs = options.timeoutMs;
    this.#got = got.extend({
      prefixUrl: `${this.baseUrl}/`,
      retry: {limit: 0},
      timeout: {connect: stallMs, socket: stallMs, response: stallMs},
      throwHttpErrors: false,
      followRedirect: false,
      headers: {authorization: `Bearer ${options.token}`, 'user-agent': `vastdeck/${VERSION}`},
    });
  }

  /** Any status comes back; only network failures throw. `path` has no leading slash. */
  async send(method: 'GET' | 'POST', path: string, options: SendOptions = {}): Promise<RawAnswer> {
    try {
      const response = await this.#got(path, {method, json: options.json, body: options.body, searchParams: options.searchParams, responseType: 'text'});
      return {status: response.statusCode, text: response.body};
    } catch (error) {
      throw this.networkError(error);
    }
  }

  /** A 200 answer parsed as JSON and then by `parse`; any other status is an error. */
  async json<T>(method: 'GET' | 'POST', path: string, parse: (body: unknown) => T, options: SendOptions = {}): Promise<T> {
    const answer = await this.send(method, path, options);
    const endpoint = `${method} /${path}`;
    if (answer.status !== 200) throw comfyStatusError(this.baseUrl, endpoint, answer.status, answer.text);
    return parse(parseJson(answer.text, endpoint));
  }

  /** A POST whose answer body does not matter (ComfyUI sends an empty 200). */
  async post(path: string, json: unknown): Promise<void> {
    const answer = await this.send('POST', path, {json});
    if (answer.status !== 200) throw comfyStatusError(this.baseUrl, `POST /${path}`, answer.status, answer.text);
  }

  /** A streamed GET; the caller checks the 'response' status and maps errors with networkError. */
  stream(path: string, searchParams: Record<string, string>): Request {
    return this.#got.stream(path, {searchParams});
  }

  /** Our own errors pass through; got's become ComfyUnreachableError. */
  networkError(error: unknown): VastdeckError {
    if (error instanceof VastdeckError) return error;
    const code = error instanceof RequestError ? error.code : undefined;
    const reason = (code && NETWORK_REASONS[code]) ?? (error instanceof RequestError && error.name === 'TimeoutError' ? 'timed out' : code ?? 'network error');
    return new ComfyUnreachableError(this.baseUrl, reason);
  }
}

export function parseJson(text: string, endpoint: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new ComfyBadAnswerError(endpoint, 'not JSON');
  }
}

/** 'http(s)://host:port' without a trailing slash; credentials or a query string are refused. */
function checkedBaseUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new InputError("The ComfyUI URL is not a URL: use the instance's portal address, e.g. http://203.0.113.7:40123.");
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new InputError(`The ComfyUI URL must start with http:// or https://, not ${url.protocol}: use the instance's portal address.`);
  if (url.search || url.username || url.password) throw new InputError('The ComfyUI URL must not carry a query string or credentials: pass the portal token as the token option instead.');
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}
