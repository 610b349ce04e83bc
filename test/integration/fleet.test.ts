// The dashboard's fleet model against the simulated cloud over loopback: several instances
// rented at once and watched to READY through one list call per interval, the SSH log stream and
// the portal probe; failure paths end FAILED with evidence; a restart reconciles the ledger.
import {mkdtempSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterEach, beforeEach, describe, expect, it} from 'vitest';
import {DEFAULT_SETTINGS} from '../../source/core/settings.js';
import {FleetModel} from '../../source/core/instances/fleet-model.js';
import {Ledger} from '../../source/core/ledger/ledger.js';
import {jobCostInputs} from '../../source/core/offers/job-inputs.js';
import {rankOffers} from '../../source/core/offers/rank.js';
import {buildOfferSearch} from '../../source/core/offers/search.js';
import type {RankedOffer} from '../../source/core/offers/types.js';
import {createVastdeckKey} from '../../source/core/ssh/keys.js';
import {KnownHosts} from '../../source/core/ssh/known-hosts.js';
import {VastClient} from '../../source/core/vast/client.js';
import {createInstance, destroyInstance} from '../../source/core/vast/instances-api.js';
import {startSimCloud, type SimCloud} from '../../source/sim/cloud.js';
import type {InstanceRow} from '../../source/core/deck-types.js';

let sim: SimCloud;
let client: VastClient;
let fleets: FleetModel[] = [];
const messages: string[] = [];

beforeEach(async () => {
  sim = await startSimCloud({port: 0, rateLimitScale: 0, churnIntervalMs: 0, speed: 400});
  client = new VastClient({baseUrl: sim.baseUrl, apiKey: sim.apiKey, pacingScale: 0});
  await createVastdeckKey();
});

afterEach(async () => {
  await Promise.all(fleets.map(fleet => fleet.stop()));
  fleets = [];
  messages.length = 0;
  await sim.close();
});

function openFleet(): FleetModel {
  const fleet = new FleetModel({
    client,
    ledger: Ledger.open(),
    apiOrigin: new URL(sim.baseUrl).origin,
    settings: () => DEFAULT_SETTINGS,
    knownHosts: KnownHosts.open(),
    notify: text => messages.push(text),
    pollMs: {busy: 150, idle: 400},
    outputsDir: join(mkdtempSync(join(tmpdir(), 'vastdeck-fleet-out-')), 'outputs'),
  });
  fleets.push(fleet);
  return fleet;
}

async function rankedOffers(expression = 'gpu=RTX_4090 inet_down>=500'): Promise<RankedOffer[]> {
  const search = buildOfferSearch(expression, DEFAULT_SETTINGS);
  return rankOffers(await client.searchOffers(search.query), await jobCostInputs(DEFAULT_SETTINGS), 'cost');
}

async function until(fleet: FleetModel, predicate: (rows: readonly InstanceRow[]) => boolean, timeoutMs = 25_000): Promise<readonly InstanceRow[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    fleet.flush();
    const rows = fleet.getSnapshot().rows;
    if (predicate(rows)) return rows;
    if (Date.now() > deadline) throw new Error(`timed out; rows: ${JSON.stringify(rows.map(row => [row.instanceId, row.stage.stage, row.stage.evidence, row.log]))}\nmessages: ${messages.join('\n')}`);
    await new Promise(resolve => setTimeout(resolve, 100));
  }
}

describe('fleet model', () => {
  it('rents three instances at once and watches each to READY with live logs', async () => {
    const fleet = openFleet();
    await fleet.start();
    const ranked = await rankedOffers();
    await Promise.all([fleet.create(ranked.slice(0, 5)), fleet.create(ranked.slice(5, 10)), fleet.create(ranked.slice(10, 15))]);
    const rows = await until(fleet, all => all.length === 3 && all.every(row => row.stage.stage === 'READY'));
    for (const row of rows) {
      expect(row.log.lines).toBeGreaterThan(50);
      expect(row.portal.comfyui).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(row.stage.timeline.map(step => step.stage)).toEqual(['INITIALIZING', 'PROVISIONING', 'DOWNLOADING', 'STARTING_APP', 'READY']);
      expect(row.accruedUsd).toBeGreaterThan(0);
      expect(JSON.stringify(row)).not.toContain(fleet.portalSecret(row.key)!.token);
    }
    // One fleet-wide list call per interval: never a per-instance GET.
    expect(sim.requests.some(request => /^\/api\/v0\/instances\/\d+/.test(request.path) && request.method === 'GET')).toBe(false);
  });

  it('ends FAILED with the evidence and a suggestion when provisioning fails, even though ComfyUI starts', async () => {
    const fleet = openFleet();
    await fleet.start();
    sim.instances.nextScenario = 'failure';
    await fleet.create(await rankedOffers());
    const [row] = await until(fleet, all => all[0]?.stage.stage === 'FAILED');
    expect(row!.stage.failure?.suggestion).toMatch(/HF_TOKEN/);
    expect(row!.stage.provisioningFailed).toBe(true);
  });

  it.each([
    ['exited', /exited/i],
    ['offline', /offline/i],
    ['pull-error', /manifest|image/i],
  ] as const)('ends FAILED when the instance is %s', async (fault, reason) => {
    const fleet = openFleet();
    await fleet.start();
    await fleet.create(await rankedOffers());
    const [created] = await until(fleet, all => all[0]?.instanceId !== undefined);
    sim.instances.inject(created!.instanceId!, fault);
    const [row] = await until(fleet, all => all[0]?.stage.stage === 'FAILED');
    expect(`${row!.stage.failure?.reason} ${row!.stage.failure?.evidence}`).toMatch(reason);
  });

  it('reconciles on start: keeps tracked instances, adopts labelled strangers, marks vanished ones gone', async () => {
    const first = openFleet();
    await first.start();
    const ranked = await rankedOffers();
    await first.create(ranked.slice(0, 3));
    await first.create(ranked.slice(3, 6));
    const created = await until(first, all => all.length === 2 && all.every(row => row.instanceId !== undefined));
    await first.stop();

    await destroyInstance(client, created[1]!.instanceId!);
    const stranger = await createInstance(client, ranked[7]!.offer.id, {client_id: 'me', image: 'vastai/comfyui:@vastai-automatic-tag', disk: 40, label: 'vastdeck:stranger', env: {}});

    const second = openFleet();
    await second.start();
    const rows = second.getSnapshot().rows;
    const ids = rows.map(row => row.instanceId).sort();
    expect(ids).toEqual([created[0]!.instanceId, stranger.instanceId].sort());
    expect(messages.some(text => text.includes('vastdeck:stranger'))).toBe(true);
    expect(messages.some(text => text.includes(`Instance ${created[1]!.instanceId}`) && /gone/.test(text))).toBe(true);
  });
});
