// Spend you can trust, against the simulator's own billing over real sockets: an instance rented
// by the dashboard (destroyed after its downloads), one rented by `vastdeck up` before the dashboard opened, one stopped for a
// while, one on a slow, $/GB-expensive link (still pulling its image when destroyed), and one that
// is not vastdeck's at all (priced from the API alone by `vastdeck spend`). What the dashboard, the
// ledger and `vastdeck spend --json` say each must be within ±1 % of what the simulator billed at
// speed 1, ±2 % at speed 10 (where the simulator's Date header and timestamps run on its own,
// compressed clock). Each instance has its own simulated cloud, so the scenarios run side by side.
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import type {Deck} from '../../source/core/deck.js';
import {spendOf} from '../../source/core/money/billing.js';
import {jobCostInputs} from '../../source/core/offers/job-inputs.js';
import {rankOffers} from '../../source/core/offers/rank.js';
import type {RankedOffer} from '../../source/core/offers/types.js';
import {DEFAULT_SETTINGS} from '../../source/core/settings.js';
import {createVastdeckKey} from '../../source/core/ssh/keys.js';
import {stateDir} from '../../source/core/state-paths.js';
import {VastClient} from '../../source/core/vast/client.js';
import {createInstance} from '../../source/core/vast/instances-api.js';
import {startSimCloud, type SimCloud} from '../../source/sim/cloud.js';
import {openTestDeck} from '../helpers/deck-context.js';
import {runCli} from '../helpers/run-cli.js';
import {waitFor} from '../helpers/wait-for.js';
import {simBilled, simBilledApiVisible} from '../helpers/sim-billing.js';

/** A small image the simulator pulls quickly (4 GB there); cost.imageGb says the same. */
const IMAGE = 'nvidia/cuda:12.4.1-runtime-ubuntu22.04';
const sims: SimCloud[] = [];
const decks: Deck[] = [];

beforeAll(async () => {
  await createVastdeckKey();
  for (const [key, value] of [['instance.image', IMAGE], ['cost.imageGb', '4']]) expect((await runCli(['config', 'set', key!, value!])).code).toBe(0);
});

afterAll(async () => {
  await Promise.all(decks.map(deck => deck.close()));
  await Promise.all(sims.map(sim => sim.close()));
  delete process.env.VAST_URL;
  delete process.env.VAST_API_KEY;
});

interface Case {
  speed: number;
  tolerance: number;
  /** Simulated seconds the slow instance pulls before it is destroyed (its pull start is known to half a poll). */
  slowLifetimeSec: number;
}

const CASES: Case[] = [
  {speed: 1, tolerance: 0.01, slowLifetimeSec: 60},
  {speed: 10, tolerance: 0.02, slowLifetimeSec: 160},
];

