// The simulated Vast.ai REST API over real loopback sockets: the search grammar, pricing, auth,
// rate limits, injected faults, route spellings and the `vastdeck sim` command.
import {mkdtempSync, readFileSync, statSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {PassThrough} from 'node:stream';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {runSimCommand} from '../../source/commands/sim.js';
import {startSimCloud, type SimCloud} from '../../source/sim/cloud.js';
import {ManualClock} from '../../source/sim/comfy/sim-clock.js';
import {RateLimiter} from '../../source/sim/rate-limit.js';

type Offer = Record<string, unknown> & {id: number};

let cloud: SimCloud;

beforeAll(async () => {
  cloud = await startSimCloud({port: 0, seed: 3, rateLimitScale: 0, churnIntervalMs: 0});
});

afterAll(async () => {
  await cloud.close();
});

interface Answer {
  status: number;
  contentType: string | null;
  retryAfter: string | null;
  text: string;
  json: unknown;
}

async function call(path: string, options: {method?: string; body?: unknown; rawBody?: string; key?: string | null; on?: SimCloud} = {}): Promise<Answer> {
  const target = options.on ?? cloud;
  const key = options.key === undefined ? target.apiKey : options.key;
  const headers: Record<string, string> = {};
  if (key !== null) headers.Authorization = `Bearer ${key}`;
  const body = options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(`${target.baseUrl}${path}`, {method: options.method ?? 'GET', headers, body});
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return {status: response.status, contentType: response.headers.get('content-type'), retryAfter: response.headers.get('retry-after'), text, json};
}

async function search(query: Record<string, unknown>, options: {key?: string | null; on?: SimCloud} = {}): Promise<Offer[]> {
  const answer = await call('/api/v0/bundles/', {method: 'POST', body: query, ...options});
  expect(answer.status, answer.text).toBe(200);
  expect(answer.contentType).toBe('application/json');
  return (answer.json as {offers: Offer[]}).offers;
}

async function searchError(query: unknown): Promise<{success: boolean; error: string; msg: string}> {
  const answer = await call('/api/v0/bundles/', {method: 'POST', body: query});
  expect(answer.status).toBe(400);
  expect(answer.contentType).toBe('application/json');
  return answer.json as {success: boolean; error: string; msg: string};
}

describe('search filters', () => {
  it('applies eq, neq, gt, gte, lt, lte on numbers, including the CLI’s numeric strings', async () => {
    const base = {limit: 500, order: [['id', 'asc']]};
    expect((await search({...base, num_gpus: {eq: 2}})).every(offer => offer.num_gpus === 2)).toBe(true);
    expect((await search({...base, num_gpus: {eq: '2'}})).map(offer => offer.id)).toEqual((await search({...base, num_gpus: {eq: 2}})).map(offer => offer.id));
    expect((await search({...base, num_gpus: {neq: 1}})).every(offer => offer.num_gpus !== 1)).toBe(true);
    expect((await search({...base, reliability: {gt: '0.99'}})).every(offer => (offer.reliability as number) > 0.99)).toBe(true);
    expect((await search({...base, gpu_ram: {gte: 24000.0}})).every(offer => (offer.gpu_ram as number) >= 24000)).toBe(true);
    expect((await search({...base, dph_total: {lt: 0.3}})).every(offer => (offer.dph_total as number) < 0.3)).toBe(true);
    const boundary = await search({...base, num_gpus: {lte: 4, gte: 4}});
    expect(boundary.length).toBeGreaterThan(0);
    expect(boundary.every(offer => offer.num_gpus === 4)).toBe(true);
  });

  it('applies in and notin on numbers and strings, with the CLI’s underscores for spaces', async () => {
    const pair = await search({gpu_name: {in: ['RTX 4090', 'RTX_3090']}, limit: 300});
    expect(new Set(pair.map(offer => offer.gpu_name))).toEqual(new Set(['RTX 4090', 'RTX 3090']));
    expect((await search({gpu_name: {eq: 'RTX_4090'}, limit: 50})).every(offer => offer.gpu_name === 'RTX 4090')).toBe(true);
    expect((await search({num_gpus: {in: [4, 8]}, limit: 300})).every(offer => [4, 8].includes(offer.num_gpus as number))).toBe(true);
    const rest = await search({gpu_name: {notin: ['RTX 4090', 'RTX 3090']}, limit: 300});
    expect(rest.length).toBeGreaterThan(0);
    expect(rest.some(offer => ['RTX 4090', 'RTX 3090'].includes(offer.gpu_name as string))).toBe(false);
  });

  it('applies booleans, the CLI default filters and external=false matching a null external', async () => {
    const defaults = await search({verified: {eq: true}, external: {eq: false}, rentable: {eq: true}, rented: {eq: false}, limit: 2000});
    expect(defaults.every(offer => offer.verified === true && offer.rentable === true && offer.external !== true)).toBe(true);
    expect(defaults.some(offer => offer.external === null)).toBe(true);
    expect((await search({verified: {eq: 'False'}, limit: 300})).every(offer => offer.verified === false)).toBe(true);
    expect((await search({external: {eq: true}, limit: 300})).every(offer => offer.external === true)).toBe(true);
  });

  it('matches geolocation in/notin on the trailing country code', async () => {
    const near = await search({geolocation: {in: ['US', 'ca']}, limit: 1000});
    expect(near.length).toBeGreaterThan(0);
    expect(near.every(offer => /(US|CA)$/.test(offer.geolocation as string))).toBe(true);
    expect(near.some(offer => (offer.geolocation as string).startsWith(', '))).toBe(true);
    const far = await search({geolocation: {notin: ['US', 'CN']}, limit: 1000});
    expect(far.length).toBeGreaterThan(0);
    expect(far.some(offer => /(US|CN)$/.test(offer.geolocation as string))).toBe(false);
    expect((await search({geolocation: {eq: 'JP'}, limit: 100})).every(offer => (offer.geolocation as string).endsWith(', JP'))).toBe(true);
  });

  it('compares driver_version in the CLI’s numeric form or as a dotted string', async () => {
    const numeric = await search({driver_version: {gte: 570000000}, limit: 2000});
    const dotted = await search({driver_version: {gte: '570.0.0'}, limit: 2000});
    expect(numeric.map(offer => offer.id)).toEqual(dotted.map(offer => offer.id));
    expect(numeric.every(offer => Number((offer.driver_version as string).split('.')[0]) >= 570)).toBe(true);
  });

  it('answers 400 invalid_args for an unknown field, operator or a malformed value', async () => {
    for (const bad of [{gpu_nmae: {eq: 'RTX 4090'}}, {num_gpus: {like: 1}}, {num_gpus: {eq: 'one'}}, {gpu_name: 'RTX 4090'}, {geolocation: {in: 'US'}}, {verified: {eq: 'maybe'}}, [1, 2]]) {
      const error = await searchError(bad);
      expect(error.success).toBe(false);
      expect(error.error).toBe('invalid_args');
      expect(error.msg.length).toBeGreaterThan(10);
    }
    expect((await searchError({order: [['nonsense', 'asc']]})).error).toBe('invalid_args');
    expect((await searchError({order: 'dph_total'})).error).toBe('invalid_args');
    expect((await searchError({type: 'spot'})).error).toBe('invalid_args');
    expect((await searchError({limit: -1})).error).toBe('invalid_args');
    expect((await searchError({allocated_storage: 'lots'})).error).toBe('invalid_args');
  });
});

describe('order, limit, type and allocated_storage', () => {
  it('sorts by score descending by default and by any field list on request', async () => {
    const byScore = (await search({limit: 100})).map(offer => offer.score as number);
    expect(byScore).toEqual([...byScore].sort((a, b) => b - a));
    const twoKeys = await search({order: [['num_gpus', 'desc'], ['dph_total', 'asc']], limit: 400});
    for (let index = 1; index < twoKeys.length; index++) {
      const [previous, current] = [twoKeys[index - 1]!, twoKeys[index]!];
      expect(previous.num_gpus as number).toBeGreaterThanOrEqual(current.num_gpus as number);
      if (previous.num_gpus === current.num_gpus) expect(previous.dph_total as number).toBeLessThanOrEqual(current.dph_total as number);
    }
  });

  it('returns 64 offers by default and clamps very large limits to the market', async () => {
    expect(await search({})).toHaveLength(64);
    expect(await search({limit: 7})).toHaveLength(7);
    expect(await search({limit: '7'})).toHaveLength(7);
    expect(await search({limit: 1_000_000})).toHaveLength(cloud.market.size);
  });

  it('recomputes dph_total for allocated_storage without changing the market', async () => {
    const [small] = await search({id: {eq: cloud.market.all()[5]!.id}, allocated_storage: 5});
    const [large] = await search({id: {eq: small!.id}, allocated_storage: 200});
    const storageCost = small!.storage_cost as number;
    expect(large!.storage_total_cost).toBeCloseTo((storageCost * 200) / 720, 6);
    expect(large!.dph_total).toBeCloseTo((small!.dph_base as number) + (storageCost * 200) / 720, 6);
    expect((large!.search as {totalHour: number}).totalHour).toBe(large!.dph_total);
    expect(cloud.market.get(small!.id)!.dph_total).toBe(small!.dph_total);
    const cheap = await search({dph_total: {lte: small!.dph_total}, id: {eq: small!.id}, allocated_storage: 200});
    expect(cheap).toHaveLength(storageCost > 0 ? 0 : 1);
  });

  it('prices bids at min_bid and accepts both on-demand spellings and reserved', async () => {
    const id = cloud.market.all()[9]!.id;
    const [onDemand] = await search({id: {eq: id}, type: 'on-demand'});
    const [alsoOnDemand] = await search({id: {eq: id}, type: 'ondemand'});
    const [bid] = await search({id: {eq: id}, type: 'bid'});
    const [reserved] = await search({id: {eq: id}, type: 'reserved'});
    expect(alsoOnDemand).toEqual(onDemand);
    expect(bid!.dph_base).toBe(onDemand!.min_bid);
    expect(bid!.dph_total as number).toBeLessThan(onDemand!.dph_total as number);
    expect(reserved!.discounted_dph_total as number).toBeLessThanOrEqual(onDemand!.dph_total as number);
  });

  it('ignores disable_bundling', async () => {
    expect((await search({disable_bundling: true, limit: 3})).map(offer => offer.id)).toEqual((await search({limit: 3})).map(offer => offer.id));
  });
});

describe('routes and auth', () => {
  it('answers POST /bundles/ anonymously, but refuses a wrong key there', async () => {
    expect(await search({limit: 2}, {key: null})).toHaveLength(2);
    const wrong = await call('/api/v0/bundles/', {method: 'POST', body: {}, key: 'not-the-key'});
    expect(wrong.status).toBe(401);
    expect(wrong.json).toEqual({success: false, error: 'auth_error', msg: 'Invalid user key'});
  });

  it('gives the documented 401 shapes for a missing and a wrong key', async () => {
    const missing = await call('/api/v0/users/current/', {key: null});
    expect(missing.status).toBe(401);
    expect(missing.contentType).toBe('application/json');
    expect(missing.json).toEqual({success: false, error: 'auth_error', msg: 'api key not provided as bearer token.'});
    const wrong = await call('/api/v0/users/current/', {key: 'f'.repeat(64)});
    expect(wrong.json).toEqual({success: false, error: 'auth_error', msg: 'Invalid user key'});
  });

  it('accepts the legacy ?api_key= and lets the Bearer header win over it', async () => {
    expect((await call(`/api/v0/users/current/?api_key=${cloud.apiKey}`, {key: null})).status).toBe(200);
    expect((await call(`/api/v0/users/current/?api_key=${cloud.apiKey}`, {key: 'wrong'})).status).toBe(401);
    expect((await call('/api/v0/users/current/?api_key=wrong')).status).toBe(200);
  });

  it('serves GET /users/current with and without the trailing slash, api_key included', async () => {
    for (const path of ['/api/v0/users/current/', '/api/v0/users/current', '/api/v0/users/current?owner=me']) {
      const answer = await call(path);
      expect(answer.status).toBe(200);
      expect(answer.contentType).toBe('application/json');
      expect(answer.json).toMatchObject({id: cloud.account.id, email: cloud.account.email, balance: 25, credit: 25, api_key: cloud.apiKey, has_billing: true, can_pay: true});
    }
  });

  it('serves /bundles without the trailing slash and the historic GET ?q= form', async () => {
    expect(await search({limit: 3}, {})).toHaveLength(3);
    const bare = await call('/api/v0/bundles', {method: 'POST', body: {limit: 3}});
    expect((bare.json as {offers: Offer[]}).offers).toHaveLength(3);
    const query = encodeURIComponent(JSON.stringify({gpu_name: {eq: 'RTX 4090'}, limit: 4, order: [['dph_total', 'asc']]}));
    const historic = await call(`/api/v0/bundles?q=${query}`, {key: null});
    expect(historic.status).toBe(200);
    const offers = (historic.json as {offers: Offer[]}).offers;
    expect(offers).toHaveLength(4);
    expect(offers.every(offer => offer.gpu_name === 'RTX 4090')).toBe(true);
    expect((await call('/api/v0/bundles/?q=%7Bbroken', {key: null})).status).toBe(400);
  });

  it('serves PUT /search/asks/ with select_cols', async () => {
    const all = await call('/api/v0/search/asks/', {method: 'PUT', body: {select_cols: ['*'], q: {limit: 2, order: [['id', 'asc']]}}});
    expect((all.json as {offers: Offer[]}).offers[0]).toHaveProperty('dph_total');
    const some = await call('/api/v0/search/asks/', {method: 'PUT', body: {select_cols: ['id', 'dph_total'], q: {limit: 2}}});
    expect(Object.keys((some.json as {offers: Offer[]}).offers[0]!)).toEqual(['id', 'dph_total']);
    expect((await call('/api/v0/search/asks/', {method: 'PUT', body: {q: {}}, key: null})).status).toBe(401);
  });

  it('routes to the most specific pattern, whatever the order routes were added in', async () => {
    cloud.router.add('PUT', '/api/v0/widgets/:id/:action/', () => ({status: 200, json: {route: 'generic'}}));
    cloud.router.add('PUT', '/api/v0/widgets/reboot/:id/', request => ({status: 200, json: {route: 'reboot', id: request.params.id}}));
    expect((await call('/api/v0/widgets/reboot/12/', {method: 'PUT', body: {}})).json).toEqual({route: 'reboot', id: '12'});
    expect((await call('/api/v0/widgets/12/stop', {method: 'PUT', body: {}})).json).toEqual({route: 'generic'});
  });

  it('answers 404 JSON for an unknown route and 400 JSON for a body that is not JSON', async () => {
    const missing = await call('/api/v0/nothing-here/');
    expect(missing.status).toBe(404);
    expect(missing.contentType).toBe('application/json');
    expect(missing.json).toMatchObject({success: false, error: 'not_found'});
    const broken = await call('/api/v0/bundles/', {method: 'POST', rawBody: '{"limit": '});
    expect(broken.status).toBe(400);
    expect(broken.json).toMatchObject({success: false, error: 'invalid_request'});
  });

  it('logs method, path, status and identity, never the key', async () => {
    await call(`/api/v0/users/current/?api_key=${cloud.apiKey}`, {key: null});
    const last = cloud.requests.at(-1)!;
    expect(last).toMatchObject({method: 'GET', path: '/api/v0/users/current/', status: 200});
    expect(last.identity).toMatch(/^key:[0-9a-f]{12}$/);
    expect(JSON.stringify(cloud.requests)).not.toContain(cloud.apiKey);
  });
});

describe('rate limits', () => {
  let limited: SimCloud;

  beforeAll(async () => {
    limited = await startSimCloud({port: 0, seed: 3, offers: 200, rateLimitScale: 1, churnIntervalMs: 0});
  });

  afterAll(async () => {
    await limited.close();
  });

  it('allows 10 searches a minute per IP, then rotates through the documented 429 shapes without Retry-After', async () => {
    for (let index = 0; index < 10; index++) expect((await call('/api/v0/bundles/', {method: 'POST', body: {limit: 1}, on: limited})).status).toBe(200);
    const refusals = [];
    for (let index = 0; index < 3; index++) refusals.push(await call('/api/v0/bundles/', {method: 'POST', body: {limit: 1}, key: null, on: limited}));
    expect(refusals.map(answer => answer.status)).toEqual([429, 429, 429]);
    expect(refusals.every(answer => answer.retryAfter === null)).toBe(true);
    const message = 'API requests too frequent endpoint threshold=10/60s';
    expect(refusals.map(answer => answer.contentType)).toEqual(['text/plain; charset=utf-8', 'application/json', 'application/json']);
    expect(refusals[0]!.text).toBe(message);
    expect(refusals[1]!.json).toEqual({detail: message});
    expect(refusals[2]!.json).toEqual({success: false, error: 'rate_limit_exceeded', msg: message});
  });

  it('keeps a minimum interval per instance id and per key, so a bulk destroy of A and B passes, and lets calls through once it has passed', async () => {
    limited.router.add('GET', '/api/v0/instances/:id/', request => ({status: 200, json: {instances: {id: Number(request.params.id)}}}));
    expect((await call('/api/v0/instances/5/', {on: limited})).status).toBe(200);
    const again = await call('/api/v0/instances/5', {on: limited});
    expect(again.status).toBe(429);
    expect(again.text).toContain('threshold=2.0');
    expect((await call('/api/v0/instances/6/', {on: limited})).status).toBe(200);
    limited.limiter.scale = 0;
    expect((await call('/api/v0/instances/6/', {on: limited})).status).toBe(200);
    expect((await call('/api/v0/instances/6/', {on: limited})).status).toBe(200);
  });

  it('lets a call through again once the interval has passed on the simulator clock', async () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter({now: () => clock.now()});
    const who = {identity: 'key:a', ip: '127.0.0.1'};
    expect(limiter.check('DELETE', '/api/v0/instances/:id/', who, '/api/v0/instances/1/')).toBeUndefined();
    expect(limiter.check('DELETE', '/api/v0/instances/:id/', who, '/api/v0/instances/1/')?.status).toBe(429);
    expect(limiter.check('DELETE', '/api/v0/instances/:id/', who, '/api/v0/instances/2/')).toBeUndefined();
    await clock.advance(2999);
    expect(limiter.check('DELETE', '/api/v0/instances/:id/', who, '/api/v0/instances/1')?.status).toBe(429);
    await clock.advance(1);
    expect(limiter.check('DELETE', '/api/v0/instances/:id/', who, '/api/v0/instances/1')).toBeUndefined();
  });
});

