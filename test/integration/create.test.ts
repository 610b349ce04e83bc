// The create action against the simulated cloud: rents the best offer still there, falls through
// taken offers (skipping their machines), records every attempt in the ledger first, registers the
// SSH key on the account once and attaches it, and stops at refusals that no other offer would fix.
import {readFileSync} from 'node:fs';
import {dirname, join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {InputError, VastRefusedError, VastdeckError} from '../../source/core/errors.js';
import {createFromRanking, type CreateDeps, type CreateEvent} from '../../source/core/instances/create.js';
import {Ledger, ledgerPath} from '../../source/core/ledger/ledger.js';
import {reconcile} from '../../source/core/ledger/reconcile.js';
import {DEFAULT_SETTINGS} from '../../source/core/settings.js';
import {createVastdeckKey, keyBody, type SshIdentity} from '../../source/core/ssh/keys.js';
import {VastClient} from '../../source/core/vast/client.js';
import {listInstances} from '../../source/core/vast/instances-api.js';
import type {Offer} from '../../source/core/vast/types.js';
import {startSimCloud, type SimCloud} from '../../source/sim/cloud.js';

let sim: SimCloud;
let identity: SshIdentity;
let offers: Offer[];
const ledgerPaths: string[] = [];

beforeAll(async () => {
  sim = await startSimCloud({port: 0, rateLimitScale: 0, speed: 300, churnIntervalMs: 0});
  identity = await createVastdeckKey();
  offers = await newClient().searchOffers({rentable: {eq: true}, num_gpus: {eq: 1}, order: [['dph_total', 'asc']], limit: 400});
});

afterAll(async () => {
  await sim.close();
  for (const path of ledgerPaths) expect(readFileSync(path, 'utf8')).not.toContain(sim.apiKey);
});

function newClient(maxAttempts = 6): VastClient {
  return new VastClient({baseUrl: sim.baseUrl, apiKey: sim.apiKey, pacingScale: 0, maxAttempts, backoff: {baseMs: 5, capMs: 20}});
}

/** A fresh ledger, the client and an event log for one test. */
function setup(client = newClient()): {deps: CreateDeps; ledger: Ledger; events: CreateEvent[]} {
  const path = join(dirname(ledgerPath()), `create-${ledgerPaths.length}`, 'ledger.json');
  ledgerPaths.push(path);
  const ledger = Ledger.open({path});
  const events: CreateEvent[] = [];
  const deps: CreateDeps = {client, ledger, settings: DEFAULT_SETTINGS, apiOrigin: sim.baseUrl, identity, provisioning: {}, env: {}, onEvent: event => events.push(event)};
  return {deps, ledger, events};
}

/** `count` unused offers on distinct machines, best first. */
function takeOffers(count: number): Offer[] {
  const picked: Offer[] = [];
  while (picked.length < count) {
    const offer = offers.shift();
    if (!offer) throw new Error('the test ran out of offers');
    if (!picked.some(other => other.machineId === offer.machineId)) picked.push(offer);
  }
  return picked;
}

function createCalls(): string[] {
  return sim.requests.filter(entry => entry.method === 'PUT' && entry.path.startsWith('/api/v0/asks/')).map(entry => entry.path);
}

function accountCopies(): number {
  return sim.instances.accountSshKeys().filter(key => keyBody(key.public_key) === keyBody(identity.publicKey)).length;
}

describe('createFromRanking', () => {
  it('rents the best offer, labelled and in the ledger, with the SSH key on the account and the instance', async () => {
    const {deps, ledger, events} = setup();
    const [best, second] = takeOffers(2);
    const result = await createFromRanking(deps, [best!, second!]);
    expect(result.offer.id).toBe(best!.id);
    expect(result.webPassword).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(result.ledgerEntry).toMatchObject({state: 'active', instanceId: result.instanceId, offerId: best!.id, machineId: best!.machineId, webPassword: result.webPassword});
    expect(ledger.find(result.ledgerEntry.localId)?.state).toBe('active');
    const listed = (await listInstances(deps.client)).find(instance => instance.id === result.instanceId);
    expect(listed?.label).toBe(result.ledgerEntry.label);
    expect(listed?.label).toMatch(/^vastdeck:[0-9a-f]{8}$/);
    expect(events.map(event => event.kind)).toEqual(['trying', 'created']);
    expect(accountCopies()).toBe(1);
    const onInstance = sim.instances.instanceSshKeys(result.instanceId)!.map(key => keyBody(key.public_key));
    expect(onInstance).toContain(keyBody(identity.publicKey));
  });

  it('registers the account key only once across creates', async () => {
    const {deps} = setup();
    await createFromRanking(deps, takeOffers(1));
    await createFromRanking(deps, takeOffers(1));
    expect(accountCopies()).toBe(1);
  });

  it('falls through to the next offer when the first is taken', async () => {
    const {deps, ledger, events} = setup();
    const [taken, next] = takeOffers(2);
    sim.market.take(taken!.id);
    const result = await createFromRanking(deps, [taken!, next!]);
    expect(result.offer.id).toBe(next!.id);
    expect(events.map(event => [event.kind, event.offerId])).toEqual([
      ['trying', taken!.id],
      ['offer-taken', taken!.id],
      ['trying', next!.id],
      ['created', next!.id],
    ]);
    const failed = ledger.all().find(entry => entry.offerId === taken!.id);
    expect(failed).toMatchObject({state: 'create-failed'});
    expect(failed).not.toHaveProperty('webPassword');
    expect(failed!.events.at(-1)?.what).toBe('create failed: offer taken');
  });

  it('skips other offers on a machine where one was taken', async () => {
    const {deps} = setup();
    const [taken, other] = takeOffers(2);
    const sameMachine: Offer = {...other!, id: other!.id + 9_000_000, machineId: taken!.machineId};
    sim.market.take(taken!.id);
    const before = createCalls().length;
    const result = await createFromRanking(deps, [taken!, sameMachine, other!]);
    expect(result.offer.id).toBe(other!.id);
    expect(createCalls().slice(before)).toEqual([`/api/v0/asks/${taken!.id}/`, `/api/v0/asks/${other!.id}/`]);
  });

  it('stops after maxAttempts taken offers with one sentence', async () => {
    const {deps} = setup();
    const candidates = takeOffers(3);
    for (const offer of candidates) sim.market.take(offer.id);
    const failure = await createFromRanking(deps, candidates, {maxAttempts: 2}).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(VastdeckError);
    expect((failure as VastdeckError).code).toBe('offer-gone');
    expect((failure as Error).message).toBe('Every offer vastdeck tried (2) was taken before it could be rented: refresh the offer list and try again.');
  });

  it('stops at a refusal for money with a sentence and a create-failed ledger entry', async () => {
    const {deps, ledger} = setup();
    const candidates = takeOffers(2);
    const balance = sim.account.balance;
    sim.account.balance = 0;
    const before = createCalls().length;
    try {
      const failure = await createFromRanking(deps, candidates).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(VastRefusedError);
      expect((failure as Error).message).toMatch(/too little credit: add credit at https:\/\/cloud\.vast\.ai\/billing\//);
    } finally {
      sim.account.balance = balance;
    }
    expect(createCalls().length - before).toBe(1);
    expect(ledger.all()).toHaveLength(1);
    expect(ledger.all()[0]).toMatchObject({state: 'create-failed', offerId: candidates[0]!.id});
  });

  it('keeps a create whose answer was lost as creating, and says it may exist', async () => {
    const {deps, ledger} = setup();
    sim.faults.queue('502', 1, '/api/v0/asks/');
    const failure = await createFromRanking(deps, takeOffers(2)).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(VastdeckError);
    expect((failure as Error).message).toMatch(/^The create on offer \d+ may have gone through, but its answer was lost: vastdeck finds it by its label vastdeck:[0-9a-f]{8} /);
    const [entry] = ledger.all();
    expect(entry).toMatchObject({state: 'creating'});
    expect(reconcile(ledger, sim.baseUrl, await listInstances(deps.client)).unresolved.map(unresolved => unresolved.localId)).toEqual([entry!.localId]);
  });

  it('reports a failed key attach as a warning, not a failed create', async () => {
    const {deps, ledger, events} = setup(newClient(2));
    sim.faults.queue('500', 2, '/api/v0/instances/');
    const result = await createFromRanking(deps, takeOffers(1));
    expect(events.map(event => event.kind).slice(-2)).toEqual(['created', 'key-attach-failed']);
    expect(events.at(-1)!.message).toMatch(new RegExp(`^Instance ${result.instanceId} was created but attaching your SSH key failed`));
    expect(ledger.find(result.ledgerEntry.localId)).toMatchObject({state: 'active', instanceId: result.instanceId});
    expect(result.ledgerEntry.events.at(-1)?.what).toMatch(/^ssh key attach failed: /);
  });

  it('refuses an OnStart job that would not fit next to the shipped provisioning bundle, before any API call', async () => {
    const ledger = Ledger.open({path: join(dirname(ledgerPath()), 'create-refused', 'ledger.json')});
    const deps: CreateDeps = {client: newClient(), ledger, settings: DEFAULT_SETTINGS, apiOrigin: sim.baseUrl, identity, provisioning: {}, env: {}};
    const chunks = (prefix: string, count: number): Record<string, string> => Object.fromEntries(Array.from({length: count}, (_, n) => [`${prefix}_${n}`, 'x'.repeat(200)]));
    const requestsBefore = sim.requests.length;
    const failure = await createFromRanking(
      {...deps, provisioning: {onstartPrefix: 'unpack', extraEnv: chunks('VASTDECK_BUNDLE_B64', 100)}, body: {onstart: 'run-job', extraEnv: chunks('VASTDECK_JOB', 60)}},
      takeOffers(1),
    ).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(InputError);
    expect((failure as Error).message).toMatch(/^The OnStart job and the shipped provisioning .* take 3\d{4} characters .*: host the provisioning script or manifest/);
    expect(sim.requests.length).toBe(requestsBefore);
  });
});
