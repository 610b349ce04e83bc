// The simulated Vast.ai REST front door on 127.0.0.1: routing, auth (Bearer or legacy ?api_key=),
// rate limits, injected faults and a request log. cloud.ts starts it and registers the routes;
// later sim modules add theirs through `SimRouter.add`. Clients reach it only over the socket.
import {createHash} from 'node:crypto';
import {createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse} from 'node:http';
import type {AddressInfo, Socket} from 'node:net';
import type {FaultName, FaultPlan} from './fault-plan.js';
import type {RateLimiter} from './rate-limit.js';

export interface SimRequest {
  method: string;
  /** The path without the query string, as sent. */
  path: string;
  params: Record<string, string>;
  /** Query parameters, JSON-decoded where the CLI JSON-encodes them (`quote_plus(json.dumps(v))`); never `api_key`. */
  query: Record<string, unknown>;
  /** The parsed JSON body, or undefined when there was none. */
  body: unknown;
  /** 'key:<fingerprint>' for an authenticated caller, 'ip:<address>' for an anonymous one. Never the key. */
  identity: string;
  /** Who the key belongs to: the account, or one instance (its scoped instance_api_key). */
  caller: Caller;
  headers: IncomingHttpHeaders;
}

/** The account's key; an instance's scoped key (create's instance_api_key = CONTAINER_API_KEY); or no key. */
export type Caller = {kind: 'account'} | {kind: 'instance'; instanceId: number} | {kind: 'anonymous'};

export interface SimResponse {
  status: number;
  json?: unknown;
  text?: string;
  headers?: Record<string, string>;
}

export type SimHandler = (request: SimRequest) => SimResponse | Promise<SimResponse>;

interface Route {
  method: string;
  pattern: string;
  segments: string[];
  handler: SimHandler;
  anonymous: boolean;
}

/** Method + path routing; '/api/v0/instances/:id/' matches with and without the trailing slash. */
export class SimRouter {
  private readonly routes: Route[] = [];

  /** `anonymous` routes also answer without a key (a wrong key is still a 401). */
  add(method: string, pattern: string, handler: SimHandler, options: {anonymous?: boolean} = {}): void {
    this.routes.push({method: method.toUpperCase(), pattern, segments: splitPath(pattern), handler, anonymous: options.anonymous ?? false});
  }

  /** The matching route with the most literal segments, so '/instances/reboot/:id/' beats '/instances/:id/:what/'. */
  match(method: string, path: string): {route: Route; params: Record<string, string>} | undefined {
    const segments = splitPath(path);
    let best: {route: Route; params: Record<string, string>; literals: number} | undefined;
    for (const route of this.routes) {
      if (route.method !== method.toUpperCase() || route.segments.length !== segments.length) continue;
      const params: Record<string, string> = {};
      const matched = route.segments.every((part, index) => {
        const actual = segments[index]!;
        if (part.startsWith(':')) params[part.slice(1)] = safeDecode(actual);
        return part.startsWith(':') || part === actual;
      });
      const literals = route.segments.filter(part => !part.startsWith(':')).length;
      if (matched && (!best || literals > best.literals)) best = {route, params, literals};
    }
    return best && {route: best.route, params: best.params};
  }
}

export type FaultKind = '429' | '500' | '502' | '503' | 'bad-json' | 'html' | 'wrong-shape' | 'hang' | 'reset';

/** SPEC names (fault-plan.ts) of the API faults. */
const API_FAULTS: ReadonlyArray<[FaultName, FaultKind]> = [
  ['api429', '429'], ['api500', '500'], ['api502', '502'], ['api503', '503'], ['api-html', 'html'],
  ['api-bad-json', 'bad-json'], ['api-wrong-shape', 'wrong-shape'], ['api-hang', 'hang'], ['api-reset', 'reset'],
];

/**
 * Queued misbehaviour: each matching request consumes the first fault whose path prefix fits it.
 * Without one, an /api/ request may still draw a fault armed by name in the plan (counts or rates).
 */
