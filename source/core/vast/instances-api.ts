// The Vast.ai instance and SSH-key endpoints (docs/vast-api.md §3-§6.2) as plain functions over
// VastClient: create, list, get, destroy, label, account keys, per-instance keys. Every answer is
// parsed here into our own types; create errors become OfferGoneError or one clear sentence.
import {OfferGoneError, VastBadAnswerError, VastRefusedError} from '../errors.js';
import type {Instance, PortMapping} from '../instances/types.js';
import {parseAutostopEnv} from '../provisioning/autostop.js';
import type {VastClient} from './client.js';
import {isRecord, numberField} from './parse.js';

export interface CreatedInstance {
  instanceId: number;
  /** The per-instance key Vast injects as CONTAINER_API_KEY; a secret, never stored or printed. */
  instanceApiKey?: string;
}

export interface AccountSshKey {
  id: number;
  /** One OpenSSH line, e.g. 'ssh-ed25519 AAAA... me@host'. */
  publicKey: string;
}

/**
 * PUT /api/v0/asks/{offerId}/. Never retried once it may have reached the server (idempotent:
 * false), so a lost answer surfaces as VastUnreachableError and the caller reconciles by label.
 */
export async function createInstance(client: VastClient, offerId: number, body: Record<string, unknown>): Promise<CreatedInstance> {
  try {
    return await client.request('PUT', `/api/v0/asks/${offerId}/`, {json: body, idempotent: false, parse: parseCreateAnswer});
  } catch (error) {
    throw createError(error, offerId);
  }
}

/** Pages of the v1 list are at most this long; more pages are followed with `after_token`. */
const V1_PAGE = 25;
/** A guard against a server that keeps handing out tokens: 40 pages is 1,000 instances. */
const MAX_PAGES = 40;

/**
 * GET /api/v1/instances/: the whole fleet, with Docker-style ports, page by page (at most 25 rows
 * each, ordered by id, following `next_token`). The v0 list (`/api/v0/instances/?owner=me`) is
 * retired: Vast answers it 410 `deprecated_endpoint` on a growing number of accounts, and a client
 * that reads that as "no instances" loses track of instances that bill. An entry without an id
 * cannot be matched or destroyed, so it is left out rather than failing the list.
 */
export async function listInstances(client: VastClient): Promise<Instance[]> {
  const rows: Instance[] = [];
  let after: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const answer = await client.request('GET', '/api/v1/instances/', {
      searchParams: {select_filters: '{}', order_by: JSON.stringify([{col: 'id', dir: 'asc'}]), limit: String(V1_PAGE), ...(after ? {after_token: after} : {})},
      parse: body => {
        if (!isRecord(body) || !Array.isArray(body.instances)) throw new VastBadAnswerError('GET /api/v1/instances/', 'no "instances" list');
        const next = typeof body.next_token === 'string' && body.next_token !== '' ? body.next_token : undefined;
        const instances = body.instances.flatMap((raw: unknown) => {
          try {
            return [parseInstance(raw)];
          } catch {
            return [];
          }
        });
        return {instances, next};
      },
    });
    rows.push(...answer.instances);
    if (!answer.next || answer.next === after) return rows;
    after = answer.next;
  }
  throw new VastBadAnswerError('GET /api/v1/instances/', `more than ${MAX_PAGES} pages of instances`);
}

/**
 * GET /api/v0/instances/{id}/: an object or a one-element list (both are seen live); null, an
 * empty list or a 404 mean the instance does not exist (any more). This endpoint may lack ports.
 */
export async function getInstance(client: VastClient, id: number): Promise<Instance | undefined> {
  try {
    return await client.request('GET', `/api/v0/instances/${id}/`, {
      searchParams: {owner: 'me'},
      parse: body => {
        if (!isRecord(body) || !('instances' in body)) throw new VastBadAnswerError(`GET /api/v0/instances/${id}/`, 'no "instances" field');
        const found: unknown = Array.isArray(body.instances) ? body.instances[0] : body.instances;
        return found === null || found === undefined ? undefined : parseInstance(found);
      },
    });
  } catch (error) {
    if (error instanceof VastRefusedError && error.status === 404) return undefined;
    throw error;
  }
}

