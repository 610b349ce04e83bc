// Issue 9 figures: over 20 market seeds, what the default pick (whole-job cost, searched over the
// whole market) saves on a 50-generation SDXL job against the cheapest-$/h pick, vast-cli's default
// order (`score-`) and vastdeck's previous default (the 10-minute rule on models only, over the 400
// cheapest $/h); which GPUs it picks; and how many POST /bundles/ calls a search takes per sort key.
// Each seed runs a simulated cloud on loopback and searches it through vastdeck's own client.
// Every pick is priced with the same cost model (cost.ts), the one the simulator's speed table shares.
import {startSimCloud} from '../dist/sim/cloud.js';
import {VastClient} from '../dist/core/vast/client.js';
import {jobCost} from '../dist/core/offers/cost.js';
import {jobCostInputs} from '../dist/core/offers/job-inputs.js';
import {queryWithVram, searchMarket} from '../dist/core/offers/market-search.js';
import {SORT_KEYS} from '../dist/core/offers/rank.js';
import {buildOfferSearch} from '../dist/core/offers/search.js';
import {DEFAULT_SETTINGS} from '../dist/core/settings.js';
import {round, summarise} from './lib.js';

const SEEDS = Array.from({length: 20}, (_, index) => index + 1);
const GENERATIONS = 50;

export async function benchSavings() {
  const settings = {...DEFAULT_SETTINGS, job: {workflow: 'img2img-sdxl', generations: GENERATIONS}};
  const inputs = await jobCostInputs(settings);
  const {query} = buildOfferSearch('', settings);
  const loose = buildOfferSearch('gpus=any reliability=any verified=any cuda=any disk=any inet_down=any', settings).query;
  const perSeed = [];
  const calls = Object.fromEntries(SORT_KEYS.map(({key}) => [key, []]));
  const looseCalls = Object.fromEntries(SORT_KEYS.map(({key}) => [key, []]));
  const looseSizes = [];

  for (const seed of SEEDS) {
    const cloud = await startSimCloud({port: 0, seed, rateLimitScale: 0, churnIntervalMs: 0});
    try {
      const client = new VastClient({baseUrl: cloud.baseUrl, apiKey: cloud.apiKey, pacingScale: 0});
      const search = body => client.searchOffers(body);
      const best = await searchMarket({search, query, inputs, sortKey: 'cost', limit: settings.searchLimit, top: 1});
      const pick = best.rows[0];
      const cheapestDph = (await search({...queryWithVram(query, inputs), order: [['dph_total', 'asc']], limit: 1}))[0];
      const byScore = (await search({...queryWithVram(query, inputs), order: [['score', 'desc']], limit: 1}))[0];
      looseSizes.push((await search({...queryWithVram(loose, inputs), limit: 10_000})).length);
      const previous = previousDefault(await search({...query, order: [['dph_total', 'asc']], limit: settings.searchLimit}), inputs);
      for (const {key} of SORT_KEYS) {
        calls[key].push((await searchMarket({search, query, inputs, sortKey: key, limit: settings.searchLimit, top: 20})).calls);
        looseCalls[key].push((await searchMarket({search, query: loose, inputs, sortKey: key, limit: settings.searchLimit, top: 20})).calls);
      }
      perSeed.push({
        seed,
        pick: describe(pick.offer, inputs),
        cheapestDph: describe(cheapestDph, inputs),
        vastCliScore: describe(byScore, inputs),
        previousDefault: describe(previous, inputs),
      });
    } finally {
      await cloud.close();
    }
  }

  const savings = baseline => {
    const fractions = perSeed.map(row => (row[baseline].jobCostUsd - row.pick.jobCostUsd) / row[baseline].jobCostUsd);
    const dollars = perSeed.map(row => row[baseline].jobCostUsd - row.pick.jobCostUsd);
    const f = summarise(fractions);
    const d = summarise(dollars);
    return {
      meanPercent: round(f.mean * 100, 1),
      medianPercent: round(f.median * 100, 1),
      minPercent: round(f.min * 100, 1),
      meanUsd: round(d.mean, 4),
      medianUsd: round(d.median, 4),
      seedsWhereDefaultIsCheaper: fractions.filter(value => value > 1e-12).length,
    };
  };
  const mix = field => countBy(perSeed.map(row => row[field].gpu));
  const mean = (field, value) => round(perSeed.reduce((sum, row) => sum + row[field][value], 0) / perSeed.length, 4);

  return {
    job: `${GENERATIONS} × ${inputs.workflow} (${inputs.referenceSecondsPerGeneration} s per generation on an ${inputs.referenceGpu}, ${inputs.modelGb} GB models, ${inputs.imageGb} GB image, ≥ ${inputs.minVramGb} GB VRAM)`,
    filter: 'config defaults (gpus=1 inet_down>=100 reliability>=0.95 disk>=50 cuda>=12.1 verified=true) plus the workflow VRAM, the same for every strategy',
    seeds: SEEDS.length,
    savingsVsCheapestDph: savings('cheapestDph'),
    savingsVsVastCliScore: savings('vastCliScore'),
    savingsVsPreviousDefault: savings('previousDefault'),
    meanJobCostUsd: {pick: mean('pick', 'jobCostUsd'), cheapestDph: mean('cheapestDph', 'jobCostUsd'), vastCliScore: mean('vastCliScore', 'jobCostUsd'), previousDefault: mean('previousDefault', 'jobCostUsd')},
    meanMinutesToLastResult: {pick: mean('pick', 'minutes'), cheapestDph: mean('cheapestDph', 'minutes'), vastCliScore: mean('vastCliScore', 'minutes'), previousDefault: mean('previousDefault', 'minutes')},
    gpuMix: {pick: mix('pick'), cheapestDph: mix('cheapestDph'), vastCliScore: mix('vastCliScore'), previousDefault: mix('previousDefault')},
    searchCallsPerKey: {
      defaultFilter: Object.fromEntries(Object.entries(calls).map(([key, list]) => [key, callStats(list)])),
      looseFilterMatching: round(summarise(looseSizes).mean, 0),
      looseFilter: Object.fromEntries(Object.entries(looseCalls).map(([key, list]) => [key, callStats(list)])),
    },
    perSeed,
  };
}

/**
 * vastdeck before issue 9: the 400 cheapest $/h, ranked by 10 min of compute + 7 GB of models × $/GB
 * (it had no VRAM check; offers below the workflow's VRAM are skipped here so every pick can run the job).
 */
function previousDefault(window, inputs) {
  const cost = offer => (offer.dphTotal * 10) / 60 + 7 * offer.inetDownCostPerGb;
  const usable = window.filter(offer => offer.gpuRamMb >= inputs.minVramGb * 1000);
  return [...usable].sort((a, b) => cost(a) - cost(b) || a.id - b.id)[0];
}

function describe(offer, inputs) {
  const cost = jobCost(offer, inputs);
  return {
    id: offer.id,
    gpu: offer.gpuName,
    dphTotal: offer.dphTotal,
    inetDownMbps: offer.inetDownMbps,
    inetDownCostPerGb: offer.inetDownCostPerGb,
    jobCostUsd: round(cost.jobCostUsd, 5),
    minutes: round(cost.lastResultSec / 60, 2),
  };
}

function countBy(values) {
  const counts = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return Object.fromEntries(Object.entries(counts).sort((a, b) => b[1] - a[1]));
}

function callStats(list) {
  const summary = summarise(list);
  return {mean: round(summary.mean, 2), max: summary.max};
}