export class SimFaults {
  private readonly queued: {kind: FaultKind; left: number; pathPrefix?: string}[] = [];

  constructor(readonly plan?: FaultPlan) {}

  queue(kind: FaultKind, count = 1, pathPrefix?: string): void {
    if (count > 0) this.queued.push({kind, left: count, pathPrefix});
  }

  get pending(): number {
    return this.queued.reduce((sum, fault) => sum + fault.left, 0);
  }

  clear(): void {
    this.queued.length = 0;
  }

  /** Takes the next fault for this path, if any. */
  take(path: string): FaultKind | undefined {
    const index = this.queued.findIndex(fault => fault.pathPrefix === undefined || path.startsWith(fault.pathPrefix));
    const fault = this.queued[index];
    if (!fault) return path.startsWith('/api/') ? API_FAULTS.find(([name]) => this.plan?.take(name))?.[1] : undefined;
    if (--fault.left === 0) this.queued.splice(index, 1);
    return fault.kind;
  }
}

export interface RequestLogEntry {
  method: string;
  path: string;
  /** 0 when the request was hung or reset by a fault. */
  status: number;
  identity: string;
  fault?: FaultKind;
  atMs: number;
}

export interface ApiServerOptions {
  port: number;
  router: SimRouter;
  faults: SimFaults;
  limiter: RateLimiter;
  /** Whose key this is, or undefined for a key this cloud does not know. */
  identify: (key: string) => Caller | undefined;
  log: RequestLogEntry[];
  /** Epoch ms for the request log (the simulator's clock). */
  now?: () => number;
  /** The cloud's clock for the Date header (runs `speed` times faster than `now` in a compressed simulator). */
  cloudNow?: () => number;
  /** Time compression, announced in X-Vastdeck-Sim-Speed so clients can keep pace (the real API has no such header). */
  speed?: number;
}

const MAX_LOG = 10_000;
const MAX_BODY_BYTES = 4 * 1024 * 1024;