describe('fault injection', () => {
  it('answers each queued fault kind once, in order, on matching paths only', async () => {
    cloud.faults.queue('500', 1, '/api/v0/bundles');
    cloud.faults.queue('502');
    cloud.faults.queue('503');
    cloud.faults.queue('429');
    cloud.faults.queue('bad-json');
    cloud.faults.queue('html');
    cloud.faults.queue('wrong-shape');
    expect((await call('/api/v0/users/current/')).status).toBe(502);
    const first = await call('/api/v0/bundles/', {method: 'POST', body: {}});
    expect(first.status).toBe(500);
    expect(first.json).toMatchObject({success: false});
    const gateway = await call('/api/v0/users/current/');
    expect(gateway.status).toBe(503);
    expect(gateway.contentType).toBe('text/html');
    const limitedAnswer = await call('/api/v0/users/current/');
    expect(limitedAnswer.status).toBe(429);
    expect(limitedAnswer.retryAfter).toBeNull();
    const badJson = await call('/api/v0/bundles/', {method: 'POST', body: {}});
    expect(badJson.status).toBe(200);
    expect(badJson.contentType).toBe('application/json');
    expect(badJson.json).toBeUndefined();
    const html = await call('/api/v0/bundles/', {method: 'POST', body: {}});
    expect([html.status, html.contentType?.startsWith('text/html')]).toEqual([200, true]);
    const wrongShape = await call('/api/v0/bundles/', {method: 'POST', body: {}});
    expect(wrongShape.json).toEqual({offers: 'nope'});
    expect(cloud.faults.pending).toBe(0);
    expect((await call('/api/v0/users/current/')).status).toBe(200);
  });

  it('counts a fault for several requests', async () => {
    cloud.faults.queue('503', 2, '/api/v0/users');
    expect((await call('/api/v0/users/current')).status).toBe(503);
    expect((await call('/api/v0/bundles/', {method: 'POST', body: {limit: 1}})).status).toBe(200);
    expect((await call('/api/v0/users/current')).status).toBe(503);
    expect((await call('/api/v0/users/current')).status).toBe(200);
  });

  it('resets the connection, or hangs until the client gives up', async () => {
    cloud.faults.queue('reset');
    await expect(fetch(`${cloud.baseUrl}/api/v0/users/current/`)).rejects.toThrow();
    cloud.faults.queue('hang');
    await expect(fetch(`${cloud.baseUrl}/api/v0/users/current/`, {signal: AbortSignal.timeout(200)})).rejects.toThrow();
    expect(cloud.requests.slice(-2).map(entry => [entry.status, entry.fault])).toEqual([[0, 'reset'], [0, 'hang']]);
  });

  it('closes even with a request still hanging', async () => {
    const doomed = await startSimCloud({port: 0, offers: 50, churnIntervalMs: 0});
    doomed.faults.queue('hang');
    const pending = fetch(`${doomed.baseUrl}/api/v0/users/current/`).catch((error: unknown) => error);
    while (doomed.requests.length === 0) await new Promise(resolve => setTimeout(resolve, 5));
    await doomed.close();
    expect(await pending).toBeInstanceOf(Error);
  });
});

