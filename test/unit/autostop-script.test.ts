// Runs provisioning/autostop.py with python3 in a sandbox (its files under a temp folder, a loopback
// stand-in for the Vast API that records every call, a loopback /queue for ComfyUI), one check at a
// time (--once) at a given instant (VASTDECK_AUTOSTOP_NOW), so every decision is checked without
// waiting: idle after the last heartbeat, busy ComfyUI or provisioning, stop instead of destroy while
// outputs were never fetched, retries after an API failure, maxHours, and "off" without a key. Also:
// its lines follow the log contract, the key travels only in the Authorization header, and the
// onstart line that starts it is shellcheck-clean.
import {spawn, spawnSync} from 'node:child_process';
import {createHash} from 'node:crypto';
import {once} from 'node:events';
import {mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {createServer, type Server} from 'node:http';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, beforeAll, beforeEach, describe, expect, it} from 'vitest';
import {LOG_CONTRACT_PATH} from '../../source/core/instances/log-contract.js';
import {AUTOSTOP_LAUNCH, AUTOSTOP_SCRIPT_PATH, autostopEnv} from '../../source/core/provisioning/autostop.js';
import {provisioningDelivery} from '../../source/core/provisioning/delivery.js';
import {DEFAULT_SETTINGS} from '../../source/core/settings.js';
import {listenLoopback} from '../helpers/loopback.js';

const KINDS = (JSON.parse(readFileSync(LOG_CONTRACT_PATH, 'utf8')) as {autostop: {kinds: Record<string, {template: string; regex: string}>}}).autostop.kinds;
const KEY = 'scoped-key-0123456789abcdef0123456789abcdef0123456789abcdef012345';
const T0 = 1_800_000_000;
const MIN = 60;
const sandbox = mkdtempSync(join(tmpdir(), 'vastdeck-autostop-'));
const servers: Server[] = [];
let apiBase = '';
let comfyBase = '';
let calls: Array<{method: string; path: string; auth: string | undefined; body: string}> = [];
let apiStatus = 200;
let queue: {queue_running: unknown[]; queue_pending: unknown[]} = {queue_running: [], queue_pending: []};
let dir = '';
let runs = 0;

function listen(server: Server): Promise<string> {
  servers.push(server);
  return listenLoopback(server);
}

beforeAll(async () => {
  apiBase = await listen(
    createServer((req, res) => {
      let body = '';
      req.on('data', chunk => (body += String(chunk)));
      req.on('end', () => {
        calls.push({method: req.method ?? '', path: req.url ?? '', auth: req.headers.authorization, body});
        res.writeHead(apiStatus, {'content-type': 'application/json'}).end(apiStatus === 200 ? '{"success": true}' : '{"success": false, "error": "server_error"}');
      });
    }),
  );
  comfyBase = await listen(createServer((_req, res) => res.writeHead(200, {'content-type': 'application/json'}).end(JSON.stringify(queue))));
});

afterAll(() => {
  for (const server of servers) server.close();
  rmSync(sandbox, {recursive: true, force: true});
});

beforeEach(() => {
  dir = join(sandbox, `run-${++runs}`);
  mkdirSync(join(dir, 'output'), {recursive: true});
  calls = [];
  apiStatus = 200;
  queue = {queue_running: [], queue_pending: []};
});

/** One check at T0 + `atSec` against the sandbox's saved state. */
async function check(atSec: number, env: Record<string, string> = {}): Promise<{code: number | null; output: string}> {
  const child = spawn('python3', [AUTOSTOP_SCRIPT_PATH, '--once'], {
    env: {
      PATH: process.env.PATH,
      CONTAINER_API_KEY: KEY,
      CONTAINER_ID: '26001234',
      ...autostopEnv({...DEFAULT_SETTINGS.autostop, idleMinutes: 30}, apiBase),
      VASTDECK_FOLDER: dir,
      VASTDECK_AUTOSTOP_LOG: join(dir, 'log', 'vastdeck-autostop.log'),
      VASTDECK_OUTPUT_DIRS: `${join(dir, 'output')}:${join(dir, 'outputs')}`,
      VASTDECK_PROVISIONING_MARKER: join(dir, '.provisioning'),
      VASTDECK_COMFY_URL: comfyBase,
      VASTDECK_AUTOSTOP_NOW: String(T0 + atSec),
      ...env,
    },
  });
  let output = '';
  child.stdout.on('data', chunk => (output += String(chunk)));
  child.stderr.on('data', chunk => (output += String(chunk)));
  const [code] = (await once(child, 'exit')) as [number | null];
  return {code, output};
}

