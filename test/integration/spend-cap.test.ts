// A cap that holds, against the simulator's billing over real sockets: with a $0.25 cap on an
// expensive instance (~$9/h, so the cap is 100 s of it), what the simulator billed in the end is at
// most the cap plus 10 s of the instance's burn — in the dashboard (the Deck's spend guard, whose
// countdown starts early enough for the cleanup to end at the cap, and which refuses to rent while
// it runs) and with `vastdeck run --up --max-spend 0.25` (which stops, cleans up and exits 1 with a
// sentence). The cap is not hit at once either: the stop comes within the guard's lead of the cap.
import {writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {PNG} from 'pngjs';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import type {Deck} from '../../source/core/deck.js';
import {jobCostInputs} from '../../source/core/offers/job-inputs.js';
import {rankOffers} from '../../source/core/offers/rank.js';
import {DEFAULT_SETTINGS} from '../../source/core/settings.js';
import {createVastdeckKey} from '../../source/core/ssh/keys.js';
import {stateDir} from '../../source/core/state-paths.js';
import {DEFAULT_CLEANUP_SEC} from '../../source/core/usecases/spend-guard.js';
import {VastClient} from '../../source/core/vast/client.js';
import {startSimCloud, type SimCloud} from '../../source/sim/cloud.js';
import {openTestDeck} from '../helpers/deck-context.js';
import {runCli} from '../helpers/run-cli.js';
import {waitFor} from '../helpers/wait-for.js';
import {simBilledTotal} from '../helpers/sim-billing.js';

const CAP = 0.25;
const COUNTDOWN_SEC = 5;
const IMAGE = 'nvidia/cuda:12.4.1-runtime-ubuntu22.04';
const sims: SimCloud[] = [];
let deck: Deck | undefined;
let image: string;

beforeAll(async () => {
  await createVastdeckKey();
  const settings: Array<[string, string]> = [['instance.image', IMAGE], ['cost.imageGb', '4'], ['policies.countdownSeconds', String(COUNTDOWN_SEC)], ['outputsDir', join(process.env.HOME!, 'outputs')]];
  for (const [key, value] of settings) expect((await runCli(['config', 'set', key, value])).code).toBe(0);
  image = join(process.env.HOME!, 'cat.png');
  const png = new PNG({width: 64, height: 48});
  for (let index = 0; index < png.data.length; index++) png.data[index] = (index * 7) % 256;
  writeFileSync(image, PNG.sync.write(png));
});

afterAll(async () => {
  await deck?.close();
  await Promise.all(sims.map(sim => sim.close()));
  delete process.env.VAST_URL;
  delete process.env.VAST_API_KEY;
});

/** With VASTDECK_SPEND_FIGURES set, the figures for `npm run bench` (bench/spend.js). */
function figure(what: string, billed: number, burn: number): void {
  if (process.env.VASTDECK_SPEND_FIGURES) console.error(`cap · ${what}: billed $${billed.toFixed(4)} of a $${CAP.toFixed(2)} cap at $${burn.toFixed(3)}/h, ${(((CAP - billed) / burn) * 3600).toFixed(1)} s of burn before the cap`);
}

async function cloud(): Promise<SimCloud> {
  const sim = await startSimCloud({port: 0, rateLimitScale: 0, churnIntervalMs: 0, speed: 1});
  sims.push(sim);
  return sim;
}

/** $/h the one instance the simulated cloud rented bills while running. */
function burnOf(sim: SimCloud, instanceId: number, dphTotal?: number): number {
  const row = sim.instances.get(instanceId);
  return Number(row?.dph_total ?? dphTotal);
}

describe.concurrent('the spend cap holds', () => {
  it('in the dashboard: the countdown starts early, renting is refused during it, and the bill ends within 10 s of burn past the cap', async () => {
    expect((await runCli(['config', 'set', 'policies.spendCapUsd', String(CAP)])).code).toBe(0);
    const sim = await cloud();
    const client = new VastClient({baseUrl: sim.baseUrl, apiKey: sim.apiKey, pacingScale: 0});
    const ranked = rankOffers(await client.searchOffers({rentable: {eq: true}, limit: 5000}), await jobCostInputs(DEFAULT_SETTINGS), 'cost');
    const expensive = ranked.filter(row => row.offer.inetDownMbps >= 4000 && row.offer.dphTotal >= 8 && row.offer.dphTotal <= 11 && row.offer.inetDownCostPerGb < 0.002);
    expect(expensive.length).toBeGreaterThan(1);
    deck = openTestDeck(sim, {stateDir: stateDir(), fleetPollMs: {busy: 1000, idle: 1000}});
    await deck.fleet.create([expensive[0]!]);
    const id = await waitFor('the instance', () => Number(sim.instances.list()[0]?.id) || undefined);
    const burn = burnOf(sim, id, expensive[0]!.offer.dphTotal);
    // The countdown starts while there is still the lead (countdown + cleanup + 2 s) left before the cap.
    await waitFor('the cap countdown', () => deck!.policies.getSnapshot().countdown, 200_000);
    const {countdown, spentUsd} = deck.policies.getSnapshot();
    expect(countdown!.reason).toMatch(/spend cap of \$0\.25 will be reached in about/);
    expect(spentUsd).toBeLessThan(CAP);
    // Renting more now is refused before any create call.
    const creates = sim.requests.filter(request => request.method === 'PUT' && request.path.startsWith('/api/v0/asks/')).length;
    await deck.fleet.create([expensive[1]!]);
    deck.messages.flush();
    expect(deck.messages.getSnapshot().history.map(message => message.text).join('\n')).toMatch(/spend cap of \$0\.25 is about to stop this session's instances.*nothing was rented/);
    expect(sim.requests.filter(request => request.method === 'PUT' && request.path.startsWith('/api/v0/asks/')).length).toBe(creates);
    await waitFor('the instance destroyed by the cap', () => sim.instances.list().length === 0, 200_000);
    const billed = simBilledTotal(sim);
    figure('dashboard', billed, burn);
    expect(billed).toBeLessThanOrEqual(CAP + (10 * burn) / 3600);
    // …and it did not stop needlessly early: within the lead (and 10 s) of the cap.
    expect(billed).toBeGreaterThan(CAP - ((COUNTDOWN_SEC + DEFAULT_CLEANUP_SEC + 2 + 10) * burn) / 3600);
    deck.money.tick();
    expect(deck.money.getSnapshot().sessionUsd).toBeCloseTo(billed, 2);
    await deck.close();
    deck = undefined;
    expect((await runCli(['config', 'reset', 'policies.spendCapUsd'])).code).toBe(0);
  }, 300_000);

  it('with `vastdeck run --up --max-spend 0.25`: stops, cleans up, exits 1 with a sentence; the bill ends within 10 s of burn past the cap', async () => {
    const sim = await cloud();
    process.env.VAST_URL = sim.baseUrl;
    process.env.VAST_API_KEY = sim.apiKey;
    const {code, stderr} = await runCli(['run', '--up', '--down', '--max-spend', String(CAP), '--workflow', 'img2img-sdxl', '--image', image, '--prompt', 'a cat', '--count', '50', 'gpus=4', 'dph>=8', 'dph<=11', 'inet_down>=4000']);
    expect(code, stderr).toBe(1);
    expect(stderr).toMatch(/vastdeck: the spend cap of \$0\.25 would be reached in about \d+s \(\$0\.\d+ spent this session, \$\d+\.\d+\/h\): stopping the jobs and cleaning up\./);
    expect(stderr).toMatch(/vastdeck: stopped at the spend cap of \$0\.25: this session spent \$0\.\d+/);
    expect(sim.instances.list()).toEqual([]);
    const created = sim.requests.filter(request => request.method === 'PUT' && request.path.startsWith('/api/v0/asks/'));
    expect(created).toHaveLength(1);
    const billed = simBilledTotal(sim);
    const burn = Number(/\$(\d+\.\d+)\/h\)/.exec(stderr)![1]);
    expect(burn).toBeGreaterThan(8);
    figure('run --up --max-spend', billed, burn);
    expect(billed).toBeLessThanOrEqual(CAP + (10 * burn) / 3600);
    expect(billed).toBeGreaterThan(CAP - ((DEFAULT_CLEANUP_SEC + 2 + 10) * burn) / 3600);
  }, 300_000);
});
