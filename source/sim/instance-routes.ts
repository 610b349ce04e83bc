// The REST face of SimInstances (docs/vast-api.md §3-§6.2): create, the v0 and v1 instance lists,
// read by id, destroy, stop/start/label, reboot, request_logs with its unauthenticated result_url,
// account and per-instance SSH keys, and storage volumes. cloud.ts registers these on its SimRouter.
import {randomBytes} from 'node:crypto';
import ssh2 from 'ssh2';
import {errorBody, type SimRequest, type SimResponse, type SimRouter} from './api-server.js';
import type {SimInstances, SimSshKey} from './instances.js';
import {addVolumeRoutes, SimVolumes} from './volume-routes.js';

/** Polls of a fresh result_url that 404 before the "upload" is done. */
const LOG_NOT_READY_POLLS = 2;
const MAX_LOG_URLS = 200;
/** Columns Vast stores for an instance [INFERRED]; computed ones (dph_total, num_gpus, ...) are not search keys. */
const STORED_COLUMNS = new Set([
  'id', 'machine_id', 'host_id', 'bundle_id', 'actual_status', 'intended_status', 'cur_state', 'next_state', 'status_msg', 'label',
  'image_uuid', 'image_runtype', 'template_id', 'template_hash_id', 'start_date', 'end_date', 'disk_space', 'is_bid', 'gpu_name', 'geolocation',
]);
const OPERATORS = ['eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'in', 'notin'] as const;
type Operator = (typeof OPERATORS)[number];
const NO_SUCH_KEY = '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>';

export function addInstanceRoutes(router: SimRouter, instances: SimInstances, userId: number): void {
  const volumes = new SimVolumes();
  router.add('PUT', '/api/v0/asks/:id/', async request => {
    const answer = await instances.create(request.params.id ?? '', request.body);
    const instanceId = answer.status === 200 ? (answer.json as {new_contract?: number}).new_contract : undefined;
    if (instanceId !== undefined) volumes.attachFromCreate(instanceId, Number(instances.get(instanceId)?.machine_id ?? 0), request.body);
    return answer;
  });
  router.add('GET', '/api/v0/instances/', () => {
    const list = instances.list();
    return ok({instances: list, instances_found: list.length});
  });
  router.add('GET', '/api/v1/instances/', request => listInstancesV1(instances.list(), request.query));
  // Unknown, destroyed and other users' ids all read as null, like Vast.
  router.add('GET', '/api/v0/instances/:id/', request => ok({instances: instances.get(idOf(request)) ?? null}));
  router.add('DELETE', '/api/v0/instances/:id/', request => {
    if (!instances.destroy(idOf(request))) return {status: 404, json: errorBody('not_found', 'Instance not found')};
    volumes.detach(idOf(request));
    return ok({success: true});
  });
  router.add('PUT', '/api/v0/instances/:id/', request => manage(instances, request));
  // The official CLI's bulk forms: `stop/start instances A B` and `destroy instances A B` (64 ids per call).
  router.add('PUT', '/api/v0/instances/', request => bulkState(instances, request.body));
  router.add('DELETE', '/api/v0/instances/', request => {
    const ids = idsOf(request.body, ['instance_ids', 'ids']);
    if (!ids) return invalid('Pass {"instance_ids": [id, ...]}.');
    const missing = ids.filter(id => !instances.destroy(id));
    for (const id of ids) volumes.detach(id);
    if (missing.length === ids.length) return {status: 404, json: errorBody('not_found', `Instance${missing.length > 1 ? 's' : ''} ${missing.join(', ')} not found.`)};
    return ok({success: true, ...(missing.length > 0 ? {msg: `Instances ${missing.join(', ')} were not found.`} : {})});
  });
  router.add('PUT', '/api/v0/instances/reboot/:id/', request => (instances.reboot(idOf(request)) ? ok({success: true}) : noSuchInstance(request)));
  addLogRoutes(router, instances);
  addSshKeyRoutes(router, instances, userId);
  addVolumeRoutes(router, volumes, () => volumeOffers(instances));
}

/** PUT /instances/{id}/ with {"state": "running"|"stopped"} and/or {"label": "..."}. */
function manage(instances: SimInstances, request: SimRequest): SimResponse {
  const id = idOf(request);
  const body = (typeof request.body === 'object' && request.body !== null ? request.body : {}) as {state?: unknown; label?: unknown};
  if (instances.get(id) === undefined) return noSuchInstance(request);
  if (body.state === undefined && body.label === undefined) return invalid('Pass {"state": "running"|"stopped"} or {"label": "..."}.');
  if (body.state !== undefined && body.state !== 'running' && body.state !== 'stopped') return invalid(`state must be "running" or "stopped", got ${JSON.stringify(body.state)}.`);
  if (body.label !== undefined && body.label !== null && typeof body.label !== 'string') return invalid('label must be a string.');
  if (typeof body.label === 'string' && body.label.length > 1024) {
    return {status: 400, json: errorBody('label_too_long', `The label is ${body.label.length} characters long; the limit is 1024.`)};
  }
  if (body.state === 'running' && instances.lowOnCredit()) {
    return {status: 402, json: errorBody('insufficient_credit', 'Your balance is $0.00 or less: add credit before starting an instance.')};
  }
  if (body.label !== undefined) instances.setLabel(id, body.label ?? '');
  if (body.state !== undefined) instances.setState(id, body.state);
  return ok({success: true});
}

/** A volume offer per machine of the market: its free disk at its storage price. */
function volumeOffers(instances: SimInstances): Record<string, unknown>[] {
  const seen = new Set<number>();
  return instances.marketOffers().flatMap(offer => {
    const machine = Number(offer.machine_id);
    if (seen.has(machine)) return [];
    seen.add(machine);
    const {id, machine_id, host_id, disk_space, disk_bw, disk_name, storage_cost, inet_up, inet_down, reliability, geolocation, verification, driver_version, cuda_max_good, duration, cpu_ghz} = offer;
    return [{id, machine_id, host_id, disk_space, disk_bw, disk_name, storage_cost, inet_up, inet_down, reliability, geolocation, verification, driver_version, cuda_max_good, duration, cpu_ghz}];
  });
}

/** PUT /instances/ with {"ids": [...], "state": "running"|"stopped"}: every id, or 404 naming the unknown ones. */
function bulkState(instances: SimInstances, body: unknown): SimResponse {
  const ids = idsOf(body, ['ids', 'IDs']);
  const state = typeof body === 'object' && body !== null ? (body as {state?: unknown}).state : undefined;
  if (!ids || (state !== 'running' && state !== 'stopped')) return invalid('Pass {"ids": [id, ...], "state": "running"|"stopped"}.');
  const missing = ids.filter(id => instances.get(id) === undefined);
  if (missing.length > 0) return {status: 404, json: errorBody('no_such_instance', `Instance${missing.length > 1 ? 's' : ''} ${missing.join(', ')} not found.`)};
  if (state === 'running' && instances.lowOnCredit()) {
    return {status: 402, json: errorBody('insufficient_credit', 'Your balance is $0.00 or less: add credit before starting an instance.')};
  }
  for (const id of ids) instances.setState(id, state);
  return ok({success: true});
}

/** A list of positive integer ids under the first of `fields` the body has, or undefined. */
function idsOf(body: unknown, fields: string[]): number[] | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const raw = fields.map(field => (body as Record<string, unknown>)[field]).find(value => value !== undefined);
  if (!Array.isArray(raw) || raw.length === 0) return undefined;
  const ids = raw.map(Number);
  return ids.every(id => Number.isInteger(id) && id > 0) ? ids : undefined;
}

