// Issue 2 figures: ranking cost, `vastdeck offers --json` end to end, time to the dashboard's
// first frame, and CPU of the idle dashboard while it refreshes offers live.
import {spawn} from 'node:child_process';
import {mkdtempSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import pty from '@lydell/node-pty';
import {Market} from '../dist/sim/market.js';
import {startSimCloud} from '../dist/sim/cloud.js';
import {parseOffersAnswer} from '../dist/core/vast/parse.js';
import {rankOffers} from '../dist/core/offers/rank.js';
import {jobCostInputs} from '../dist/core/offers/job-inputs.js';
import {DEFAULT_SETTINGS} from '../dist/core/settings.js';
import {cpuMsOf, repeat, round, sleep, summarise} from './lib.js';

const BIN = fileURLToPath(new URL('../bin/vastdeck.js', import.meta.url));

export async function benchOffers() {
  const results = {};

  const market = new Market({seed: 1, offers: 10_000});
  const offers = parseOffersAnswer({offers: market.all()});
  const inputs = await jobCostInputs(DEFAULT_SETTINGS);
  rankOffers(offers, inputs, 'cost');
  const rankMs = await repeat(30, () => {
    const start = performance.now();
    rankOffers(offers, inputs, 'cost');
    return performance.now() - start;
  });
  results.rank10kOffersMs = stats(rankMs);

  const sim = await startSimCloud({port: 0, rateLimitScale: 0, churnIntervalMs: 5000});
  const home = mkdtempSync(join(tmpdir(), 'vastdeck-bench-'));
  const env = {...process.env, HOME: home, XDG_CONFIG_HOME: join(home, '.config'), XDG_STATE_HOME: join(home, '.state'), VAST_URL: sim.baseUrl, VAST_API_KEY: sim.apiKey, NODE_ENV: 'production'};
  try {
    const offersJsonMs = await repeat(7, () => timeCommand(['offers', '--json', '--limit', '20'], env));
    results.offersJsonEndToEndMs = stats(offersJsonMs);
    // The baseline: the official vast-cli's `search offers --raw` on the same market, fetching
    // the 400 offers vastdeck's first query fetches (searchLimit). vast.py is not shipped here: point
    // VASTDECK_BENCH_VAST_PY at a copy (github.com/vast-ai/vast-cli, vast.py; needs python3 + requests).
    const vastPy = process.env.VASTDECK_BENCH_VAST_PY;
    if (vastPy) {
      const pyMs = [];
      const oursMs = [];
      for (let run = 0; run < 7; run++) {
        pyMs.push(await timeProgram('python3', [vastPy, '--api-key', sim.apiKey, 'search', 'offers', '--limit', String(DEFAULT_SETTINGS.searchLimit), '--raw'], env));
        oursMs.push(await timeCommand(['offers', '--json', '--limit', '20'], env));
      }
      results.vastCliSearchRawMs = stats(pyMs);
      results.offersJsonBesideVastCliMs = stats(oursMs);
      results.offersJsonOverVastCli = round(results.offersJsonBesideVastCliMs.median / results.vastCliSearchRawMs.median);
    }

    const frames = await repeat(5, () => timeFirstFrame(env));
    results.dashboardFirstFrameMs = stats(frames.map(frame => frame.firstFrameMs));
    results.dashboardOffersShownMs = stats(frames.map(frame => frame.offersMs));

    results.idleDashboardCpuPercent = await idleCpu(env, 30_000);
  } finally {
    await sim.close();
  }
  return results;
}

function stats(samples) {
  const summary = summarise(samples);
  return {median: round(summary.median), p95: round(summary.p95), min: round(summary.min), n: summary.n};
}

function timeCommand(args, env) {
  return timeProgram(process.execPath, [BIN, ...args], env);
}

/** Wall time of one run of a program whose stdout is JSON (checked, so a failed run is not timed as a fast one). */
function timeProgram(program, args, env) {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(program, args, {env, stdio: ['ignore', 'pipe', 'pipe']});
    let stdout = '';
    child.stdout.on('data', chunk => (stdout += chunk));
    child.on('close', code => {
      if (code !== 0) return reject(new Error(`${program} ${args.join(' ')} exited ${code}`));
      JSON.parse(stdout);
      resolve(performance.now() - start);
    });
  });
}

function startDashboard(env) {
  const child = pty.spawn(process.execPath, [BIN], {name: 'xterm-256color', cols: 120, rows: 32, env});
  let output = '';
  child.onData(data => (output += data));
  return {child, output: () => output};
}

async function timeFirstFrame(env) {
  const start = performance.now();
  const {child, output} = startDashboard(env);
  let firstFrameMs;
  let offersMs;
  while (performance.now() - start < 20_000 && offersMs === undefined) {
    await sleep(5);
    const text = output();
    if (firstFrameMs === undefined && text.includes('Offers')) firstFrameMs = performance.now() - start;
    if (/\$\d+\.\d+/.test(text) && /RTX|H100|A100|L40S|H200/.test(text)) offersMs = performance.now() - start;
  }
  child.write('q');
  await new Promise(resolve => child.onExit(resolve));
  return {firstFrameMs, offersMs};
}

async function idleCpu(env, windowMs) {
  const {child, output} = startDashboard(env);
  const start = performance.now();
  while (!/RTX|H100|A100|L40S|H200/.test(output()) && performance.now() - start < 20_000) await sleep(50);
  await sleep(2000);
  const cpuBefore = cpuMsOf(child.pid);
  const wallBefore = performance.now();
  await sleep(windowMs);
  const cpuAfter = cpuMsOf(child.pid);
  const wall = performance.now() - wallBefore;
  child.write('q');
  await new Promise(resolve => child.onExit(resolve));
  return {percentOfOneCore: round(((cpuAfter - cpuBefore) / wall) * 100), windowMs, refreshSeconds: DEFAULT_SETTINGS.refreshSeconds};
}

/** The figures beside their targets (issue 11: `offers --json` ≤ 0.4× vast-cli's `search offers --raw`). */
export function offersSummaryLines(results) {
  const lines = [`ranking 10,000 offers: median ${results.rank10kOffersMs.median} ms; \`vastdeck offers --json\` end to end: median ${results.offersJsonEndToEndMs.median} ms`];
  if (results.offersJsonOverVastCli === undefined) lines.push('beside vast-cli: not measured (set VASTDECK_BENCH_VAST_PY to a copy of vast.py)');
  else lines.push(`beside vast-cli: vastdeck ${results.offersJsonBesideVastCliMs.median} ms, vast.py search offers --raw ${results.vastCliSearchRawMs.median} ms: ${results.offersJsonOverVastCli}× (target ≤ 0.4×)`);
  return lines;
}
