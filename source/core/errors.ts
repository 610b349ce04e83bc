// The few error classes vastdeck throws. Every one carries a stable `code` and a `message` that is
// one sentence for the user: what went wrong and how to fix it. The UI and the subcommands print
// `message` only; nobody sees a stack trace. Callers that catch unknown errors wrap them with
// `toVastdeckError` so that even a surprise gets a readable sentence.

export type ErrorCode =
  | 'auth'
  | 'rate-limited'
  | 'offer-gone'
  | 'unreachable'
  | 'bad-answer'
  | 'api-refused'
  | 'not-found'
  | 'bad-input'
  | 'config'
  | 'ssh'
  | 'interrupted'
  | 'local'
  | 'internal';

export class VastdeckError extends Error {
  readonly code: ErrorCode;
  /** Extra detail for logs (never shown by default, never contains secrets). */
  readonly detail?: string;

  constructor(code: ErrorCode, message: string, options?: {detail?: string; cause?: unknown}) {
    super(message, options?.cause === undefined ? undefined : {cause: options.cause});
    this.name = 'VastdeckError';
    this.code = code;
    this.detail = options?.detail;
  }
}

/** The API key was refused (401, or the 404 "Invalid user key" some endpoints give). */
export class VastAuthError extends VastdeckError {
  constructor(message = 'The Vast.ai API key was refused (401): check it with `vastdeck login`, or unset VAST_API_KEY if it overrides the saved key.', detail?: string) {
    super('auth', message, {detail});
    this.name = 'VastAuthError';
  }
}

/** Still 429 after every retry. */
export class VastRateLimitedError extends VastdeckError {
  constructor(endpoint: string, attempts: number) {
    super('rate-limited', `Vast.ai kept answering "too many requests" for ${endpoint} after ${attempts} tries: wait a minute, or raise the refresh interval with \`vastdeck config set refreshSeconds 30\`.`);
    this.name = 'VastRateLimitedError';
  }
}

/** The offer was taken or withdrawn (404/409/410 on create). */
export class OfferGoneError extends VastdeckError {
  readonly offerId: number;
  constructor(offerId: number, detail?: string) {
    super('offer-gone', `Offer ${offerId} is no longer available: pick another offer (the list refreshes by itself).`, {detail});
    this.name = 'OfferGoneError';
    this.offerId = offerId;
  }
}

/** Network failure, timeout, or 5xx after every retry. */
export class VastUnreachableError extends VastdeckError {
  constructor(baseUrl: string, reason: string) {
    super('unreachable', `Cannot reach the Vast.ai API at ${baseUrl} (${reason}): check your network, or VAST_URL if you set it.`);
    this.name = 'VastUnreachableError';
  }
}

/** An answer we could not parse: not JSON, or the wrong shape. */
export class VastBadAnswerError extends VastdeckError {
  constructor(endpoint: string, what: string) {
    super('bad-answer', `The Vast.ai API sent an answer vastdeck cannot read for ${endpoint} (${what}): try again, and report it if it persists.`);
    this.name = 'VastBadAnswerError';
  }
}

/**
 * Any other 4xx: the API understood the request and said no. `status` and the server's own
 * `error` code (e.g. 'no_such_ask') let callers react, e.g. a 404 on DELETE means "already gone".
 */
export class VastRefusedError extends VastdeckError {
  readonly status: number;
  readonly serverError?: string;
  constructor(message: string, status: number, serverError?: string) {
    super('api-refused', message);
    this.name = 'VastRefusedError';
    this.status = status;
    this.serverError = serverError;
  }
}

/** Anything the user typed or configured that we cannot use (flags, filters, files). */
export class InputError extends VastdeckError {
  constructor(message: string) {
    super('bad-input', message);
    this.name = 'InputError';
  }
}

export class ConfigError extends VastdeckError {
  constructor(message: string) {
    super('config', message);
    this.name = 'ConfigError';
  }
}

/** A problem on this machine (disk full, permissions) while saving a job's results: not the instance's fault. */
export class LocalFileError extends VastdeckError {
  constructor(message: string, cause?: unknown) {
    super('local', message, {cause});
    this.name = 'LocalFileError';
  }
}

/** The exit code scripts rely on: 2 for bad input or settings, 130 interrupted, 1 for everything else. */
export function exitCodeFor(error: unknown): number {
  const code = toVastdeckError(error).code;
  if (code === 'bad-input' || code === 'config') return 2;
  return code === 'interrupted' ? 130 : 1;
}

export function toVastdeckError(error: unknown): VastdeckError {
  if (error instanceof VastdeckError) return error;
  const text = error instanceof Error ? error.message : String(error);
  return new VastdeckError('internal', `Unexpected problem: ${firstLine(text)}.`, {cause: error});
}

function firstLine(text: string): string {
  const line = text.split('\n', 1)[0] ?? '';
  return line.replace(/[.\s]+$/, '').slice(0, 200);
}
