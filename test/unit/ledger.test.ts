// The write-ahead ledger: on disk (0600 in 0700) before the create call leaves, every change
// persisted before it returns, corrupt files kept aside with a warning, old finished entries pruned.
import {createServer, type IncomingMessage, type ServerResponse} from 'node:http';
import type {AddressInfo} from 'node:net';
import {readdirSync, readFileSync, statSync, writeFileSync, mkdirSync} from 'node:fs';
import {dirname, join} from 'node:path';
import {afterEach, describe, expect, it} from 'vitest';
import {VastdeckError} from '../../source/core/errors.js';
import {createFromRanking} from '../../source/core/instances/create.js';
import type {LedgerInstance} from '../../source/core/instances/types.js';
import {Ledger, ledgerPath, type LedgerIntent} from '../../source/core/ledger/ledger.js';
import {DEFAULT_SETTINGS} from '../../source/core/settings.js';
import {VastClient} from '../../source/core/vast/client.js';
import {makeOffer} from '../helpers/offer-fixture.js';

const ORIGIN = 'http://127.0.0.1:4100';
const DAY_MS = 24 * 60 * 60 * 1000;
const KEY_BODY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBTM6Q/yWO/Wc0q+J8TmtLwkyDYzInbciykwvUxVpjhy';
let testCount = 0;

/** A fresh ledger path per test, under the sandboxed XDG_STATE_HOME. */
function freshPath(): string {
  return join(dirname(ledgerPath()), `case-${++testCount}`, 'ledger.json');
}

function intent(offerId: number): LedgerIntent {
  return {apiOrigin: ORIGIN, offerId, machineId: offerId * 10, gpuName: 'RTX 4090', numGpus: 1, dphTotal: 0.4, webPassword: `pw-${offerId}`};
}

function onDisk(path: string): LedgerInstance[] {
  return (JSON.parse(readFileSync(path, 'utf8')) as {instances: LedgerInstance[]}).instances;
}

function writeRaw(path: string, data: unknown): void {
  mkdirSync(dirname(path), {recursive: true, mode: 0o700});
  writeFileSync(path, typeof data === 'string' ? data : JSON.stringify(data), {mode: 0o600});
}

describe('Ledger', () => {
  it('lives in $XDG_STATE_HOME/vastdeck, 0600 in a 0700 directory', () => {
    const ledger = Ledger.open();
    expect(ledger.path).toBe(join(process.env.XDG_STATE_HOME!, 'vastdeck', 'ledger.json'));
    ledger.begin(intent(1));
    expect(statSync(ledger.path).mode & 0o777).toBe(0o600);
    expect(statSync(dirname(ledger.path)).mode & 0o777).toBe(0o700);
  });

  it('persists every change before returning', () => {
    const path = freshPath();
    const ledger = Ledger.open({path});
    const entry = ledger.begin(intent(1));
    expect(entry).toMatchObject({state: 'creating', label: `vastdeck:${entry.localId}`, offerId: 1, webPassword: 'pw-1'});
    expect(onDisk(path)).toEqual([entry]);
    ledger.markCreated(entry.localId, 77);
    expect(onDisk(path)[0]).toMatchObject({state: 'active', instanceId: 77});
    ledger.markDestroying(entry.localId);
    expect(onDisk(path)[0]!.state).toBe('destroying');
    ledger.note(entry.localId, 'outputs saved');
    ledger.markDestroyed(entry.localId, 'destroyed and confirmed gone');
    const [saved] = onDisk(path);
    expect(saved!.state).toBe('destroyed');
    expect(saved!.events.map(event => event.what)).toEqual(['create requested on offer 1', 'created as instance 77', 'destroy requested', 'outputs saved', 'destroyed and confirmed gone']);
    expect(saved).not.toHaveProperty('webPassword');
    expect(Ledger.open({path}).findByInstanceId(ORIGIN, 77)?.localId).toBe(entry.localId);
  });

  it("sees another process's changes to the same file", () => {
    const path = freshPath();
    const first = Ledger.open({path});
    const second = Ledger.open({path});
    const a = first.begin(intent(1));
    const b = second.begin(intent(2));
    first.markCreated(a.localId, 11);
    expect(second.all().map(entry => entry.localId).sort()).toEqual([a.localId, b.localId].sort());
    expect(onDisk(path)).toHaveLength(2);
  });

  it('refuses a change to an entry it does not have, in one sentence', () => {
    const ledger = Ledger.open({path: freshPath()});
    expect(() => ledger.markGone('nope', 'x')).toThrow(VastdeckError);
    expect(() => ledger.markGone('nope', 'x')).toThrow(/no entry nope/);
  });

  it('moves a corrupt file aside with a warning instead of dropping it', () => {
    const path = freshPath();
    writeRaw(path, '{"instances": [ oops');
    const ledger = Ledger.open({path});
    expect(ledger.all()).toEqual([]);
    expect(ledger.warnings).toHaveLength(1);
    expect(ledger.warnings[0]).toMatch(/was not valid JSON, so it was kept as ledger\.json\.corrupt-/);
    const kept = readdirSync(dirname(path)).filter(name => name.startsWith('ledger.json.corrupt-'));
    expect(kept).toHaveLength(1);
    expect(readFileSync(join(dirname(path), kept[0]!), 'utf8')).toBe('{"instances": [ oops');
    ledger.begin(intent(1));
    expect(onDisk(path)).toHaveLength(1);
  });

  it('carries the readable entries over when only some are broken', () => {
    const path = freshPath();
    const good = {localId: 'aaaa0001', label: 'vastdeck:aaaa0001', apiOrigin: ORIGIN, state: 'active', instanceId: 5, createdAtMs: 1, updatedAtMs: 1, events: []};
    writeRaw(path, {version: 1, instances: [good, {localId: 'broken', state: 'flying'}]});
    const ledger = Ledger.open({path});
    expect(ledger.all().map(entry => entry.localId)).toEqual(['aaaa0001']);
    expect(ledger.warnings[0]).toMatch(/had 1 unreadable entry/);
    expect(onDisk(path).map(entry => entry.localId)).toEqual(['aaaa0001']);
  });

  it('prunes finished entries older than 30 days, never live ones', () => {
    const path = freshPath();
    const old = Date.now() - 31 * DAY_MS;
    const entry = (localId: string, state: string, updatedAtMs: number): object => ({localId, label: `vastdeck:${localId}`, apiOrigin: ORIGIN, state, createdAtMs: old, updatedAtMs, events: []});
    writeRaw(path, {
      version: 1,
      instances: [
        entry('old-gone', 'gone', old),
        entry('old-destroyed', 'destroyed', old),
        entry('old-failed', 'create-failed', old),
        entry('old-active', 'active', old),
        entry('recent-gone', 'gone', Date.now() - DAY_MS),
      ],
    });
    const ledger = Ledger.open({path});
    ledger.begin(intent(1));
    expect(onDisk(path).map(saved => saved.localId).filter(id => !/^[0-9a-f]{8}$/.test(id))).toEqual(['old-active', 'recent-gone']);
  });
});

