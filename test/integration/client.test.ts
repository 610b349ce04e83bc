// VastClient against small node:http servers on 127.0.0.1 that play the outside world's
// misbehaviours: 429 storms, 5xx, hangs, refused connections, HTML and broken JSON.
import {createServer, type IncomingHttpHeaders, type Server} from 'node:http';
import type {AddressInfo} from 'node:net';
import {afterAll, afterEach, describe, expect, it} from 'vitest';
import {
  VastAuthError,
  VastBadAnswerError,
  VastRateLimitedError,
  VastRefusedError,
  VastUnreachableError,
  type VastdeckError,
} from '../../source/core/errors.js';
import {VastClient, type RequestEvent, type VastClientOptions} from '../../source/core/vast/client.js';

const KEY = 'k3y-0123456789abcdef-SECRET';

interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

interface Reply {
  status?: number;
  type?: string;
  body?: unknown;
  /** Never answer (for timeouts). */
  hang?: boolean;
}

const servers: Server[] = [];
const events: RequestEvent[] = [];
const errors: VastdeckError[] = [];

afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise(resolve => server.close(resolve));
  }
});

afterAll(() => {
  // Whatever went wrong in any test above, the key never showed up in what the client reports.
  expect(events.length).toBeGreaterThan(20);
  expect(JSON.stringify(events)).not.toContain(KEY);
  expect(errors.length).toBeGreaterThan(10);
  for (const error of errors) expect(`${error.message} ${error.detail ?? ''}`).not.toContain(KEY);
});

/** Serves `replies` in order (the last one repeats) and records every request. */
async function serve(...replies: Reply[]): Promise<{baseUrl: string; seen: Seen[]}> {
  const seen: Seen[] = [];
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', chunk => (body += chunk));
    request.on('end', () => {
      seen.push({method: request.method ?? '', url: request.url ?? '', headers: request.headers, body, at: Date.now()});
      const reply = replies[Math.min(seen.length, replies.length) - 1] ?? {};
      if (reply.hang) return;
      const text = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body ?? {});
      response.writeHead(reply.status ?? 200, {'content-type': reply.type ?? 'application/json'});
      response.end(text);
    });
  });
  servers.push(server);
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  return {baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen};
}

function client(baseUrl: string, options: Partial<VastClientOptions> = {}): VastClient {
  return new VastClient({
    baseUrl,
    apiKey: KEY,
    timeoutMs: 2000,
    maxAttempts: 4,
    backoff: {baseMs: 5, capMs: 20},
    pacingScale: 0,
    onRequest: event => events.push(event),
    ...options,
  });
}

async function failure(promise: Promise<unknown>): Promise<VastdeckError> {
  try {
    await promise;
  } catch (error) {
    errors.push(error as VastdeckError);
    return error as VastdeckError;
  }
  throw new Error('expected the request to fail');
}

const offer = {id: 11, gpu_name: 'RTX 4090', dph_total: 0.4, geolocation: 'Texas, US'};
const echo = {parse: (body: unknown) => body};