/** DELETE /api/v0/instances/{id}/; a 404 means it was already destroyed (safe to repeat). */
export async function destroyInstance(client: VastClient, id: number): Promise<'destroyed' | 'already-gone'> {
  try {
    await client.request('DELETE', `/api/v0/instances/${id}/`, {json: {}, parse: () => undefined});
    return 'destroyed';
  } catch (error) {
    if (error instanceof VastRefusedError && error.status === 404) return 'already-gone';
    throw error;
  }
}

/** PUT /api/v0/instances/{id}/ with {label}. */
export async function setInstanceLabel(client: VastClient, id: number, label: string): Promise<void> {
  await client.request('PUT', `/api/v0/instances/${id}/`, {json: {label}, parse: () => undefined});
}

/** GET /api/v0/ssh/: an array of {id, key} or {"ssh_keys": [{id, ssh_key}]}; both are documented. */
export function listAccountSshKeys(client: VastClient): Promise<AccountSshKey[]> {
  return client.request('GET', '/api/v0/ssh/', {
    parse: body => {
      const list: unknown = isRecord(body) ? body.ssh_keys : body;
      if (!Array.isArray(list)) throw new VastBadAnswerError('GET /api/v0/ssh/', 'no list of keys');
      return list.flatMap(raw => {
        const key = parseAccountKey(raw);
        return key ? [key] : [];
      });
    },
  });
}

/** POST /api/v0/ssh/: adds a public key to the account (applied to instances created later). */
export async function addAccountSshKey(client: VastClient, publicKey: string): Promise<void> {
  await client.request('POST', '/api/v0/ssh/', {json: {ssh_key: publicKey}, parse: () => undefined});
}

/** POST /api/v0/instances/{id}/ssh/: lets this key in on an existing instance. */
export async function attachSshKeyToInstance(client: VastClient, instanceId: number, publicKey: string): Promise<void> {
  await client.request('POST', `/api/v0/instances/${instanceId}/ssh/`, {json: {ssh_key: publicKey}, parse: () => undefined});
}

/** One instance from any instance endpoint (docs/vast-api.md §4.2); throws when it has no id. */
export function parseInstance(raw: unknown): Instance {
  if (!isRecord(raw)) throw new Error('an instance is not an object');
  const id = numberField(raw, 'id');
  if (id === undefined || !Number.isInteger(id) || id <= 0) throw new Error('an instance has no valid id');
  const dphTotal = numberField(raw, 'dph_total') ?? 0;
  const dphBase = numberField(raw, 'dph_base');
  const publicIp = text(raw.public_ipaddr)?.trim() || null;
  return {
    id,
    machineId: numberField(raw, 'machine_id') ?? 0,
    label: text(raw.label),
    actualStatus: text(raw.actual_status),
    intendedStatus: text(raw.intended_status),
    curState: text(raw.cur_state),
    statusMsg: text(raw.status_msg),
    imageUuid: text(raw.image_uuid),
    imageRuntype: text(raw.image_runtype),
    gpuName: text(raw.gpu_name)?.trim() ?? '',
    numGpus: numberField(raw, 'num_gpus') ?? 1,
    dphTotal,
    storageCostPerHour: numberField(raw, 'storage_total_cost') ?? (dphBase === undefined ? 0 : Math.max(0, dphTotal - dphBase)),
    diskGb: numberField(raw, 'disk_space') ?? 0,
    inetDownMbps: numberField(raw, 'inet_down') ?? 0,
    inetDownCostPerGb: numberField(raw, 'inet_down_cost') ?? 0,
    geolocation: text(raw.geolocation)?.trim() ?? '',
    publicIp,
    ports: parsePorts(raw.ports),
    sshHost: text(raw.ssh_host)?.trim() || null,
    sshPort: numberField(raw, 'ssh_port') ?? null,
    jupyterToken: text(raw.jupyter_token) || null,
    startDateSec: numberField(raw, 'start_date') ?? null,
    uptimeMins: numberField(raw, 'uptime_mins') ?? null,
    inetUpCostPerGb: numberField(raw, 'inet_up_cost') ?? 0,
    computeCap: numberField(raw, 'compute_cap') ?? 0,
    autostop: parseAutostopEnv(envPairs(raw.extra_env)),
  };
}