describe('write-ahead ordering', () => {
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await close?.();
    close = undefined;
  });

  it("has the 'creating' entry on disk while the create call is still waiting for its answer", async () => {
    let release!: () => void;
    const released = new Promise<void>(resolve => (release = resolve));
    let sawCreate!: (ledgerText: string) => void;
    const createArrived = new Promise<string>(resolve => (sawCreate = resolve));
    const path = freshPath();
    const seen: string[] = [];
    const server = createServer((request: IncomingMessage, response: ServerResponse) => {
      const reply = (body: unknown): void => {
        response.writeHead(200, {'content-type': 'application/json'});
        response.end(JSON.stringify(body));
      };
      request.resume();
      seen.push(`${request.method} ${request.url}`);
      // The CLI test mock's shape, with the same key under another comment: already registered.
      if (request.method === 'GET' && request.url === '/api/v0/ssh/') return reply({ssh_keys: [{id: 3, ssh_key: `${KEY_BODY} laptop`}]});
      if (request.method === 'PUT' && request.url?.startsWith('/api/v0/asks/')) {
        sawCreate(readFileSync(path, 'utf8'));
        void released.then(() => reply({success: true, new_contract: 9001, instance_api_key: 'instance-secret'}));
        return;
      }
      if (request.method === 'POST' && request.url === '/api/v0/instances/9001/ssh/') return reply({success: true});
      response.writeHead(404).end();
    });
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
    close = () => new Promise(resolve => server.close(() => resolve()));
    const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const ledger = Ledger.open({path});
    const client = new VastClient({baseUrl, apiKey: 'k'.repeat(64), pacingScale: 0});
    const identity = {source: 'file' as const, publicKey: `${KEY_BODY} test`};
    const creating = createFromRanking({client, ledger, settings: DEFAULT_SETTINGS, apiOrigin: baseUrl, identity, provisioning: {}}, [makeOffer({id: 31})]);

    const duringCall = JSON.parse(await createArrived) as {instances: LedgerInstance[]};
    expect(duringCall.instances).toHaveLength(1);
    expect(duringCall.instances[0]).toMatchObject({state: 'creating', offerId: 31, apiOrigin: baseUrl});
    expect(duringCall.instances[0]).not.toHaveProperty('instanceId');

    release();
    const created = await creating;
    expect(created.instanceId).toBe(9001);
    expect(onDisk(path)[0]).toMatchObject({state: 'active', instanceId: 9001});
    expect(readFileSync(path, 'utf8')).not.toContain('instance-secret');
    expect(seen).toEqual(['GET /api/v0/ssh/', 'PUT /api/v0/asks/31/', 'POST /api/v0/instances/9001/ssh/']);
  });
});
