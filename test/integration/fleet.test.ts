// The dashboard's fleet (the Deck's rent and watch, over the rent use case and the FleetModel rows)
// against the simulated cloud over loopback: several instances rented at once and watched to READY
// through one list call per interval, the SSH log stream and the portal probe; failure paths end
// FAILED with evidence; a restart reconciles the ledger; another install's instances are left alone.
import {mkdtempSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterEach, beforeEach, describe, expect, it, vi} from 'vitest';
import {DEFAULT_SETTINGS} from '../../source/core/settings.js';
import type {Deck} from '../../source/core/deck.js';
import {jobCostInputs} from '../../source/core/offers/job-inputs.js';
import {rankOffers} from '../../source/core/offers/rank.js';
import {buildOfferSearch} from '../../source/core/offers/search.js';
import type {RankedOffer} from '../../source/core/offers/types.js';
import {createVastdeckKey} from '../../source/core/ssh/keys.js';
import {VastClient} from '../../source/core/vast/client.js';
import {createInstance, destroyInstance} from '../../source/core/vast/instances-api.js';
import {startSimCloud, type SimCloud} from '../../source/sim/cloud.js';
import type {InstanceRow} from '../../source/core/deck-types.js';
import {openTestDeck} from '../helpers/deck-context.js';

let sim: SimCloud;
let client: VastClient;
let decks: Deck[] = [];
let stateDir: string;
const messages: string[] = [];

beforeEach(async () => {
  sim = await startSimCloud({port: 0, rateLimitScale: 0, churnIntervalMs: 0, speed: 400});
  client = new VastClient({baseUrl: sim.baseUrl, apiKey: sim.apiKey, pacingScale: 0});
  await createVastdeckKey();
  stateDir = mkdtempSync(join(tmpdir(), 'vastdeck-fleet-state-'));
});

afterEach(async () => {
  await Promise.all(decks.map(deck => deck.close()));
  decks = [];
  messages.length = 0;
  await sim.close();
});

/** A dashboard Deck on the shared state folder (a second one is "the same install, restarted"). */
function openDeck(): Deck {
  const deck = openTestDeck(sim, {stateDir, fleetPollMs: {busy: 150, idle: 400}});
  let seen = 0;
  deck.messages.subscribe(() => {
    const {history} = deck.messages.getSnapshot();
    for (const message of history.slice(seen)) messages.push(message.text);
    seen = history.length;
  });
  decks.push(deck);
  return deck;
}

async function rankedOffers(expression = 'gpu=RTX_4090 inet_down>=500'): Promise<RankedOffer[]> {
  const search = buildOfferSearch(expression, DEFAULT_SETTINGS);
  return rankOffers(await client.searchOffers(search.query), await jobCostInputs(DEFAULT_SETTINGS), 'cost');
}

async function until(deck: Deck, predicate: (rows: readonly InstanceRow[]) => boolean, timeoutMs = 25_000): Promise<readonly InstanceRow[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    deck.fleetModel.flush();
    deck.messages.flush();
    const rows = deck.fleetModel.getSnapshot().rows;
    if (predicate(rows)) return rows;
    if (Date.now() > deadline) throw new Error(`timed out; rows: ${JSON.stringify(rows.map(row => [row.instanceId, row.stage.stage, row.stage.evidence, row.log]))}\nmessages: ${messages.join('\n')}`);
    await new Promise(resolve => setTimeout(resolve, 100));
  }
}

describe('fleet model', () => {
  it('rents three instances at once and watches each to READY with live logs', async () => {
    const deck = openDeck();
    const fleet = deck.fleet;
    const ranked = await rankedOffers();
    await Promise.all([fleet.create(ranked.slice(0, 5)), fleet.create(ranked.slice(5, 10)), fleet.create(ranked.slice(10, 15))]);
    const rows = await until(deck, all => all.length === 3 && all.every(row => row.stage.stage === 'READY'));
    for (const row of rows) {
      expect(row.log.lines).toBeGreaterThan(50);
      expect(row.portal.comfyui).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(row.stage.timeline.map(step => step.stage)).toEqual(['INITIALIZING', 'PROVISIONING', 'DOWNLOADING', 'STARTING_APP', 'READY']);
      expect(row.accruedUsd).toBeGreaterThan(0);
      expect(JSON.stringify(row)).not.toContain(fleet.portalSecret(row.key)!.token);
    }
    // One fleet-wide list call per interval (the paged v1 list): never a per-instance GET, never the retired v0 list.
    expect(sim.requests.some(request => /^\/api\/v0\/instances\/\d+/.test(request.path) && request.method === 'GET')).toBe(false);
    expect(sim.requests.some(request => request.path === '/api/v0/instances/' && request.method === 'GET')).toBe(false);
    await vi.waitFor(() => {
      decks[0]!.messages.flush();
      expect(messages.some(text => /is READY/.test(text))).toBe(true);
    });
  });

  it('ends FAILED with the evidence and a suggestion when provisioning fails, even though ComfyUI starts', async () => {
    const deck = openDeck();
    sim.instances.nextScenario = 'failure';
    await deck.fleet.create(await rankedOffers());
    const [row] = await until(deck, all => all[0]?.stage.stage === 'FAILED');
    expect(row!.stage.failure?.suggestion).toMatch(/HF_TOKEN/);
    expect(row!.stage.provisioningFailed).toBe(true);
  });

  it.each([
    ['exited', /exited/i],
    ['offline', /offline/i],
    ['pull-error', /manifest|image/i],
  ] as const)('ends FAILED when the instance is %s', async (fault, reason) => {
    const deck = openDeck();
    await deck.fleet.create(await rankedOffers());
    const [created] = await until(deck, all => all[0]?.instanceId !== undefined);
    sim.instances.inject(created!.instanceId!, fault);
    const [row] = await until(deck, all => all[0]?.stage.stage === 'FAILED');
    expect(`${row!.stage.failure?.reason} ${row!.stage.failure?.evidence}`).toMatch(reason);
  });

  it('reconciles on start: keeps tracked instances, adopts its own forgotten ones, leaves other installs alone, marks vanished ones gone', async () => {
    const first = openDeck();
    const ranked = await rankedOffers();
    await first.fleet.create(ranked.slice(0, 3));
    await first.fleet.create(ranked.slice(3, 6));
    const created = await until(first, all => all.length === 2 && all.every(row => row.instanceId !== undefined));
    await first.close();

    await destroyInstance(client, created[1]!.instanceId!);
    const body = {client_id: 'me', image: 'vastai/comfyui:@vastai-automatic-tag', disk: 40, env: {}};
    const installId = first.ctx.installId;
    const forgotten = await createInstance(client, ranked[7]!.offer.id, {...body, label: `vastdeck:${installId}-forgotten`});
    const theirs = await createInstance(client, ranked[8]!.offer.id, {...body, label: 'vastdeck:0a0b0c-teammate'});

    const second = openDeck();
    const rows = await until(second, all => all.length === 2);
    expect(rows.map(row => row.instanceId).sort()).toEqual([created[0]!.instanceId, forgotten.instanceId].sort());
    second.fleetModel.flush();
    expect(second.fleetModel.getSnapshot().otherInstalls.map(other => other.instanceId)).toEqual([theirs.instanceId]);
    expect(messages.some(text => text.includes(`vastdeck:${installId}-forgotten`))).toBe(true);
    expect(messages.some(text => text.includes(String(theirs.instanceId)) && /another vastdeck install/.test(text))).toBe(true);
    expect(messages.some(text => text.includes(`Instance ${created[1]!.instanceId}`) && /gone/.test(text))).toBe(true);
  });
});