/** PUT request_logs → a result_url (on this server, no auth) that 404s for a couple of polls, like S3. */
function addLogRoutes(router: SimRouter, instances: SimInstances): void {
  const uploads = new Map<string, {text: string; notReady: number}>();
  router.add('PUT', '/api/v0/instances/request_logs/:id/', request => {
    const log = instances.containerLog(idOf(request));
    if (log === undefined) return {status: 404, json: errorBody('invalid_id', 'Invalid instance id.')};
    const body = (typeof request.body === 'object' && request.body !== null ? request.body : {}) as {tail?: unknown; filter?: unknown};
    let lines = log.split('\n');
    if (lines.at(-1) === '') lines.pop();
    if (typeof body.filter === 'string' && body.filter !== '') lines = lines.filter(line => line.includes(body.filter as string));
    const tail = Number(body.tail);
    if (body.tail !== undefined && Number.isInteger(tail) && tail >= 0) lines = lines.slice(Math.max(0, lines.length - tail));
    const name = randomBytes(16).toString('hex');
    uploads.set(name, {text: lines.map(line => `${line}\n`).join(''), notReady: LOG_NOT_READY_POLLS});
    if (uploads.size > MAX_LOG_URLS) uploads.delete(uploads.keys().next().value!);
    const origin = `http://${request.headers.host ?? '127.0.0.1'}`;
    return ok({success: true, result_url: `${origin}/sim-logs/${name}.log`, msg: 'Logs are being uploaded; fetch result_url in a few seconds.'});
  });
  router.add(
    'GET',
    '/sim-logs/:name',
    request => {
      const upload = uploads.get((request.params.name ?? '').replace(/\.log$/, ''));
      if (!upload || upload.notReady-- > 0) return {status: 404, text: NO_SUCH_KEY, headers: {'Content-Type': 'application/xml'}};
      return {status: 200, text: upload.text};
    },
    {anonymous: true},
  );
}

