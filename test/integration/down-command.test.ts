// `vastdeck down` end to end through the real CLI entry against a simulated cloud on loopback
// (reached as a live API through VAST_URL): the step lines, one JSON event per line, and the exit
// codes scripts rely on (0 gone, 1 not destroyed, 2 bad input or unknown id).
import {mkdtempSync, readFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {runCli} from '../helpers/run-cli.js';
import {createFromRanking} from '../../source/core/instances/create.js';
import {watchUntilSettled} from '../../source/core/instances/watch-until.js';
import {loadInstallId} from '../../source/core/install-id.js';
import {Ledger} from '../../source/core/ledger/ledger.js';
import {stateDir} from '../../source/core/state-paths.js';
import {jobCostInputs} from '../../source/core/offers/job-inputs.js';
import {rankOffers} from '../../source/core/offers/rank.js';
import {buildOfferSearch} from '../../source/core/offers/search.js';
import {DEFAULT_SETTINGS} from '../../source/core/settings.js';
import {createVastdeckKey, type SshIdentity} from '../../source/core/ssh/keys.js';
import {KnownHosts} from '../../source/core/ssh/known-hosts.js';
import {VastClient} from '../../source/core/vast/client.js';
import {createInstance, listInstances} from '../../source/core/vast/instances-api.js';
import {startSimCloud, type SimCloud} from '../../source/sim/cloud.js';

let sim: SimCloud;
let client: VastClient;
let identity: SshIdentity;
let outputsDir: string;

beforeAll(async () => {
  sim = await startSimCloud({port: 0, rateLimitScale: 0, churnIntervalMs: 0, speed: 400});
  process.env.VAST_URL = sim.baseUrl;
  process.env.VAST_API_KEY = sim.apiKey;
  client = new VastClient({baseUrl: sim.baseUrl, apiKey: sim.apiKey, pacingScale: 0});
  identity = await createVastdeckKey();
  outputsDir = mkdtempSync(join(tmpdir(), 'vastdeck-down-'));
  expect((await run(['config', 'set', 'outputsDir', outputsDir])).code).toBe(0);
});

afterAll(async () => {
  delete process.env.VAST_URL;
  delete process.env.VAST_API_KEY;
  await sim.close();
});

const run = runCli;

/** Rents an RTX 4090 into the default ledger (the one `vastdeck down` opens) and watches it to READY. */
async function rentReady(): Promise<{instanceId: number; localId: string}> {
  const apiOrigin = new URL(sim.baseUrl).origin;
  const search = buildOfferSearch('gpu=RTX_4090 inet_down>=500', DEFAULT_SETTINGS);
  const ranked = rankOffers(await client.searchOffers(search.query), await jobCostInputs(DEFAULT_SETTINGS), 'cost');
  const created = await createFromRanking({client, ledger: Ledger.open(), settings: DEFAULT_SETTINGS, apiOrigin, identity, provisioning: {}, env: {}}, ranked.map(row => row.offer));
  const outcome = await watchUntilSettled({client, entry: created.ledgerEntry, apiOrigin, identity, knownHosts: KnownHosts.open(), pollMs: 100, onStage: () => {}});
  await outcome.watch.stop();
  expect(outcome.state.stage).toBe('READY');
  return {instanceId: created.instanceId, localId: created.ledgerEntry.localId};
}

async function listed(instanceId: number): Promise<boolean> {
  return (await listInstances(client)).some(instance => instance.id === instanceId);
}

describe('vastdeck down', () => {
  it('needs ids or --all, and whole-number ids', async () => {
    const none = await run(['down']);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('needs instance ids or --all');
    const bad = await run(['down', 'abc']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("takes instance ids (whole numbers), got 'abc'");
  });

  it('says an unknown id is unknown and destroys nothing (exit 2)', async () => {
    const {code, stderr} = await run(['down', '424242']);
    expect(code).toBe(2);
    expect(stderr).toContain('Instance 424242 is not on this account and vastdeck has no record of it');
  });

  it('pulls the files home, destroys, confirms, prints JSON events and exits 0; again says already gone', async () => {
    const {instanceId, localId} = await rentReady();
    sim.instances.hostOf(instanceId)!.fs.write('/workspace/ComfyUI/output/ComfyUI_00001_.png', 'pixels');
    const {code, stdout, stderr} = await run(['down', String(instanceId), '--json']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const events = stdout.trim().split('\n').map(line => JSON.parse(line) as {event: string; instanceId: number; step?: string; runDir?: string; outputs?: {verified: number}});
    expect(events.every(event => event.instanceId === instanceId)).toBe(true);
    expect([...new Set(events.filter(event => event.event === 'step').map(event => event.step))]).toEqual(['extract-outputs', 'extract-logs', 'verify', 'destroy', 'confirm-gone']);
    const last = events.at(-1)!;
    expect(last).toMatchObject({event: 'destroyed', outputs: {verified: 1, safe: 0}});
    expect(last.runDir).toBe(join(outputsDir, 'runs', `${instanceId}-${localId}`));
    expect(readFileSync(join(last.runDir!, 'outputs', 'ComfyUI_00001_.png'), 'utf8')).toBe('pixels');
    expect(await listed(instanceId)).toBe(false);

    const again = await run(['down', String(instanceId)]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`Instance ${instanceId} was already gone: nothing bills.`);
  });

  it('exits 1 with a sentence when the files cannot be pulled, and 0 with --force, which says so loudly', async () => {
    const {instanceId} = await rentReady();
    sim.instances.hostOf(instanceId)!.setSshRefusing(true);
    const refused = await run(['down', String(instanceId)]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`vastdeck: Instance ${instanceId} was not destroyed: its output files and the logs would be lost because the instance refused your SSH key`);
    expect(refused.stderr).not.toMatch(/\n\s+at /);
    expect(await listed(instanceId)).toBe(true);

    const forced = await run(['down', String(instanceId), '--force']);
    expect(forced.code).toBe(0);
    expect(forced.stderr).toContain('--force: destroying WITHOUT pulling outputs and logs home');
    expect(forced.stdout).toContain('FORCED');
    expect(forced.stdout).toContain(`Instance ${instanceId} destroyed and confirmed gone; nothing was pulled home (--force).`);
    expect(await listed(instanceId)).toBe(false);
  });

  it("--all takes this install's instances, including ones the ledger did not know, and leaves another install's alone", async () => {
    const search = buildOfferSearch('gpu=RTX_4090', DEFAULT_SETTINGS);
    const offers = await client.searchOffers(search.query);
    const ours = loadInstallId(stateDir());
    const body = {client_id: 'me', image: 'vastai/comfyui:@vastai-automatic-tag', disk: 40, env: {}};
    const stray = await createInstance(client, offers[0]!.id, {...body, label: `vastdeck:${ours}-stray`});
    const foreign = await createInstance(client, offers[1]!.id, {...body, label: 'my-own-box'});
    const teammate = await createInstance(client, offers[2]!.id, {...body, label: 'vastdeck:0e0e0e-laptop2'});
    const {code, stdout, stderr} = await run(['down', '--all', '--force', '--json']);
    expect(code).toBe(0);
    const finals = stdout.trim().split('\n').map(line => JSON.parse(line) as {event: string; instanceId: number}).filter(event => event.event !== 'step');
    expect(finals).toEqual([expect.objectContaining({event: 'destroyed', instanceId: stray.instanceId})]);
    expect(stderr).toContain(`${teammate.instanceId} (vastdeck:0e0e0e-laptop2)`);
    expect(stderr).toMatch(/--any-install/);
    expect(await listed(stray.instanceId)).toBe(false);
    expect(await listed(foreign.instanceId)).toBe(true);
    expect(await listed(teammate.instanceId)).toBe(true);

    const again = await run(['down', '--all', '--any-install', '--force', '--json']);
    expect(again.code).toBe(0);
    expect(await listed(teammate.instanceId)).toBe(false);
    expect(await listed(foreign.instanceId)).toBe(true);
  });

  /**
   * A cloud at real speed (an image pull takes minutes, so a new instance stays 'loading'), the CLI
   * pointed at it, and one instance created there with `labelSuffix`; the CLI points back at `sim` after.
   */
  async function onSlowCloud(labelSuffix: string, use: (slowClient: VastClient, instanceId: number, slow: SimCloud) => Promise<void>): Promise<void> {
    const slow = await startSimCloud({port: 0, rateLimitScale: 0, churnIntervalMs: 0, speed: 1});
    process.env.VAST_URL = slow.baseUrl;
    process.env.VAST_API_KEY = slow.apiKey;
    try {
      const slowClient = new VastClient({baseUrl: slow.baseUrl, apiKey: slow.apiKey, pacingScale: 0});
      const [offer] = await slowClient.searchOffers(buildOfferSearch('gpu=RTX_4090', DEFAULT_SETTINGS).query);
      const {instanceId} = await createInstance(slowClient, offer!.id, {client_id: 'me', image: 'vastai/comfyui:@vastai-automatic-tag', disk: 40, env: {}, label: `vastdeck:${loadInstallId(stateDir())}-${labelSuffix}`});
      await use(slowClient, instanceId, slow);
    } finally {
      process.env.VAST_URL = sim.baseUrl;
      process.env.VAST_API_KEY = sim.apiKey;
      await slow.close();
    }
  }

  it('destroys an instance still pulling its image at once (nothing to extract), without --force', async () => {
    await onSlowCloud('loading', async (slowClient, instanceId) => {
      const {code, stdout} = await run(['down', String(instanceId)]);
      expect(stdout).toMatch(/has no outputs, so it is destroyed at once/);
      expect(code).toBe(0);
      expect((await listInstances(slowClient)).some(instance => instance.id === instanceId)).toBe(false);
    });
  });

  it('does not destroy at once a loading instance the ledger saw run (started again after a stop: its disk holds outputs)', async () => {
    await onSlowCloud('restarted', async (slowClient, instanceId, slow) => {
      const instance = (await listInstances(slowClient)).find(candidate => candidate.id === instanceId)!;
      expect([null, 'loading']).toContain(instance.actualStatus);
      // What the ledger knows of it: it ran, then was stopped (the simulator cannot rewind a boot, so the record says it).
      const ledger = Ledger.open({installId: loadInstallId(stateDir())});
      const entry = ledger.adopt(new URL(slow.baseUrl).origin, instance, 'test: ran before');
      const nowSec = Date.now() / 1000;
      ledger.recordBilling([{localId: entry.localId, billing: {startSec: nowSec - 600, storagePerHour: 0.02, gpuPerHour: 0.4, inetDownCostPerGb: 0, inetDownMbps: 1000, closedGpuSec: 300, ran: true, imageGb: 4, pulledGb: 4, provisionedGb: 0, closedOfflineSec: 0, seenSec: nowSec - 60, seenStatus: 'stopped'}}]);
      const {code, stdout, stderr} = await run(['down', String(instanceId)]);
      expect(stdout).not.toMatch(/destroyed at once/);
      expect(code, stderr).not.toBe(0);
      expect(stderr).toContain(String(instanceId));
      expect((await listInstances(slowClient)).some(candidate => candidate.id === instanceId)).toBe(true);
      expect((await run(['down', String(instanceId), '--force'])).code).toBe(0);
    });
  });

  it('after a create whose answer was lost, finds it by label and settles the one ledger entry (no second entry)', async () => {
    const ledger = Ledger.open({installId: loadInstallId(stateDir())});
    const search = buildOfferSearch('gpu=RTX_4090', DEFAULT_SETTINGS);
    const [offer] = await client.searchOffers(search.query);
    const lost = ledger.begin({apiOrigin: new URL(sim.baseUrl).origin, offerId: offer!.id, machineId: 0, gpuName: 'RTX 4090', numGpus: 1, dphTotal: 0.4, webPassword: 'pw'});
    const created = await createInstance(client, offer!.id, {client_id: 'me', image: 'vastai/comfyui:@vastai-automatic-tag', disk: 40, env: {}, label: lost.label});
    const {code, stderr} = await run(['down', String(created.instanceId), '--force']);
    expect(code).toBe(0);
    expect(stderr).toMatch(/answer was lost went through/);
    const entries = Ledger.open().all().filter(entry => entry.label === lost.label);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({instanceId: created.instanceId, state: 'destroyed'});
  });
});
