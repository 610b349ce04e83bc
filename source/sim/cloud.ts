// Starts the whole simulated Vast.ai cloud on loopback: market, REST API, churn timer, account and
// the rented instances (each a real SSH + portal host, billed on the `speed` clock).
// Called by connect.ts (demo mode), `vastdeck sim`, tests and benchmarks. Clients reach it only
// through `baseUrl` + `apiKey`, exactly as they would reach https://console.vast.ai.
import {randomBytes} from 'node:crypto';
import {errorBody, SimFaults, SimRouter, startApiServer, type Caller, type RequestLogEntry, type SimResponse} from './api-server.js';
import {addInstanceRoutes} from './instance-routes.js';
import {SimInstances} from './instances.js';
import {Market} from './market.js';
import {QueryError, searchOffers, selectColumns} from './query-eval.js';
import {addControlRoutes} from './control-routes.js';
import {FaultPlan, type FaultRule} from './fault-plan.js';
import {RateLimiter} from './rate-limit.js';
import {wallClock, type TimeSource, type TimerHandle} from './comfy/sim-clock.js';
import {gpuModelNames} from './market.js';
import type {InstanceQuirk} from './instance-record.js';

export interface SimCloudOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Market seed (default 1): the same seed gives the same offers. */
  seed?: number;
  /** The key clients must send (default: 64 random hex characters). */
  apiKey?: string;
  /** Market size (default 2400). */
  offers?: number;
  /** How often the market churns (default 5000 ms); 0 turns churn off. */
  churnIntervalMs?: number;
  /** Rate-limit thresholds factor: 1 = published (default), 0 = off, 0.01 = 100× more permissive. */
  rateLimitScale?: number;
  /** Time compression for simulated instances: boots and billing (default 1). */
  speed?: number;
  /** Where time comes from: the wall clock (default), or a test's ManualClock. */
  time?: TimeSource;
  /** Real-API quirks every new instance shows (default none). */
  quirks?: readonly InstanceQuirk[];
  /** Faults armed by name from the start (`vastdeck sim --faults`). */
  faults?: readonly FaultRule[];
}

/** The demo user's account, as GET /users/current/ shows it; later sim modules bill against it. */
export interface SimAccount {
  id: number;
  email: string;
  username: string;
  fullname: string;
  /** $ */
  balance: number;
  /** $ of prepaid credit. */
  credit: number;
  ssh_key: string;
}

export interface SimCloud {
  /** 'http://127.0.0.1:PORT': no /api/v0, no trailing slash. */
  baseUrl: string;
  apiKey: string;
  market: Market;
  faults: SimFaults;
  /** The faults armed by name (the control endpoint and `--faults` change it). */
  faultPlan: FaultPlan;
  router: SimRouter;
  limiter: RateLimiter;
  account: SimAccount;
  /** The rented instances: lifecycle, hosts, billing and fault injection. */
  instances: SimInstances;
  /** Every request so far (method, path, status, identity); never a key. */
  requests: readonly RequestLogEntry[];
  speed: number;
  time: TimeSource;
  close(): Promise<void>;
}

