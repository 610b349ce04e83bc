// Per-endpoint pacing for the Vast API: a gate that keeps calls on one endpoint at least the
// published minimum interval apart (docs/vast-api.md §1.4), so we rarely meet a 429 at all.
// VastClient passes every attempt through `EndpointPacer.acquire`; calls on one endpoint go in order.

/** A minimum gap between calls, or at most `maxCalls` calls in any sliding `windowMs`. */
export type PacingRule = {intervalMs: number} | {maxCalls: number; windowMs: number};

/**
 * Published thresholds, keyed by `endpointKey()` spelling: METHOD, the path without `/api/v0`,
 * ids as `{id}`, no trailing slash. `GET /api/v1/instances` keeps its version prefix.
 */
export const PUBLISHED_PACING: Readonly<Record<string, PacingRule>> = {
  'POST /bundles': {maxCalls: 10, windowMs: 60_000},
  'PUT /asks/{id}': {intervalMs: 4500},
  'GET /instances/{id}': {intervalMs: 2000},
  'GET /api/v1/instances': {intervalMs: 1000},
  'PUT /instances/{id}': {intervalMs: 1000},
  'DELETE /instances/{id}': {intervalMs: 3000},
  'PUT /instances/reboot/{id}': {intervalMs: 1000},
  'PUT /instances/recycle/{id}': {intervalMs: 1000},
  'PUT /instances/command/{id}': {intervalMs: 1500},
  'POST /ssh': {intervalMs: 1000},
  'PUT /ssh/{id}': {intervalMs: 1000},
  'DELETE /instances/{id}/ssh/{id}': {intervalMs: 2000},
  'GET /volumes': {intervalMs: 5500},
  'PUT /volumes': {intervalMs: 5500},
  'DELETE /volumes': {intervalMs: 5500},
  'GET /template': {intervalMs: 3000},
  'PUT /launch_instance': {intervalMs: 5000},
};

/** The pacing key for a request: `endpointKey('PUT', '/api/v0/asks/123/')` → 'PUT /asks/{id}'. */
export function endpointKey(method: string, path: string): string {
  const bare = path.split('?', 1)[0]!.replace(/^\/api\/v0(?=\/)/, '');
  const normalised = bare
    .split('/')
    .map(segment => (/^\d+$/.test(segment) ? '{id}' : segment))
    .join('/')
    .replace(/\/+$/, '');
  return `${method.toUpperCase()} ${normalised || '/'}`;
}

interface Lane {
  /** Settles when the previous call on this endpoint has its answer, so calls go one at a time, in order. */
  tail: Promise<void>;
  /** Earliest time (ms since epoch) the next call may leave. */
  nextAt: number;
  /** When recent calls finished, for sliding-window rules. */
  finishedAt: number[];
}

/**
 * Calls on one endpoint go one at a time, and the gap is counted from when the previous answer
 * arrived: the server only ever sees requests at least the interval apart, whatever the latency.
 */
export class EndpointPacer {
  readonly #scale: number;
  readonly #rules: Readonly<Record<string, PacingRule>>;
  readonly #lanes = new Map<string, Lane>();

  /** `scale` multiplies every interval and window: 1 = published thresholds, 0 = no pacing. */
  constructor(scale = 1, rules: Readonly<Record<string, PacingRule>> = PUBLISHED_PACING) {
    this.#scale = Math.max(0, scale);
    this.#rules = rules;
  }

  /** Waits for this call's turn on `key`; call the returned `done` once its answer (or failure) is in. */
  async acquire(key: string): Promise<() => void> {
    const rule = this.#rules[key];
    if (rule === undefined || this.#scale === 0) return () => {};
    const lane = this.#lane(key);
    const previous = lane.tail;
    let finish!: () => void;
    lane.tail = new Promise(resolve => (finish = resolve));
    await previous;
    await this.#slot(lane, rule);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const now = Date.now();
      if ('maxCalls' in rule) lane.finishedAt.push(now);
      else lane.nextAt = Math.max(lane.nextAt, now + rule.intervalMs * this.#scale);
      finish();
    };
  }

  /** Keep every call on `key` back for `delayMs` from now (used after a 429). */
  holdOff(key: string, delayMs: number): void {
    if (this.#rules[key] === undefined || this.#scale === 0) return;
    const lane = this.#lane(key);
    lane.nextAt = Math.max(lane.nextAt, Date.now() + delayMs);
  }

  #lane(key: string): Lane {
    let lane = this.#lanes.get(key);
    if (!lane) {
      lane = {tail: Promise.resolve(), nextAt: 0, finishedAt: []};
      this.#lanes.set(key, lane);
    }
    return lane;
  }

  async #slot(lane: Lane, rule: PacingRule): Promise<void> {
    for (;;) {
      const now = Date.now();
      let readyAt = lane.nextAt;
      if ('maxCalls' in rule) {
        const windowMs = rule.windowMs * this.#scale;
        lane.finishedAt = lane.finishedAt.filter(time => time > now - windowMs);
        const oldest = lane.finishedAt[0];
        if (lane.finishedAt.length >= rule.maxCalls && oldest !== undefined) readyAt = Math.max(readyAt, oldest + windowMs);
      }
      if (readyAt <= now) return;
      await sleep(readyAt - now);
    }
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, ms));
}