/** Account keys: GET gives the OpenAPI array shape [{id, user_id, key, created_at, deleted_at}]. */
function addSshKeyRoutes(router: SimRouter, instances: SimInstances, userId: number): void {
  const accountKey = (key: SimSshKey) => ({id: key.id, user_id: userId, key: key.public_key, created_at: key.created_at, deleted_at: null});
  router.add('GET', '/api/v0/ssh/', () => ok(instances.accountSshKeys().map(accountKey)));
  router.add('POST', '/api/v0/ssh/', request => {
    const publicKey = publicKeyOf(request.body);
    if (publicKey === undefined) return noSshKey(request.body);
    const key = instances.addAccountSshKey(publicKey);
    return ok({success: true, key: {id: key.id, user_id: userId, public_key: key.public_key, created_at: key.created_at, deleted_at: null}});
  });
  router.add('PUT', '/api/v0/ssh/:id/', request => {
    const publicKey = publicKeyOf(request.body);
    if (publicKey === undefined) return noSshKey(request.body);
    return instances.updateAccountSshKey(Number(request.params.id), publicKey) ? ok({success: true}) : {status: 404, json: errorBody('not_found', 'SSH key not found')};
  });
  router.add('DELETE', '/api/v0/ssh/:id/', request =>
    instances.removeAccountSshKey(Number(request.params.id)) ? ok({success: true}) : {status: 404, json: errorBody('not_found', 'SSH key not found')},
  );
  router.add('POST', '/api/v0/instances/:id/ssh/', request => {
    const publicKey = publicKeyOf(request.body);
    if (publicKey === undefined) return noSshKey(request.body);
    return instances.attachSshKey(idOf(request), publicKey) ? ok({success: true, msg: 'SSH key attached successfully'}) : noSuchInstance(request);
  });
  // Vast answers with the list as a JSON *string*.
  router.add('GET', '/api/v0/instances/:id/ssh/', request => {
    const keys = instances.instanceSshKeys(idOf(request));
    if (keys === undefined) return noSuchInstance(request);
    const listed = keys.map(key => ({id: key.id, name: key.public_key.split(/\s+/)[2] ?? '', public_key: key.public_key}));
    return ok({success: true, ssh_keys: JSON.stringify(listed)});
  });
  router.add('DELETE', '/api/v0/instances/:id/ssh/:key/', request => {
    if (instances.get(idOf(request)) === undefined) return noSuchInstance(request);
    return instances.detachSshKey(idOf(request), Number(request.params.key)) ? ok({success: true}) : {status: 404, json: errorBody('not_found', 'SSH key not found')};
  });
}