export async function startSimCloud(options: SimCloudOptions = {}): Promise<SimCloud> {
  const apiKey = options.apiKey ?? randomBytes(32).toString('hex');
  const market = new Market({seed: options.seed ?? 1, offers: options.offers});
  const faultPlan = new FaultPlan(options.seed ?? 1);
  faultPlan.add(options.faults ?? []);
  const faults = new SimFaults(faultPlan);
  const router = new SimRouter();
  const time = options.time ?? wallClock;
  const limiter = new RateLimiter({scale: options.rateLimitScale ?? 1, now: () => time.now()});
  const requests: RequestLogEntry[] = [];
  const account: SimAccount = {
    id: 318_254,
    email: 'demo@example.com',
    username: 'vastdeck-demo',
    fullname: 'Demo User',
    balance: 25,
    credit: 25,
    ssh_key: '',
  };
  const speed = options.speed ?? 1;
  const instances = new SimInstances({market, account, speed, time, quirks: options.quirks, faults: faultPlan});
  addOfferRoutes(router, market);
  addInstanceRoutes(router, instances, account.id);
  router.add('GET', '/api/v0/users/current/', () => {
    instances.accrue();
    return {status: 200, json: userAnswer(account, apiKey)};
  });
  addControlRoutes(router, faultPlan, instances);

  const identify = (key: string): Caller | undefined => {
    if (key === apiKey) return {kind: 'account'};
    const instanceId = instances.instanceOfKey(key);
    return instanceId === undefined ? undefined : {kind: 'instance', instanceId};
  };
  const server = await startApiServer({port: options.port ?? 0, router, faults, limiter, identify, log: requests, now: () => time.now(), cloudNow: () => instances.cloudNowMs(), speed});
  let churnIntervalMs = options.churnIntervalMs ?? 5000;
  let churn: TimerHandle | undefined;
  const tick = (): void => {
    market.tick();
    if (churnIntervalMs > 0) churn = time.setTimeout(tick, churnIntervalMs);
  };
  if (churnIntervalMs > 0) churn = time.setTimeout(tick, churnIntervalMs);
  let closing: Promise<void> | undefined;
  return {
    baseUrl: `http://127.0.0.1:${server.port}`,
    apiKey,
    market,
    faults,
    faultPlan,
    router,
    limiter,
    account,
    instances,
    requests,
    speed,
    time,
    close: () => {
      time.clearTimeout(churn);
      churnIntervalMs = 0;
      closing ??= Promise.all([server.close(), instances.close()]).then(() => undefined);
      return closing;
    },
  };
}

/** POST /bundles/ (the CLI's search), its historic GET ?q= form, and PUT /search/asks/ (`--new`). */
function addOfferRoutes(router: SimRouter, market: Market): void {
  const search = (query: unknown, columns?: unknown): SimResponse => {
    try {
      const offers = searchOffers(market.all(), query ?? {}, market.fieldNames);
      return {status: 200, json: {offers: selectColumns(offers, columns, market.fieldNames)}};
    } catch (error) {
      if (error instanceof QueryError) return {status: 400, json: errorBody('invalid_args', error.message)};
      throw error;
    }
  };
  router.add('POST', '/api/v0/bundles/', request => search(request.body), {anonymous: true});
  // vast.py fetches this anonymously when it starts (to check --gpu-name values) and caches it for a day.
  router.add('GET', '/api/v0/gpu_names/unique/', () => ({status: 200, json: {success: true, gpu_names: gpuModelNames()}}), {anonymous: true});
  router.add('GET', '/api/v0/bundles/', request => search(request.query.q), {anonymous: true});
  router.add('PUT', '/api/v0/search/asks/', request => {
    const body = request.body as {q?: unknown; select_cols?: unknown} | undefined;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      return {status: 400, json: errorBody('invalid_args', 'The body must be {"select_cols": ["*"], "q": {...}}.')};
    }
    return search(body.q, body.select_cols);
  });
}

/** The real endpoint returns the API key itself (the CLI pops it before printing). */
function userAnswer(account: SimAccount, apiKey: string): Record<string, unknown> {
  return {
    ...account,
    balance: round2(account.balance),
    credit: round2(account.credit),
    api_key: apiKey,
    key_id: 1,
    sid: null,
    user: account.username,
    has_billing: true,
    can_pay: true,
    has_payout: false,
    last4: '4242',
    email_verified: true,
    got_signup_credit: 1,
    balance_threshold: 5,
    balance_threshold_enabled: false,
    billed_expected: 0,
    billed_verified: 0,
    paid_expected: 0,
    paid_verified: 0,
    billing_creditonly: 0,
    password_resettable: true,
    paypal_email: null,
    billaddress_city: null,
    billaddress_country: null,
    billaddress_line1: null,
    billaddress_line2: null,
    billaddress_zip: null,
    host_only: false,
    has_rented: false,
  };
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}
