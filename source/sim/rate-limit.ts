// The simulator's 429s: a per-endpoint, per-identity limiter built from Vast's published thresholds
// (docs/vast-api.md §1.4), scaled for tests, answering in the documented body shapes (never a
// Retry-After). api-server.ts asks it about every authenticated request; new endpoints add a row.

export interface RateRule {
  /** Router patterns this rule covers, 'METHOD /api/v0/path/:param/'; the trailing slash is optional. */
  routes: readonly string[];
  /** Published minimum seconds between two calls of one identity. */
  minIntervalSec?: number;
  /** Or at most `maxCalls` in any sliding window of `perSec` seconds. */
  window?: {maxCalls: number; perSec: number};
  /** Seconds the identity stays locked out after breaking the rule. */
  penaltySec?: number;
  /** Counted per client IP rather than per API key. */
  perIp?: boolean;
  /** One track for the whole route, not one per resource id in the path. */
  perRoute?: boolean;
}

export const PUBLISHED_RATE_RULES: readonly RateRule[] = [
  {routes: ['POST /api/v0/bundles/', 'GET /api/v0/bundles/'], window: {maxCalls: 10, perSec: 60}, perIp: true},
  {routes: ['PUT /api/v0/asks/:id/'], minIntervalSec: 4.5, penaltySec: 12, perRoute: true},
  {routes: ['PUT /api/v0/instances/', 'DELETE /api/v0/instances/'], minIntervalSec: 1},
  {routes: ['GET /api/v0/instances/:id/'], minIntervalSec: 2},
  {routes: ['GET /api/v1/instances/'], minIntervalSec: 1},
  {routes: ['PUT /api/v0/instances/:id/'], minIntervalSec: 1},
  {routes: ['DELETE /api/v0/instances/:id/'], minIntervalSec: 3},
  {routes: ['PUT /api/v0/instances/reboot/:id/'], minIntervalSec: 1},
  {routes: ['PUT /api/v0/instances/recycle/:id/'], minIntervalSec: 1},
  {routes: ['PUT /api/v0/instances/command/:id/'], minIntervalSec: 1.5},
  {routes: ['POST /api/v0/ssh/'], minIntervalSec: 1},
  {routes: ['PUT /api/v0/ssh/:id/'], minIntervalSec: 1},
  {routes: ['DELETE /api/v0/instances/:id/ssh/:key/'], minIntervalSec: 2},
  {routes: ['GET /api/v0/volumes/', 'PUT /api/v0/volumes/', 'DELETE /api/v0/volumes/'], minIntervalSec: 5.5},
  {routes: ['GET /api/v0/template/'], minIntervalSec: 3},
  {routes: ['PUT /api/v0/launch_instance/'], minIntervalSec: 5},
];

/** A 429 answer, structurally a SimResponse. */
export interface TooFrequentAnswer {
  status: 429;
  text?: string;
  json?: unknown;
}

export interface RateIdentity {
  /** 'key:<fingerprint>' when a key was sent, else the same as `ip`. */
  identity: string;
  ip: string;
}

interface Track {
  lastMs: number;
  lockedUntilMs: number;
  callsMs: number[];
}

export class RateLimiter {
  /** 1 = published thresholds, 0 = no limits, 0.01 = a hundred times more permissive. */
  scale: number;
  private readonly rules = new Map<string, RateRule>();
  private readonly tracks = new Map<string, Track>();
  private readonly now: () => number;
  private answers = 0;

  constructor(options: {scale?: number; rules?: readonly RateRule[]; now?: () => number} = {}) {
    this.scale = options.scale ?? 1;
    this.now = options.now ?? Date.now;
    for (const rule of options.rules ?? PUBLISHED_RATE_RULES) this.addRule(rule);
  }

  addRule(rule: RateRule): void {
    for (const route of rule.routes) this.rules.set(routeKey(route), rule);
  }

  /**
   * undefined when the call may go ahead (and is counted); the 429 answer otherwise. Routes with an
   * id in the path are limited per id (`path`), as on Vast: `destroy instances A B` destroys both.
   */
  check(method: string, routePattern: string, who: RateIdentity, path = routePattern): TooFrequentAnswer | undefined {
    const key = routeKey(`${method} ${routePattern}`);
    const rule = this.rules.get(key);
    if (!rule || this.scale <= 0) return undefined;
    const resource = routePattern.includes(':') && !rule.perRoute ? `\n${path.replace(/\/+$/, '')}` : '';
    const trackKey = `${key}${resource}\n${rule.perIp ? `ip:${who.ip}` : who.identity}`;
    const track = this.tracks.get(trackKey) ?? {lastMs: Number.NEGATIVE_INFINITY, lockedUntilMs: 0, callsMs: []};
    this.tracks.set(trackKey, track);
    const now = this.now();
    if (now < track.lockedUntilMs) return this.tooFrequent(thresholdText(rule));
    if (rule.window) {
      const windowMs = rule.window.perSec * 1000 * this.scale;
      track.callsMs = track.callsMs.filter(at => now - at < windowMs);
      if (track.callsMs.length >= rule.window.maxCalls) return this.reject(rule, track, now);
      track.callsMs.push(now);
    }
    if (rule.minIntervalSec !== undefined) {
      if (now - track.lastMs < rule.minIntervalSec * 1000 * this.scale) return this.reject(rule, track, now);
      track.lastMs = now;
    }
    return undefined;
  }

  /** The next 429 body, rotating through the three shapes Vast is documented to send. */
  tooFrequent(threshold: string): TooFrequentAnswer {
    const message = `API requests too frequent endpoint threshold=${threshold}`;
    switch (this.answers++ % 3) {
      case 0:
        return {status: 429, text: message};
      case 1:
        return {status: 429, json: {detail: message}};
      default:
        return {status: 429, json: {success: false, error: 'rate_limit_exceeded', msg: message}};
    }
  }

  private reject(rule: RateRule, track: Track, now: number): TooFrequentAnswer {
    if (rule.penaltySec !== undefined) track.lockedUntilMs = now + rule.penaltySec * 1000 * this.scale;
    return this.tooFrequent(thresholdText(rule));
  }
}

/** 'GET /api/v0/instances/:id/' and 'get /api/v0/instances/:instance' are the same route. */
function routeKey(route: string): string {
  const [method = '', path = ''] = route.trim().split(/\s+/, 2);
  return `${method.toUpperCase()} ${path.replace(/:[^/]+/g, ':').replace(/\/+$/, '')}`;
}

/** As the server prints it: Python's float repr for intervals ("2.0", "4.5"), "10/60s" for windows. */
function thresholdText(rule: RateRule): string {
  if (rule.minIntervalSec !== undefined) {
    return Number.isInteger(rule.minIntervalSec) ? rule.minIntervalSec.toFixed(1) : String(rule.minIntervalSec);
  }
  return rule.window ? `${rule.window.maxCalls}/${rule.window.perSec}s` : '';
}