/** extra_env as [name, value] pairs (the API sends a list of pairs; a dict is taken too). */
function envPairs(raw: unknown): Array<[string, string]> {
  const entries = Array.isArray(raw) ? raw : isRecord(raw) ? Object.entries(raw) : [];
  return entries.flatMap((entry: unknown): Array<[string, string]> => (Array.isArray(entry) && typeof entry[0] === 'string' && typeof entry[1] === 'string' ? [[entry[0], entry[1]]] : []));
}

function parseCreateAnswer(body: unknown): CreatedInstance {
  if (!isRecord(body)) throw new Error('not an object');
  const instanceId = numberField(body, 'new_contract');
  if (instanceId === undefined || !Number.isInteger(instanceId) || instanceId <= 0) throw new Error('no new_contract (instance id)');
  const instanceApiKey = text(body.instance_api_key);
  return instanceApiKey ? {instanceId, instanceApiKey} : {instanceId};
}

/** Docker-style {"8188/tcp": [{"HostIp", "HostPort": "41188"}]}; anything else (null, an int list) → {}. */
function parsePorts(raw: unknown): Record<string, PortMapping[]> {
  if (!isRecord(raw)) return {};
  const ports: Record<string, PortMapping[]> = {};
  for (const [name, mappings] of Object.entries(raw)) {
    if (!Array.isArray(mappings)) continue;
    const parsed = mappings.flatMap((mapping: unknown): PortMapping[] => {
      if (!isRecord(mapping)) return [];
      const hostPort = numberField(mapping, 'HostPort');
      if (hostPort === undefined || !Number.isInteger(hostPort) || hostPort <= 0 || hostPort > 65_535) return [];
      return [{hostIp: text(mapping.HostIp) ?? '', hostPort}];
    });
    if (parsed.length > 0) ports[name] = parsed;
  }
  return ports;
}

function parseAccountKey(raw: unknown): AccountSshKey | undefined {
  if (!isRecord(raw)) return undefined;
  const id = numberField(raw, 'id');
  const publicKey = [raw.key, raw.ssh_key, raw.public_key].find((value): value is string => typeof value === 'string' && value.trim() !== '');
  return id === undefined || publicKey === undefined ? undefined : {id, publicKey: publicKey.trim()};
}

/** Turns a refused create into what the caller acts on: a taken offer, no credit, or the server's reason. */
function createError(error: unknown, offerId: number): unknown {
  if (!(error instanceof VastRefusedError)) return error;
  const said = serverWords(error.message);
  const code = error.serverError ?? '';
  if ([404, 409, 410].includes(error.status) || /no_such_ask/i.test(`${code} ${said}`)) return new OfferGoneError(offerId, said);
  if (/insufficient|not enough (credit|balance|funds)|credit balance/i.test(`${code} ${said}`)) {
    return new VastRefusedError('Vast.ai refused the create because the account has too little credit: add credit at https://cloud.vast.ai/billing/ and try again.', error.status, error.serverError);
  }
  return new VastRefusedError(
    `Vast.ai refused the create: ${said} (fix the setting it names with \`vastdeck config set\`, or pick another offer).`,
    error.status,
    error.serverError,
  );
}

/** The server's own words inside VastClient's "Vast.ai refused X (HTTP n): words." sentence. */
function serverWords(message: string): string {
  return /\(HTTP \d+\): (.*?)\.?$/.exec(message)?.[1] ?? message;
}

function text(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}
