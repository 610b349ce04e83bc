// Issue 3 figures: readiness-detection lag (from the simulator's "ComfyUI listening" moment to our
// READY) over 20 instances, beside a 10-second poller like the original workflow's monitor script;
// and Vast API calls per minute while the dashboard's fleet model watches 8 instances.
import {mkdtempSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {startSimCloud} from '../dist/sim/cloud.js';
import {FleetModel} from '../dist/core/instances/fleet-model.js';
import {Ledger} from '../dist/core/ledger/ledger.js';
import {KnownHosts} from '../dist/core/ssh/known-hosts.js';
import {createVastdeckKey} from '../dist/core/ssh/keys.js';
import {VastClient} from '../dist/core/vast/client.js';
import {rankOffers} from '../dist/core/offers/rank.js';
import {jobCostInputs} from '../dist/core/offers/job-inputs.js';
import {buildOfferSearch} from '../dist/core/offers/search.js';
import {DEFAULT_SETTINGS} from '../dist/core/settings.js';
import {round, sleep, summarise} from './lib.js';

export async function benchInstances() {
  const home = mkdtempSync(join(tmpdir(), 'vastdeck-bench-inst-'));
  Object.assign(process.env, {HOME: home, XDG_CONFIG_HOME: join(home, '.config'), XDG_STATE_HOME: join(home, '.state')});
  await createVastdeckKey();
  const lag = await readinessLag({instances: 20, batch: 5, speed: 20});
  const calls = await apiCallsWhileWatching({instances: 8, windowMs: 60_000, speed: 4});
  return {readinessLag: lag, apiCallsWhileWatching8: calls};
}

async function openFleet(sim) {
  const client = new VastClient({baseUrl: sim.baseUrl, apiKey: sim.apiKey, pacingScale: 0});
  const fleet = new FleetModel({
    client,
    ledger: Ledger.open({path: join(process.env.XDG_STATE_HOME, `ledger-${Date.now()}.json`)}),
    apiOrigin: new URL(sim.baseUrl).origin,
    settings: () => DEFAULT_SETTINGS,
    knownHosts: KnownHosts.open(join(process.env.XDG_STATE_HOME, `known-${Date.now()}.json`)),
    notify: () => {},
    outputsDir: join(process.env.XDG_STATE_HOME, 'outputs'),
  });
  await fleet.start();
  const search = buildOfferSearch('inet_down>=300', DEFAULT_SETTINGS);
  const ranked = rankOffers(await client.searchOffers(search.query), await jobCostInputs(DEFAULT_SETTINGS), 'cost');
  return {fleet, ranked};
}

async function readinessLag({instances, batch, speed}) {
  const ours = [];
  const poller = [];
  for (let done = 0; done < instances; done += batch) {
    const sim = await startSimCloud({port: 0, rateLimitScale: 0, churnIntervalMs: 0, speed});
    const listening = new Map();
    sim.instances.events.on('comfy-listening', ({instanceId, atMs}) => listening.set(instanceId, atMs));
    const {fleet, ranked} = await openFleet(sim);
    const stops = [];
    for (let index = 0; index < batch; index++) await fleet.create(ranked.slice(index * 3, index * 3 + 3));
    // The original workflow's way: poll ComfyUI every 10 s from the moment the instance exists.
    for (const row of fleet.getSnapshot().rows) stops.push(pollEvery10s(fleet, row.key, row.instanceId, poller, listening));
    const deadline = Date.now() + 180_000;
    while (Date.now() < deadline) {
      fleet.flush();
      const rows = fleet.getSnapshot().rows;
      if (rows.length === batch && rows.every(row => row.stage.stage === 'READY') && stops.every(stop => stop.done)) break;
      await sleep(100);
    }
    for (const row of fleet.getSnapshot().rows) {
      const at = listening.get(row.instanceId);
      if (row.stage.stage === 'READY' && at !== undefined) ours.push(row.stage.sinceMs - at);
    }
    for (const stop of stops) stop.cancel();
    await fleet.stop();
    await sim.close();
  }
  const mine = summarise(ours);
  const theirs = summarise(poller);
  return {
    instances: ours.length,
    vastdeckMs: {median: round(mine.median), p95: round(mine.p95), max: round(mine.max)},
    tenSecondPollerMs: {median: round(theirs.median), p95: round(theirs.p95), max: round(theirs.max)},
    note: `simulated boots at speed ${speed}; lag in real milliseconds from the simulator's listening moment`,
  };
}

function pollEvery10s(fleet, key, instanceId, samples, listening) {
  const state = {done: false, cancel: () => clearInterval(timer)};
  const tick = async () => {
    const secret = fleet.portalSecret(key);
    if (!secret?.comfyui || state.done) return;
    try {
      const response = await fetch(`${secret.comfyui}/system_stats`, {headers: {authorization: `Bearer ${secret.token}`}});
      if (response.ok && listening.has(instanceId)) {
        state.done = true;
        samples.push(Date.now() - listening.get(instanceId));
        clearInterval(timer);
      }
    } catch {}
  };
  const timer = setInterval(tick, 10_000);
  return state;
}

async function apiCallsWhileWatching({instances, windowMs, speed}) {
  const sim = await startSimCloud({port: 0, rateLimitScale: 0, churnIntervalMs: 0, speed});
  const {fleet, ranked} = await openFleet(sim);
  for (let index = 0; index < instances; index++) await fleet.create(ranked.slice(index * 3, index * 3 + 3));
  const before = sim.requests.length;
  const start = Date.now();
  await sleep(windowMs);
  const window = sim.requests.slice(before);
  const minutes = (Date.now() - start) / 60_000;
  const stages = fleet.getSnapshot().rows.map(row => row.stage.stage);
  await fleet.stop();
  await sim.close();
  return {
    instances,
    vastApiCallsPerMinute: round(window.length / minutes, 1),
    listCallsPerMinute: round(window.filter(request => request.path.startsWith('/api/v0/instances')).length / minutes, 1),
    perInstancePollerAt10sWouldBe: instances * 6,
    stagesAtEnd: stages,
  };
}
