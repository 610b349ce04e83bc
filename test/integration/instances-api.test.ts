// The instance and SSH-key endpoints against the simulated cloud over loopback: create, list, get,
// label, destroy (then "already gone"), taken offers, refusals, account and per-instance keys.
import ssh2 from 'ssh2';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {OfferGoneError, VastRefusedError} from '../../source/core/errors.js';
import {buildCreateBody, newWebPassword} from '../../source/core/instances/create-body.js';
import {portalUrls, sshEndpoint} from '../../source/core/instances/endpoints.js';
import type {Instance} from '../../source/core/instances/types.js';
import {DEFAULT_SETTINGS} from '../../source/core/settings.js';
import {VastClient} from '../../source/core/vast/client.js';
import {
  addAccountSshKey,
  attachSshKeyToInstance,
  createInstance,
  destroyInstance,
  getInstance,
  listAccountSshKeys,
  listInstances,
  setInstanceLabel,
} from '../../source/core/vast/instances-api.js';
import type {Offer} from '../../source/core/vast/types.js';
import {startSimCloud, type SimCloud} from '../../source/sim/cloud.js';
import {usableKeyPair} from '../helpers/ssh-key.js';

let sim: SimCloud;
let client: VastClient;
let offers: Offer[];

beforeAll(async () => {
  sim = await startSimCloud({port: 0, rateLimitScale: 0, speed: 300, churnIntervalMs: 0});
  client = new VastClient({baseUrl: sim.baseUrl, apiKey: sim.apiKey, pacingScale: 0, backoff: {baseMs: 10, capMs: 50}});
  offers = await client.searchOffers({rentable: {eq: true}, num_gpus: {eq: 1}, inet_down: {gte: 300}, order: [['dph_total', 'asc']], limit: 40});
});

afterAll(async () => {
  await sim.close();
});

function nextOffer(): Offer {
  const offer = offers.shift();
  if (!offer) throw new Error('the test ran out of offers');
  return offer;
}

function body(offer: Offer, label: string): Record<string, unknown> {
  return buildCreateBody({offer, settings: DEFAULT_SETTINGS, label, webPassword: newWebPassword()});
}

async function waitFor(id: number, ready: (instance: Instance) => boolean): Promise<Instance> {
  for (let tries = 0; tries < 300; tries++) {
    const found = (await listInstances(client)).find(instance => instance.id === id);
    if (found && ready(found)) return found;
    await new Promise(resolve => setTimeout(resolve, 50));
  }
  throw new Error(`instance ${id} never got ready`);
}

describe('instances API against the simulator', () => {
  it('creates an instance that shows in the list with our label, and reads it by id', async () => {
    const offer = nextOffer();
    const created = await createInstance(client, offer.id, body(offer, 'vastdeck:api-1'));
    expect(created.instanceId).toBeGreaterThan(0);
    expect(created.instanceApiKey).toMatch(/^[0-9a-f]{64}$/);
    const listed = (await listInstances(client)).find(instance => instance.id === created.instanceId);
    expect(listed).toMatchObject({label: 'vastdeck:api-1', machineId: offer.machineId, gpuName: offer.gpuName});
    expect((await getInstance(client, created.instanceId))?.label).toBe('vastdeck:api-1');
    expect(await getInstance(client, 1)).toBeUndefined();
  });

  it('reads a running instance: trimmed IP, numeric ports, direct SSH and portal URLs', async () => {
    const offer = nextOffer();
    const {instanceId} = await createInstance(client, offer.id, body(offer, 'vastdeck:api-2'));
    const running = await waitFor(instanceId, instance => instance.actualStatus === 'running' && instance.ports['8188/tcp'] !== undefined);
    expect(running.publicIp).toBe('127.0.0.1');
    expect(running.jupyterToken).toMatch(/^[0-9a-f]{64}$/);
    expect(running.imageRuntype).toContain('jupyter');
    const ssh = sshEndpoint(running);
    expect(ssh).toMatchObject({host: '127.0.0.1', via: 'direct'});
    expect(ssh!.port).toBe(running.ports['22/tcp']![0]!.hostPort);
    const urls = portalUrls(running);
    expect(urls.comfyui).toBe(`http://127.0.0.1:${running.ports['8188/tcp']![0]!.hostPort}`);
    expect(urls.instancePortal).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    // Without the 22/tcp mapping: Vast's proxy, a port of its own, at ssh_port + 1 for a jupyter runtype.
    const proxy = sshEndpoint({...running, ports: {}});
    expect(proxy).toEqual({host: '127.0.0.1', port: running.sshPort! + 1, via: 'proxy'});
    expect(proxy!.port).not.toBe(ssh!.port);
  });

  it('relabels an instance', async () => {
    const offer = nextOffer();
    const {instanceId} = await createInstance(client, offer.id, body(offer, 'vastdeck:api-3'));
    await setInstanceLabel(client, instanceId, 'vastdeck:renamed');
    expect((await getInstance(client, instanceId))?.label).toBe('vastdeck:renamed');
  });

  it('destroys an instance, then reports it as already gone', async () => {
    const offer = nextOffer();
    const {instanceId} = await createInstance(client, offer.id, body(offer, 'vastdeck:api-4'));
    expect(await destroyInstance(client, instanceId)).toBe('destroyed');
    expect(await destroyInstance(client, instanceId)).toBe('already-gone');
    expect(await getInstance(client, instanceId)).toBeUndefined();
    expect((await listInstances(client)).some(instance => instance.id === instanceId)).toBe(false);
  });

  it('turns a taken offer into OfferGoneError', async () => {
    const offer = nextOffer();
    sim.market.take(offer.id);
    const failure = await createInstance(client, offer.id, body(offer, 'vastdeck:api-5')).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(OfferGoneError);
    expect((failure as OfferGoneError).offerId).toBe(offer.id);
  });

  it("gives Vast's reason when it refuses the body", async () => {
    const offer = nextOffer();
    const failure = await createInstance(client, offer.id, {...body(offer, 'vastdeck:api-6'), disk: 4}).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(VastRefusedError);
    expect((failure as VastRefusedError).status).toBe(400);
    expect((failure as Error).message).toMatch(/^Vast\.ai refused the create: .*'disk' must be a number of GB, at least 8.*\(fix the setting it names/);
  });

  it('says to add credit when the balance cannot pay', async () => {
    const offer = nextOffer();
    const balance = sim.account.balance;
    sim.account.balance = 0;
    try {
      const failure = await createInstance(client, offer.id, body(offer, 'vastdeck:api-7')).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(VastRefusedError);
      expect((failure as Error).message).toBe('Vast.ai refused the create because the account has too little credit: add credit at https://cloud.vast.ai/billing/ and try again.');
    } finally {
      sim.account.balance = balance;
    }
  });

  it('adds an account key, lists it and attaches a key to an instance', async () => {
    const pair = usableKeyPair('ed25519', {comment: 'api@test'});
    await addAccountSshKey(client, pair.public);
    expect((await listAccountSshKeys(client)).map(key => key.publicKey)).toContain(pair.public.trim());
    const offer = nextOffer();
    const {instanceId} = await createInstance(client, offer.id, body(offer, 'vastdeck:api-8'));
    const other = usableKeyPair('ed25519', {comment: 'other@test'});
    await attachSshKeyToInstance(client, instanceId, other.public);
    const onInstance = sim.instances.instanceSshKeys(instanceId)!.map(key => key.public_key);
    expect(onInstance).toEqual(expect.arrayContaining([pair.public.trim(), other.public.trim()]));
  });
});