/** Starts listening on 127.0.0.1; resolves with the port and a close that also ends hung and kept-alive sockets. */
export async function startApiServer(options: ApiServerOptions): Promise<{port: number; close(): Promise<void>}> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((request, response) => {
    serve(options, request, response).catch(() => respond(response, {status: 500, json: errorBody('server_error', 'Internal Server Error')}));
  });
  server.on('connection', socket => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>(resolve => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}

async function serve(options: ApiServerOptions, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const url = new URL(request.url ?? '/', 'http://127.0.0.1');
  const method = (request.method ?? 'GET').toUpperCase();
  const ip = request.socket.remoteAddress ?? 'unknown';
  const key = bearerOf(request.headers.authorization) ?? (url.searchParams.get('api_key') || undefined);
  const identity = key === undefined ? `ip:${ip}` : `key:${createHash('sha256').update(key).digest('hex').slice(0, 12)}`;
  const record = (status: number, fault?: FaultKind) => {
    options.log.push({method, path: url.pathname, status, identity, fault, atMs: (options.now ?? Date.now)()});
    if (options.log.length > MAX_LOG) options.log.splice(0, options.log.length - MAX_LOG);
  };
  const send = (answer: SimResponse, fault?: FaultKind) => {
    record(answer.status, fault);
    respond(response, answer, (options.cloudNow ?? options.now ?? Date.now)(), options.speed);
  };

  const fault = options.faults.take(url.pathname);
  if (fault === 'hang' || fault === 'reset') {
    record(0, fault);
    if (fault === 'reset') request.socket.destroy();
    return;
  }
  if (fault) return send(faultAnswer(fault, options.limiter), fault);

  const rawBody = await readBody(request);
  if (rawBody === undefined) return send({status: 413, json: errorBody('invalid_request', 'Request body too large')});
  const matched = options.router.match(method, url.pathname);
  if (!matched) return send({status: 404, json: errorBody('not_found', `No API route for ${method} ${url.pathname}`)});
  const caller: Caller | undefined = key === undefined ? {kind: 'anonymous'} : options.identify(key);
  if (!caller) return send({status: 401, json: errorBody('auth_error', 'Invalid user key')});
  if (caller.kind === 'anonymous' && !matched.route.anonymous) {
    return send({status: 401, json: errorBody('auth_error', 'api key not provided as bearer token.')});
  }
  if (caller.kind === 'instance' && !instanceKeyMay(method, matched.route.pattern, matched.params, caller.instanceId)) {
    return send({status: 403, json: errorBody('not_authorized', `This API key belongs to instance ${caller.instanceId}: it may only show, start, stop or destroy that instance.`)});
  }
  const limited = options.limiter.check(method, matched.route.pattern, {identity, ip}, url.pathname);
  if (limited) return send(limited);
  let body: unknown;
  if (rawBody.trim() !== '') {
    try {
      body = JSON.parse(rawBody);
    } catch {
      return send({status: 400, json: errorBody('invalid_request', 'Invalid json body')});
    }
  }
  const query = decodeQuery(url.searchParams);
  let answer: SimResponse;
  try {
    answer = await matched.route.handler({method, path: url.pathname, params: matched.params, query, body, identity, caller, headers: request.headers});
  } catch {
    answer = {status: 500, json: errorBody('server_error', 'Internal Server Error')};
  }
  send(answer);
}

/** A scoped instance key (Vast's per-instance key): GET, PUT (state) and DELETE of its own instance only. */
function instanceKeyMay(method: string, pattern: string, params: Record<string, string>, instanceId: number): boolean {
  return pattern === '/api/v0/instances/:id/' && ['GET', 'PUT', 'DELETE'].includes(method) && params.id === String(instanceId);
}

function faultAnswer(kind: Exclude<FaultKind, 'hang' | 'reset'>, limiter: RateLimiter): SimResponse {
  switch (kind) {
    case '429':
      return limiter.tooFrequent('2.0');
    case '500':
      return {status: 500, json: errorBody('server_error', 'Internal Server Error')};
    case '502':
      return {status: 502, text: '<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n', headers: {'Content-Type': 'text/html'}};
    case '503':
      return {status: 503, text: '<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>\n', headers: {'Content-Type': 'text/html'}};
    case 'bad-json':
      return {status: 200, text: '{"offers": [{"id": 1, "gpu_na', headers: {'Content-Type': 'application/json'}};
    case 'html':
      return {status: 200, text: '<!DOCTYPE html><html><head><title>Just a moment...</title></head><body>Checking your browser</body></html>\n', headers: {'Content-Type': 'text/html; charset=UTF-8'}};
    case 'wrong-shape':
      return {status: 200, json: {offers: 'nope'}};
  }
}

/** The Date header tells clients the cloud's time: the simulator's clock, not necessarily the wall's. */
function respond(response: ServerResponse, answer: SimResponse, nowMs = Date.now(), speed?: number): void {
  if (response.headersSent || response.destroyed) return;
  response.setHeader('Date', new Date(nowMs).toUTCString());
  if (speed !== undefined) response.setHeader('X-Vastdeck-Sim-Speed', String(speed));
  const isJson = answer.json !== undefined;
  const payload = isJson ? JSON.stringify(answer.json) : (answer.text ?? '');
  response.writeHead(answer.status, {
    'Content-Type': isJson ? 'application/json' : 'text/plain; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(payload)),
    ...answer.headers,
  });
  response.end(payload);
}

export function errorBody(error: string, msg: string): {success: false; error: string; msg: string} {
  return {success: false, error, msg};
}

/** The body as text, or undefined when it is larger than we accept. */
async function readBody(request: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function decodeQuery(params: URLSearchParams): Record<string, unknown> {
  const query: Record<string, unknown> = {};
  for (const [name, value] of params) {
    if (name === 'api_key') continue;
    try {
      query[name] = JSON.parse(value);
    } catch {
      query[name] = value;
    }
  }
  return query;
}

function bearerOf(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match?.[1];
}

function splitPath(path: string): string[] {
  return path.split('/').filter(segment => segment !== '');
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