describe.each(CASES)('spend at speed $speed is within ±$tolerance of the simulator’s billing', ({speed, tolerance, slowLifetimeSec}) => {
  const simSleep = (seconds: number): Promise<void> => new Promise(resolve => setTimeout(resolve, (seconds * 1000) / speed));
  const close = (ours: number, billed: number, what: string): void => {
    expect(billed, what).toBeGreaterThan(0);
    if (process.env.VASTDECK_SPEND_FIGURES) console.error(`speed ${speed} · ${what}: ours $${ours.toFixed(6)}, simulator $${billed.toFixed(6)}, ${(((ours - billed) / billed) * 100).toFixed(3)} %`);
    expect(Math.abs(ours - billed) / billed, `${what}: ours $${ours.toFixed(6)}, simulator $${billed.toFixed(6)}`).toBeLessThanOrEqual(tolerance);
  };

  async function cloud(): Promise<SimCloud> {
    const sim = await startSimCloud({port: 0, rateLimitScale: 0, churnIntervalMs: 0, speed});
    sims.push(sim);
    return sim;
  }

  async function offers(sim: SimCloud): Promise<{fast: RankedOffer; slow: RankedOffer}> {
    const client = new VastClient({baseUrl: sim.baseUrl, apiKey: sim.apiKey, pacingScale: 0});
    const ranked = rankOffers(await client.searchOffers({rentable: {eq: true}, num_gpus: {eq: 1}, limit: 5000}), await jobCostInputs(DEFAULT_SETTINGS), 'cost');
    const fast = ranked.filter(row => row.offer.inetDownMbps >= 4000 && row.offer.dphTotal < 2).sort((a, b) => b.offer.inetDownMbps - a.offer.inetDownMbps)[0]!;
    const slow = ranked.filter(row => row.offer.inetDownMbps < 200).sort((a, b) => b.offer.inetDownCostPerGb - a.offer.inetDownCostPerGb)[0]!;
    expect(slow.offer.inetDownCostPerGb).toBeGreaterThan(0.05);
    return {fast, slow};
  }

  function deckOn(sim: SimCloud): Deck {
    const deck = openTestDeck(sim, {stateDir: stateDir(), fleetPollMs: {busy: 500, idle: 500}});
    decks.push(deck);
    return deck;
  }

  const onlyInstance = (sim: SimCloud): number | undefined => {
    const row = sim.instances.list()[0];
    return row ? Number(row.id) : undefined;
  };
  const statusOf = (sim: SimCloud, id: number): unknown => sim.instances.get(id)?.actual_status;

  /** Rents with the dashboard; returns the instance id and the fleet row's key. */
  async function rentOnDeck(deck: Deck, sim: SimCloud, offer: RankedOffer): Promise<{id: number; key: string}> {
    await deck.fleet.create([offer]);
    const id = await waitFor('the create', () => onlyInstance(sim));
    const key = await waitFor('the fleet row', () => deck.fleetModel.getSnapshot().rows.find(row => row.instanceId === id)?.key);
    return {id, key};
  }

  /**
   * Until the row's provisioning downloads are done and read from its logs. A stop or destroy in the
   * middle of one is priced only up to the last progress line read (one every 5 s of the cloud's
   * time; docs/spend.md), which the simulator's 10× clock turns into several GB at a fast host.
   */
  async function downloadsDone(deck: Deck, key: string): Promise<void> {
    await waitFor('the downloads done', () => {
      const stage = deck.fleetModel.getSnapshot().rows.find(row => row.key === key)?.stage;
      return stage !== undefined && stage.stage !== 'DOWNLOADING' && stage.timeline.some(step => step.stage === 'DOWNLOADING');
    }, 240_000);
  }

  /** What the ledger (the dashboard's record) says the instance cost. */
  function ledgerSpend(deck: Deck, id: number): number {
    const entry = deck.ctx.ledger.findByInstanceId(deck.ctx.apiOrigin, id);
    expect(entry?.billing, `billing record of ${id}`).toBeDefined();
    return spendOf(entry!.billing!, deck.ctx.client.cloudClock.now() / 1000).totalUsd;
  }

  async function spendJson(sim: SimCloud): Promise<{balanceUsd: number; burnUsdPerHour: number; instances: Array<{id: number; spentUsd: number; state: string; ours: boolean}>; ended: Array<{id: number; spentUsd: number; state: string}>}> {
    process.env.VAST_URL = sim.baseUrl;
    process.env.VAST_API_KEY = sim.apiKey;
    const {code, stdout, stderr} = await runCli(['spend', '--json']);
    expect(code, stderr).toBe(0);
    return JSON.parse(stdout);
  }

  it('for an instance rented by the dashboard, one by `up` before it opened, one stopped, one on a slow expensive link, and another person’s', async () => {
    const [simA, simB, simC, simD, simE] = await Promise.all([cloud(), cloud(), cloud(), cloud(), cloud()]);
    const finals: Array<{sim: SimCloud; id: number; what: string}> = [];

    // B first: `up` in this process is the only CLI running while the others start.
    const upRented = (async () => {
      process.env.VAST_URL = simB.baseUrl;
      process.env.VAST_API_KEY = simB.apiKey;
      const up = runCli(['up', 'inet_down>=4000', 'dph<=2']);
      const id = await waitFor('up’s instance running', () => {
        const candidate = onlyInstance(simB);
        return candidate !== undefined && statusOf(simB, candidate) === 'running' && candidate;
      });
      await simSleep(5);
      process.emit('SIGINT');
      expect((await up).code).toBe(130);
      return id;
    })();
    const upId = await upRented;

    const dashboardRented = async (): Promise<void> => {
      const deck = deckOn(simA);
      const {id, key} = await rentOnDeck(deck, simA, (await offers(simA)).fast);
      await downloadsDone(deck, key);
      await simSleep(30);
      deck.fleetModel.flush();
      const row = deck.fleetModel.getSnapshot().rows.find(candidate => candidate.key === key)!;
      close(row.accruedUsd, simBilled(simA, id), 'dashboard row while running');
      await deck.fleet.destroy(key);
      expect(simA.instances.get(id)).toBeUndefined();
      close(ledgerSpend(deck, id), simBilled(simA, id), 'dashboard-rented, destroyed');
      deck.money.tick();
      close(deck.money.getSnapshot().sessionUsd, simBilled(simA, id), 'the money line’s session spend');
      finals.push({sim: simA, id, what: 'dashboard-rented'});
    };

    const rentedByUp = async (): Promise<void> => {
      const deck = deckOn(simB);
      const key = await waitFor('up’s instance in the dashboard', () => deck.fleetModel.getSnapshot().rows.find(row => row.instanceId === upId)?.key);
      await simSleep(25);
      await deck.fleet.destroy(key);
      expect(simB.instances.get(upId)).toBeUndefined();
      close(ledgerSpend(deck, upId), simBilled(simB, upId), 'rented by up before the dashboard opened');
      finals.push({sim: simB, id: upId, what: 'rented by up'});
    };

    const stopped = async (): Promise<void> => {
      const deck = deckOn(simC);
      const {id, key} = await rentOnDeck(deck, simC, (await offers(simC)).fast);
      await downloadsDone(deck, key);
      await simSleep(20);
      // Someone else stops it (the Vast console): vastdeck only sees it in the list.
      const answer = await fetch(`${simC.baseUrl}/api/v0/instances/${id}/`, {method: 'PUT', headers: {authorization: `Bearer ${simC.apiKey}`, 'content-type': 'application/json'}, body: JSON.stringify({state: 'stopped'})});
      expect(answer.status).toBe(200);
      await simSleep(30);
      deck.fleetModel.flush();
      const row = deck.fleetModel.getSnapshot().rows.find(candidate => candidate.key === key)!;
      expect(row.actualStatus).toBe('stopped');
      close(row.accruedUsd, simBilled(simC, id), 'stopped, while it still bills storage');
      // A stopped instance cannot be reached to bring files home; it has none, so destroy it outright.
      await deck.fleet.destroy(key, {force: true});
      expect(simC.instances.get(id)).toBeUndefined();
      close(ledgerSpend(deck, id), simBilled(simC, id), 'stopped for a while, destroyed');
      finals.push({sim: simC, id, what: 'stopped'});
    };

    const slowLink = async (): Promise<void> => {
      const deck = deckOn(simD);
      const {slow} = await offers(simD);
      const {id, key} = await rentOnDeck(deck, simD, slow);
      await simSleep(slowLifetimeSec);
      expect(statusOf(simD, id)).toBe('loading');
      await deck.fleet.destroy(key);
      expect(simD.instances.get(id)).toBeUndefined();
      close(ledgerSpend(deck, id), simBilled(simD, id), `slow link (${slow.offer.inetDownMbps} Mbit/s, $${slow.offer.inetDownCostPerGb}/GB)`);
      finals.push({sim: simD, id, what: 'slow link'});
    };

    const someoneElses = async (): Promise<{id: number; inetDownCostPerGb: number}> => {
      const client = new VastClient({baseUrl: simE.baseUrl, apiKey: simE.apiKey, pacingScale: 0});
      const {fast} = await offers(simE);
      const {instanceId: id} = await createInstance(client, fast.offer.id, {client_id: 'me', image: IMAGE, disk: 60, label: 'a colleague’s notebook', runtype: 'ssh_direct ssh_proxy'});
      await waitFor('running', () => statusOf(simE, id) === 'running');
      await simSleep(30);
      return {id, inetDownCostPerGb: fast.offer.inetDownCostPerGb};
    };

    const [, , , , other] = await Promise.all([dashboardRented(), rentedByUp(), stopped(), slowLink(), someoneElses()]);

    // `vastdeck spend --json` from another process's point of view: the ledger's records, and the API alone for others.
    const fromApi = await spendJson(simE);
    const row = fromApi.instances.find(instance => instance.id === other.id)!;
    expect(row).toMatchObject({state: 'running', ours: false});
    // Its boot's model downloads show only in its logs, which vastdeck does not read for others (docs/spend.md).
    close(row.spentUsd, simBilledApiVisible(simE, other.id, other.inetDownCostPerGb), 'another person’s instance, from the API alone');
    expect(fromApi.burnUsdPerHour).toBeGreaterThan(0);
    expect(fromApi.balanceUsd).toBeCloseTo(simE.account.balance, 2);
    for (const {sim, id, what} of finals) {
      const report = await spendJson(sim);
      expect(report.instances).toEqual([]);
      const ended = report.ended.find(instance => instance.id === id)!;
      expect(ended.state).toBe('destroyed');
      close(ended.spentUsd, simBilled(sim, id), `vastdeck spend --json: ${what}`);
    }
  }, 420_000);
});