/** One OpenSSH public key line from {"ssh_key": "..."}, or undefined. */
function publicKeyOf(body: unknown): string | undefined {
  const text = typeof body === 'object' && body !== null ? (body as {ssh_key?: unknown}).ssh_key : undefined;
  if (typeof text !== 'string') return undefined;
  const line = text.trim();
  return line !== '' && !line.includes('\n') && !(ssh2.utils.parseKey(line) instanceof Error) ? line : undefined;
}

function noSshKey(body: unknown): SimResponse {
  const sent = typeof body === 'object' && body !== null && typeof (body as {ssh_key?: unknown}).ssh_key === 'string';
  return {status: 400, json: errorBody('no_ssh_key', sent ? 'Invalid ssh key: expected one OpenSSH public key line such as "ssh-ed25519 AAAA... me@host".' : 'No ssh key provided')};
}

/** The path id; anything that is not a number can never match an instance. */
function idOf(request: SimRequest): number {
  const id = request.params.id ?? '';
  return /^\d+$/.test(id) ? Number(id) : -1;
}

function noSuchInstance(request: SimRequest): SimResponse {
  return {status: 404, json: errorBody('no_such_instance', `Instance ${request.params.id ?? ''} not found.`)};
}

function invalid(msg: string): SimResponse {
  return {status: 400, json: errorBody('invalid_args', msg)};
}

function ok(json: unknown): SimResponse {
  return {status: 200, json};
}

type Row = Record<string, unknown>;
type Order = {col: string; dir: 'asc' | 'desc'}[];

class ListError extends Error {
  constructor(readonly error: string, message: string) {
    super(message);
  }
}

/** GET /api/v1/instances/: keyset pages of at most 25 (≤0 asks for 5), filtered and ordered on stored columns. */
function listInstancesV1(all: Row[], query: Record<string, unknown>): SimResponse {
  try {
    const requested = query.limit === undefined ? 25 : Number(query.limit);
    if (!Number.isFinite(requested)) throw new ListError('invalid_args', `limit must be a number, got ${JSON.stringify(query.limit)}.`);
    const limit = requested <= 0 ? 5 : Math.min(25, Math.floor(requested));
    const order = orderOf(query.order_by);
    const signature = JSON.stringify(order);
    const tests = filtersOf(query.select_filters);
    const matched = all.filter(row => tests.every(test => test(row))).sort((a, b) => compare(order.map(({col}) => a[col]), b, order));
    let start = 0;
    if (query.after_token !== undefined && query.after_token !== '') {
      const after = decodeToken(query.after_token, signature, order.length);
      start = matched.findIndex(row => compare(after, row, order) < 0);
      if (start < 0) start = matched.length;
    }
    const page = matched.slice(start, start + limit);
    const last = page.at(-1);
    const nextToken = last && start + limit < matched.length ? encodeToken(order.map(({col}) => last[col] ?? null), signature) : null;
    const labelCounts: Record<string, number> = {};
    for (const row of all) labelCounts[String(row.label ?? '')] = (labelCounts[String(row.label ?? '')] ?? 0) + 1;
    return ok({success: true, instances: page.map(row => columnsOf(row, query.select_cols)), instances_found: matched.length, total_instances: all.length, label_counts: labelCounts, next_token: nextToken});
  } catch (error) {
    if (error instanceof ListError) return {status: 400, json: errorBody(error.error, error.message)};
    throw error;
  }
}