describe('VastClient', () => {
  it('sends the key as a Bearer header only, never in the URL, and parses offers', async () => {
    const {baseUrl, seen} = await serve({body: {offers: [offer]}});
    const query = {gpu_name: {in: ['RTX 4090']}, order: [['dph_total', 'asc']], limit: 5};
    const offers = await client(baseUrl).searchOffers(query);
    expect(offers).toMatchObject([{id: 11, gpuName: 'RTX 4090', dphTotal: 0.4, countryCode: 'US'}]);
    expect(seen[0]).toMatchObject({method: 'POST', url: '/api/v0/bundles/'});
    expect(seen[0]!.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(seen[0]!.headers['user-agent']).toMatch(/^vastdeck\//);
    expect(seen[0]!.url).not.toContain(KEY);
    expect(JSON.parse(seen[0]!.body)).toEqual(query);
  });

  it('reads the current user and drops its api_key', async () => {
    const {baseUrl, seen} = await serve({body: {id: 5, email: 'a@b.c', balance: 3, credit: 25, api_key: KEY}});
    const user = await client(baseUrl).currentUser();
    expect(user).toEqual({id: 5, email: 'a@b.c', balanceUsd: 3, creditUsd: 25});
    expect(JSON.stringify(user)).not.toContain(KEY);
    expect(seen[0]).toMatchObject({method: 'GET', url: '/api/v0/users/current/'});
  });

  it('reads the current key for each request and sends none when there is none', async () => {
    const {baseUrl, seen} = await serve({body: {ok: true}});
    const vast = client(baseUrl);
    vast.setApiKey('other-key');
    await vast.request('GET', '/api/v1/instances/', {...echo, searchParams: {limit: '25'}});
    vast.setApiKey(undefined);
    await vast.request('GET', '/api/v1/instances/', echo);
    expect(seen[0]!.headers.authorization).toBe('Bearer other-key');
    expect(seen[0]!.url).toBe('/api/v1/instances/?limit=25');
    expect(seen[1]!.headers.authorization).toBeUndefined();
  });

  it('gives VastUnreachableError when the server does not answer in time', async () => {
    const {baseUrl, seen} = await serve({hang: true});
    const error = await failure(client(baseUrl, {timeoutMs: 150, maxAttempts: 2}).currentUser());
    expect(error).toBeInstanceOf(VastUnreachableError);
    expect(error.message).toContain(`at ${baseUrl} (timed out after 150 ms)`);
    expect(seen).toHaveLength(2);
  });

  it('retries 503, 503 and then succeeds', async () => {
    const {baseUrl, seen} = await serve({status: 503, body: 'busy', type: 'text/plain'}, {status: 503}, {body: {offers: []}});
    const mine: RequestEvent[] = [];
    const offers = await client(baseUrl, {onRequest: event => (mine.push(event), events.push(event))}).searchOffers({});
    expect(offers).toEqual([]);
    expect(seen).toHaveLength(3);
    expect(mine.map(event => [event.attempt, event.status, event.error])).toEqual([
      [1, 503, 'HTTP 503'],
      [2, 503, 'HTTP 503'],
      [3, 200, undefined],
    ]);
    expect(mine[0]).toMatchObject({method: 'POST', path: '/api/v0/bundles/'});
  });

  it('gives up on a 429 storm with VastRateLimitedError after maxAttempts', async () => {
    const {baseUrl, seen} = await serve({status: 429, type: 'text/plain', body: 'API requests too frequent endpoint threshold=2.0'});
    const error = await failure(client(baseUrl, {maxAttempts: 5}).searchOffers({}));
    expect(error).toBeInstanceOf(VastRateLimitedError);
    expect(error.message).toContain('POST /api/v0/bundles/ after 5 tries');
    expect(seen).toHaveLength(5);
  });

  it('gets through after one 429', async () => {
    const {baseUrl, seen} = await serve({status: 429, body: {detail: 'API requests too frequent'}}, {body: {offers: [offer]}});
    expect(await client(baseUrl).searchOffers({})).toHaveLength(1);
    expect(seen).toHaveLength(2);
  });

  it('gives VastUnreachableError when the connection is refused, after retrying', async () => {
    const {baseUrl} = await serve({});
    const server = servers.pop()!;
    await new Promise(resolve => server.close(resolve));
    const mine: RequestEvent[] = [];
    const error = await failure(client(baseUrl, {maxAttempts: 3, onRequest: event => (mine.push(event), events.push(event))}).currentUser());
    expect(error).toBeInstanceOf(VastUnreachableError);
    expect(error.message).toBe(`Cannot reach the Vast.ai API at ${baseUrl} (connection refused): check your network, or VAST_URL if you set it.`);
    expect(mine.map(event => event.error)).toEqual(['connection refused', 'connection refused', 'connection refused']);
  });

  it('gives VastUnreachableError for a 5xx that persists', async () => {
    const {baseUrl, seen} = await serve({status: 502, type: 'text/html', body: '<html>Bad gateway</html>'});
    const error = await failure(client(baseUrl).currentUser());
    expect(error).toBeInstanceOf(VastUnreachableError);
    expect(error.message).toContain('(HTTP 502)');
    expect(seen).toHaveLength(4);
  });

  it('refuses an answer that is not JSON, not application/json, or the wrong shape', async () => {
    const broken = await serve({body: '{"offers": [', type: 'application/json'});
    const notJson = await failure(client(broken.baseUrl).searchOffers({}));
    expect(notJson).toBeInstanceOf(VastBadAnswerError);
    expect(notJson.message).toContain('not valid JSON');

    const html = await serve({body: '<html>login</html>', type: 'text/html; charset=utf-8'});
    const htmlError = await failure(client(html.baseUrl).searchOffers({}));
    expect(htmlError).toBeInstanceOf(VastBadAnswerError);
    expect(htmlError.message).toContain('Content-Type text/html instead of application/json');

    const shape = await serve({body: {results: []}});
    const shapeError = await failure(client(shape.baseUrl).searchOffers({}));
    expect(shapeError).toBeInstanceOf(VastBadAnswerError);
    expect(shapeError.message).toContain('no "offers" list');
    expect(broken.seen.length + html.seen.length + shape.seen.length).toBe(3);
  });

  it('turns a parse function failure into VastBadAnswerError', async () => {
    const {baseUrl} = await serve({body: {instances: null}});
    const parse = (): never => {
      throw new Error('no instance in the answer');
    };
    const error = await failure(client(baseUrl).request('GET', '/api/v0/instances/7/', {parse}));
    expect(error).toBeInstanceOf(VastBadAnswerError);
    expect(error.message).toContain('GET /api/v0/instances/7/ (no instance in the answer)');
  });

  it('gives VastAuthError for 401 and for a 404 "Invalid user key", without retrying', async () => {
    const unauthorized = await serve({status: 401, body: {success: false, error: 'auth_error', msg: 'Invalid user key'}});
    expect(await failure(client(unauthorized.baseUrl).currentUser())).toBeInstanceOf(VastAuthError);
    expect(unauthorized.seen).toHaveLength(1);

    const notFound = await serve({status: 404, body: {error: 'not_found', msg: 'Invalid user key'}});
    expect(await failure(client(notFound.baseUrl).searchOffers({}))).toBeInstanceOf(VastAuthError);
  });

  it('reports any other 4xx in one sentence with the server message, status and code', async () => {
    const {baseUrl} = await serve({
      status: 400,
      body: {success: false, error: 'invalid_args', msg: `dph_total is not\n a valid search key for ${KEY}.`},
    });
    const error = await failure(client(baseUrl).request('GET', '/api/v1/instances/', echo));
    expect(error).toBeInstanceOf(VastRefusedError);
    expect(error.code).toBe('api-refused');
    expect(error.message).toBe('Vast.ai refused GET /api/v1/instances/ (HTTP 400): dph_total is not a valid search key for [key].');
    expect((error as VastRefusedError).status).toBe(400);
    expect((error as VastRefusedError).serverError).toBe('invalid_args');
  });

  it('truncates a long server message', async () => {
    const {baseUrl} = await serve({status: 422, body: {detail: 'x'.repeat(1000)}});
    const error = await failure(client(baseUrl).request('PUT', '/api/v0/instances/9/', {...echo, json: {label: 'a'}}));
    expect(error.message.length).toBeLessThan(300);
    expect(error.message).toContain('…');
  });

  it('does not retry a non-idempotent request on 500, but does on 429', async () => {
    const failing = await serve({status: 500, body: {msg: 'oops'}});
    const error = await failure(client(failing.baseUrl).request('PUT', '/api/v0/asks/77/', {...echo, json: {image: 'x'}, idempotent: false}));
    expect(error).toBeInstanceOf(VastUnreachableError);
    expect(error.message).toContain('(HTTP 500)');
    expect(failing.seen).toHaveLength(1);

    const limited = await serve({status: 429, body: 'API requests too frequent', type: 'text/plain'}, {body: {success: true, new_contract: 5}});
    const answer = await client(limited.baseUrl).request('PUT', '/api/v0/asks/77/', {...echo, json: {image: 'x'}, idempotent: false});
    expect(answer).toEqual({success: true, new_contract: 5});
    expect(limited.seen).toHaveLength(2);
  });

  it('paces calls on one endpoint by the scaled published interval, in order', async () => {
    const {baseUrl, seen} = await serve({body: {success: true}});
    const vast = client(baseUrl, {pacingScale: 0.1});
    // PUT /asks/{id} is published at 4.5 s, so 450 ms apart at scale 0.1; another endpoint is not held up.
    const creates = [1, 2, 3].map(id => vast.request('PUT', `/api/v0/asks/${id}/`, {...echo, json: {}}));
    await vast.request('GET', '/api/v0/users/current/', echo);
    await Promise.all(creates);
    const asks = seen.filter(request => request.url.startsWith('/api/v0/asks/'));
    expect(asks.map(request => request.url)).toEqual(['/api/v0/asks/1/', '/api/v0/asks/2/', '/api/v0/asks/3/']);
    expect(asks[1]!.at - asks[0]!.at).toBeGreaterThanOrEqual(440);
    expect(asks[2]!.at - asks[1]!.at).toBeGreaterThanOrEqual(440);
    expect(seen.findIndex(request => request.url === '/api/v0/users/current/')).toBeLessThan(2);
  });

  it('keeps searches within the sliding window', async () => {
    const {baseUrl, seen} = await serve({body: {offers: []}});
    // 10 searches per minute; at scale 0.01 the window is 600 ms.
    const vast = client(baseUrl, {pacingScale: 0.01});
    await Promise.all(Array.from({length: 11}, () => vast.searchOffers({})));
    expect(seen[10]!.at - seen[0]!.at).toBeGreaterThanOrEqual(590);
  });
});