function log(): string[] {
  try {
    return readFileSync(join(dir, 'log', 'vastdeck-autostop.log'), 'utf8').trim().split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

/** The contract kind of every line (each must match exactly one). */
function kindsOf(lines: string[]): string[] {
  return lines.map(line => {
    const kinds = Object.entries(KINDS).filter(([, spec]) => new RegExp(spec.regex).test(line)).map(([kind]) => kind);
    expect(kinds, line).toHaveLength(1);
    return kinds[0]!;
  });
}

const heartbeat = (atSec: number): void => writeFileSync(join(dir, 'heartbeat'), `${T0 + atSec}\n`);
const destroyCall = {method: 'DELETE', path: '/api/v0/instances/26001234/', auth: `Bearer ${KEY}`, body: ''};
const stopCall = {method: 'PUT', path: '/api/v0/instances/26001234/', auth: `Bearer ${KEY}`, body: '{"state": "stopped"}'};

describe('provisioning/autostop.py', () => {
  it('prints exactly the templates of the log contract', () => {
    const script = readFileSync(AUTOSTOP_SCRIPT_PATH, 'utf8');
    const table = Object.fromEntries([...script.matchAll(/^\s+"(autostop-[a-z]+)": "(.*)",$/gm)].map(match => [match[1], match[2]!.replace(/\\\\/g, '\\')]));
    expect(table).toEqual(Object.fromEntries(Object.entries(KINDS).map(([kind, spec]) => [kind, spec.template])));
  });

  it('waits idleMinutes after the last heartbeat, then destroys its instance with the scoped key in the Authorization header only', async () => {
    expect((await check(0)).code).toBe(0);
    expect((await check(29 * MIN)).code).toBe(0);
    heartbeat(20 * MIN);
    await check(45 * MIN);
    expect(calls).toEqual([]);
    await check(51 * MIN);
    expect(calls).toEqual([destroyCall]);
    expect(kindsOf(log())).toEqual(['autostop-start', 'autostop-act']);
    expect(log()[1]).toBe(`[vastdeck] autostop destroy at=2027-01-15T08:51:00Z reason=no heartbeat from vastdeck and no ComfyUI job for 31 min`);
    expect(JSON.stringify(log())).not.toContain(KEY);
  });

  it('a ComfyUI job (running or waiting) or provisioning in progress counts as activity', async () => {
    await check(0);
    queue = {queue_running: [[0, 'p1']], queue_pending: []};
    await check(40 * MIN);
    queue = {queue_running: [], queue_pending: [[1, 'p2']]};
    await check(60 * MIN);
    queue = {queue_running: [], queue_pending: []};
    writeFileSync(join(dir, '.provisioning'), '');
    await check(80 * MIN);
    rmSync(join(dir, '.provisioning'));
    await check(109 * MIN);
    expect(calls).toEqual([]);
    await check(111 * MIN);
    expect(calls).toEqual([destroyCall]);
  });

  it('stops instead of destroying while an output was never fetched, and says so; with its hash on the list it destroys', async () => {
    writeFileSync(join(dir, 'output', 'fox_00001_.png'), 'png bytes');
    mkdirSync(join(dir, 'outputs', 'job-1'), {recursive: true});
    writeFileSync(join(dir, 'outputs', 'job-1', 'fox_00001_.png'), 'png bytes');
    writeFileSync(join(dir, 'output', '.hidden-temp'), 'not an output');
    await check(0);
    await check(31 * MIN);
    expect(calls).toEqual([stopCall]);
    expect(log().at(-1)).toMatch(/reason=no heartbeat from vastdeck and no ComfyUI job for 31 min; 2 outputs on the instance were never fetched by vastdeck, so it is stopped instead of destroyed \(its disk keeps billing storage until you destroy it\)$/);

    rmSync(join(dir, 'autostop-state.json'));
    calls = [];
    const sha256 = createHash('sha256').update('png bytes').digest('hex');
    writeFileSync(join(dir, 'fetched'), `${sha256}  fox_00001_.png\n`);
    await check(40 * MIN);
    await check(71 * MIN);
    expect(calls).toEqual([destroyCall]);
  });

  it('action stop stops, and says the disk keeps billing', async () => {
    await check(0, {VASTDECK_AUTOSTOP_ACTION: 'stop'});
    await check(31 * MIN, {VASTDECK_AUTOSTOP_ACTION: 'stop'});
    expect(calls).toEqual([stopCall]);
    expect(log().at(-1)).toMatch(/; autostop\.action is stop, so the disk keeps billing storage until you destroy it$/);
  });

  it('an API failure is logged once and retried at the next check', async () => {
    await check(0);
    apiStatus = 503;
    await check(31 * MIN);
    await check(32 * MIN);
    apiStatus = 200;
    await check(33 * MIN);
    expect(calls.map(call => call.method)).toEqual(['DELETE', 'DELETE', 'DELETE']);
    expect(kindsOf(log())).toEqual(['autostop-start', 'autostop-act', 'autostop-failed']);
    expect(log()[2]).toBe(`[vastdeck] autostop failed action=destroy reason=HTTP 503 from ${apiBase}, trying again at the next check`);
  });

  it('maxHours ends it even while vastdeck beats and ComfyUI works', async () => {
    const env = {VASTDECK_AUTOSTOP_MAX_HOURS: '2'};
    await check(0, env);
    queue = {queue_running: [[0, 'p1']], queue_pending: []};
    heartbeat(119 * MIN);
    await check(119 * MIN, env);
    expect(calls).toEqual([]);
    await check(120 * MIN, env);
    expect(calls).toEqual([destroyCall]);
    expect(log().at(-1)).toMatch(/reason=the instance ran for its maximum of 2 h \(autostop\.maxHours\)$/);
  });

  it('without a scoped key, an instance id or an API address it says why in one line and does nothing', async () => {
    for (const env of [{CONTAINER_API_KEY: ''}, {CONTAINER_ID: 'C.1'}, {VASTDECK_AUTOSTOP_API: ''}] as Array<Record<string, string>>) {
      expect((await check(0, env)).code).toBe(0);
    }
    expect(kindsOf(log())).toEqual(['autostop-off', 'autostop-off', 'autostop-off']);
    expect(log()[0]).toBe('[vastdeck] autostop off reason=CONTAINER_API_KEY is not set, so the instance cannot stop itself');
    expect(calls).toEqual([]);
  });

  it('the onstart that starts it is shellcheck-clean and carries no secret; the bundle ships the script', async () => {
    const delivery = await provisioningDelivery(DEFAULT_SETTINGS, {apiBase: 'https://console.vast.ai'});
    expect(delivery.onstart).toContain(AUTOSTOP_LAUNCH);
    expect(delivery.onstart).toMatch(/; entrypoint\.sh$/);
    expect(delivery.extraEnv).toMatchObject({VASTDECK_AUTOSTOP_IDLE_MIN: '30', VASTDECK_AUTOSTOP_MAX_HOURS: '0', VASTDECK_AUTOSTOP_ACTION: 'destroy', VASTDECK_AUTOSTOP_API: 'https://console.vast.ai'});
    expect(await provisioningDelivery({...DEFAULT_SETTINGS, autostop: {...DEFAULT_SETTINGS.autostop, enabled: false}}, {apiBase: 'https://console.vast.ai'})).toEqual({});
    const result = spawnSync('shellcheck', ['-s', 'bash', '-'], {input: `#!/bin/bash\n${delivery.onstart}\n`, encoding: 'utf8'});
    if (result.error) throw new Error(`shellcheck is not installed (${result.error.message}); install it (apt-get install shellcheck)`);
    expect(result.stdout + result.stderr).toBe('');
    expect(result.status).toBe(0);
  });
});