/** [{"col": "id", "dir": "asc"}] (or [["id", "asc"]]); id breaks ties so the keyset is total. */
function orderOf(raw: unknown): Order {
  if (raw === undefined) return [{col: 'id', dir: 'asc'}];
  if (!Array.isArray(raw)) throw new ListError('invalid_args', 'order_by must be a JSON list such as [{"col": "id", "dir": "asc"}].');
  const order: Order = raw.map(entry => {
    const [col, dir = 'asc'] = Array.isArray(entry) ? entry : [entry?.col, entry?.dir ?? 'asc'];
    if (typeof col !== 'string' || !STORED_COLUMNS.has(col)) throw new ListError('invalid_args', `${String(col)} is not a valid search key`);
    if (dir !== 'asc' && dir !== 'desc') throw new ListError('invalid_args', `order_by dir must be "asc" or "desc", got ${JSON.stringify(dir)}.`);
    return {col, dir};
  });
  if (!order.some(({col}) => col === 'id')) order.push({col: 'id', dir: 'asc'});
  return order;
}

function filtersOf(raw: unknown): ((row: Row) => boolean)[] {
  if (raw === undefined) return [];
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ListError('invalid_args', 'select_filters must be a JSON object such as {"actual_status": {"eq": "running"}}.');
  return Object.entries(raw).flatMap(([col, condition]) => {
    if (!STORED_COLUMNS.has(col)) throw new ListError('invalid_args', `${col} is not a valid search key`);
    const conditions = typeof condition === 'object' && condition !== null && !Array.isArray(condition) ? Object.entries(condition) : [['eq', condition]];
    return conditions.map(([op, value]) => {
      if (!OPERATORS.includes(op as Operator)) throw new ListError('invalid_args', `Unknown operator ${op} for ${col}.`);
      return (row: Row) => matches(row[col] ?? null, op as Operator, value ?? null);
    });
  });
}

function matches(cell: unknown, op: Operator, value: unknown): boolean {
  if (op === 'in' || op === 'notin') {
    const found = (Array.isArray(value) ? value : [value]).some(item => compareValues(cell, item ?? null) === 0);
    return op === 'in' ? found : !found;
  }
  const order = compareValues(cell, value);
  const verdicts: Record<typeof op, boolean> = {eq: order === 0, neq: order !== 0, gt: order > 0, gte: order >= 0, lt: order < 0, lte: order <= 0};
  return verdicts[op];
}

/** Compares a key (values in `order`'s columns) with a row. */
function compare(key: unknown[], row: Row, order: Order): number {
  for (const [index, {col, dir}] of order.entries()) {
    const result = compareValues(key[index] ?? null, row[col] ?? null);
    if (result !== 0) return dir === 'desc' ? -result : result;
  }
  return 0;
}

/** null first, numbers by value, everything else as text. */
function compareValues(left: unknown, right: unknown): number {
  if (left === null || right === null) return left === right ? 0 : left === null ? -1 : 1;
  if (typeof left === 'number' && typeof right === 'number') return left - right;
  return String(left) < String(right) ? -1 : String(left) > String(right) ? 1 : 0;
}

function encodeToken(key: unknown[], signature: string): string {
  return Buffer.from(JSON.stringify({k: key, o: signature})).toString('base64url');
}

function decodeToken(token: unknown, signature: string, length: number): unknown[] {
  try {
    const decoded = JSON.parse(Buffer.from(String(token), 'base64url').toString('utf8')) as {k?: unknown; o?: unknown};
    if (decoded.o === signature && Array.isArray(decoded.k) && decoded.k.length === length) return decoded.k;
  } catch {
    // falls through to the 400
  }
  throw new ListError('invalid_token', 'after_token is not a token this list gave out (or order_by changed): start again without it.');
}

function columnsOf(row: Row, columns: unknown): Row {
  if (!Array.isArray(columns) || columns.includes('*')) return row;
  return Object.fromEntries(columns.map(column => [String(column), row[String(column)] ?? null]));
}