describe('vastdeck sim', () => {
  function streams() {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let out = '';
    let err = '';
    stdout.on('data', chunk => (out += String(chunk)));
    stderr.on('data', chunk => (err += String(chunk)));
    return {io: {stdout, stderr}, out: () => out, err: () => err};
  }

  it('refuses a bad flag with one sentence and exit code 2', async () => {
    const {io, err} = streams();
    expect(await runSimCommand(['--port', 'abc'], io)).toBe(2);
    expect(err().trim().split('\n')).toHaveLength(1);
    expect(await runSimCommand(['--bogus'], io)).toBe(2);
  });

  it('runs until SIGINT, printing the URL and usage lines, with the key in a 0600 file', async () => {
    const {io, out} = streams();
    const keyFile = join(mkdtempSync(join(tmpdir(), 'vastdeck-sim-')), 'key');
    const running = runSimCommand(['--port', '0', '--offers', '100', '--no-churn', '--seed', '9', '--key-file', keyFile], io);
    while (!out().includes('Ctrl+C')) await new Promise(resolve => setTimeout(resolve, 10));
    const url = /http:\/\/127\.0\.0\.1:\d+/.exec(out())![0];
    const key = readFileSync(keyFile, 'utf8').trim();
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(out()).not.toContain(key);
    expect(out()).toContain(`vastai --url ${url} --api-key $(cat ${keyFile}) search offers 'gpu_name=RTX_4090'`);
    expect(out()).toContain(`VAST_URL=${url} VAST_API_KEY=$(cat ${keyFile}) vastdeck`);
    const user = await fetch(`${url}/api/v0/users/current/`, {headers: {Authorization: `Bearer ${key}`}});
    expect(user.status).toBe(200);
    process.emit('SIGINT');
    expect(await running).toBe(0);
    await expect(fetch(`${url}/api/v0/users/current/`)).rejects.toThrow();
  });
});
