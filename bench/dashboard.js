// Issue 11 figures for the dashboard, each beside its baselines in the same run (`node -e 0` and a
// bare full-screen Ink app, bench/fixtures/bare-ink.js), in a real pty read back through a
// headless xterm:
// - start: time to the first frame of `node bin/vastdeck.js` (demo) and through `npm start` with an
//   unchanged build;
// - idle: CPU and RSS of the idle dashboard over 30 s;
// - load: 8 instances streaming 100 log lines/s each (a bench-only flood, helpers/flood-sim.js),
//   CPU, RSS and keypress-to-screen latency with the Instances pane focused and with a log open;
// - memory: RSS while 1,000,000 lines stream into an open log view.
// The simulated cloud runs in its own process, so the dashboard's figures are its own.
import {fork, spawnSync} from 'node:child_process';
import {mkdtempSync, readFileSync} from 'node:fs';
import {cpus, loadavg, tmpdir} from 'node:os';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import pty from '@lydell/node-pty';
import xtermHeadless from '@xterm/headless';
import {createVastdeckKey} from '../dist/core/ssh/keys.js';
import {cpuMsOf, repeat, round, sleep, summarise} from './lib.js';

const {Terminal} = xtermHeadless;
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'bin', 'vastdeck.js');
const BARE = join(ROOT, 'bench', 'fixtures', 'bare-ink.js');
const COLS = 120;
const ROWS = 40;

const TARGETS = {
  firstFrameMs: 500,
  busyCpuPercent: 15,
  busyRssMb: 200,
  keyP95Ms: 100,
  idleCpuPercent: 2,
};

export async function benchDashboard() {
  const home = mkdtempSync(join(tmpdir(), 'vastdeck-bench-ui-'));
  const env = {...process.env, HOME: home, XDG_CONFIG_HOME: join(home, '.config'), XDG_STATE_HOME: join(home, '.state'), NODE_ENV: 'production', CI: '0'};
  delete env.VAST_API_KEY;
  delete env.VAST_URL;
  await createVastdeckKey(env);
  const results = {machine: machine(), targets: TARGETS};

  results.nodeBaselineMs = stats(await repeat(5, () => timeProcess(['-e', '0'])));
  results.firstFrame = {
    bareInkMs: stats(await repeat(5, () => firstFrame([BARE], env))),
    dashboardMs: stats(await repeat(5, () => firstFrame([BIN, '--demo'], env))),
    // The first frame is the layout with what is starting; the ranked offers follow once the
    // simulated cloud, the settings and the first search are done.
    rankedOffersMs: stats(await repeat(5, () => firstFrame([BIN, '--demo'], env, false, text => /\$\d/.test(text) && text.includes('1 Offers')))),
    npmStartMs: stats(await repeat(3, () => firstFrame(['npm', 'start', '--silent', '--', '--demo'], env, true))),
  };
  results.idle = {
    bareInk: await idle([BARE], env, 30_000),
    // In demo mode the simulated cloud runs inside the dashboard's process, so its timers count too.
    dashboard: await idle([BIN, '--demo'], env, 30_000),
    // The dashboard alone: live against the simulator in its own process (as against Vast.ai).
    dashboardLive: await idleLive(env, 30_000),
  };
  results.load = await underLoad(env, {instances: 8, linesPerSec: 100, windowMs: 20_000, keys: 30});
  results.memory = await memoryOverLines(env, {instances: 8, linesPerSec: 1000, totalLines: 1_000_000});
  results.machine.loadAfter = loadavg().map(value => round(value));
  return results;
}

function machine() {
  return {cpus: cpus().length, model: cpus()[0]?.model, node: process.version, loadBefore: loadavg().map(value => round(value)), note: 'shared 2-core machine: other work runs beside the bench, so figures are noisy; run it more than once'};
}

function stats(samples) {
  const summary = summarise(samples);
  return {median: round(summary.median), p95: round(summary.p95), min: round(summary.min), n: summary.n};
}

function timeProcess(args) {
  const start = performance.now();
  spawnSync(process.execPath, args);
  return performance.now() - start;
}

function rssMbOf(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

/** A program in a 120×40 pty, its screen kept by a headless xterm. */
function startTerminal(args, env, {viaNpm = false} = {}) {
  const terminal = new Terminal({cols: COLS, rows: ROWS, allowProposedApi: true});
  const [file, argv] = viaNpm ? ['npm', args.slice(1)] : [process.execPath, args];
  const child = pty.spawn(file, argv, {name: 'xterm-256color', cols: COLS, rows: ROWS, cwd: ROOT, env});
  const watchers = new Set();
  child.onData(data => terminal.write(data, () => {
    for (const watcher of [...watchers]) watcher();
  }));
  const exited = new Promise(resolve => child.onExit(resolve));
  const screen = () => {
    const buffer = terminal.buffer.active;
    const lines = [];
    for (let row = 0; row < ROWS; row++) lines.push(buffer.getLine(buffer.viewportY + row)?.translateToString(true) ?? '');
    return lines.join('\n');
  };
  /** Resolves with the ms from now until the screen (after a parsed write) satisfies `check`. */
  const until = (check, timeoutMs = 30_000) =>
    new Promise((resolve, reject) => {
      const start = performance.now();
      const watcher = () => {
        if (!check(screen())) return;
        watchers.delete(watcher);
        clearTimeout(timer);
        resolve(performance.now() - start);
      };
      const timer = setTimeout(() => {
        watchers.delete(watcher);
        reject(new Error(`timed out; screen:\n${screen()}`));
      }, timeoutMs);
      watchers.add(watcher);
      watcher();
    });
  return {child, screen, until, exited, write: data => child.write(data)};
}

async function quit(session) {
  session.write('q');
  await Promise.race([session.exited, sleep(3000)]);
  await sleep(100);
  try {
    process.kill(session.child.pid, 'SIGKILL');
  } catch {}
  await session.exited;
}

async function firstFrame(args, env, viaNpm = false, drawn = text => text.includes('1 Offers')) {
  const start = performance.now();
  const session = startTerminal(args, env, {viaNpm});
  await session.until(drawn);
  const ms = performance.now() - start;
  await quit(session);
  return ms;
}

/** The node process in the pty: npm's child when started through npm. */
function measuredPid(session) {
  return session.child.pid;
}

async function idle(args, env, windowMs) {
  const session = startTerminal(args, env);
  await session.until(text => text.includes('1 Offers'));
  await sleep(5000);
  const pid = measuredPid(session);
  const before = cpuMsOf(pid);
  const start = performance.now();
  await sleep(windowMs);
  const cpuPercent = ((cpuMsOf(pid) - before) / (performance.now() - start)) * 100;
  const rssMb = rssMbOf(pid);
  await quit(session);
  return {cpuPercent: round(cpuPercent), rssMb: round(rssMb, 0), windowMs};
}

async function idleLive(env, windowMs) {
  const sim = startFloodSim();
  const {baseUrl, apiKey} = await sim.ready;
  try {
    return await idle([BIN], {...env, VAST_URL: baseUrl, VAST_API_KEY: apiKey}, windowMs);
  } finally {
    await sim.stop();
  }
}

function startFloodSim() {
  const child = fork(fileURLToPath(new URL('./helpers/flood-sim.js', import.meta.url)), {stdio: ['ignore', 'inherit', 'inherit', 'ipc']});
  const ready = new Promise(resolve => child.once('message', message => resolve(message.ready)));
  const count = () =>
    new Promise(resolve => {
      child.once('message', message => resolve(message.appended));
      child.send({count: true});
    });
  return {child, ready, flood: linesPerSec => child.send({flood: {linesPerSec}}), count, stop: () => new Promise(resolve => (child.once('exit', resolve), child.send({stop: true})))};
}

/** The dashboard (LIVE, against the flood simulator) with `instances` rented from the keyboard and READY. */
export async function fleetDashboard(env, instances, nodeArgs = []) {
  const sim = startFloodSim();
  const {baseUrl, apiKey} = await sim.ready;
  const session = startTerminal([...nodeArgs, BIN], {...env, VAST_URL: baseUrl, VAST_API_KEY: apiKey});
  await session.until(text => /\$\d/.test(text) && text.includes('1 Offers'));
  for (let index = 0; index < instances; index++) {
    session.write('1');
    await sleep(200);
    session.write('j');
    await sleep(200);
    session.write('c');
    await session.until(text => text.includes('Rent this offer?'));
    session.write('y');
    await session.until(text => !text.includes('Rent this offer?'));
    await sleep(500);
  }
  await session.until(text => (text.match(/✓ READY/g) ?? []).length >= instances, 240_000);
  return {sim, session};
}

/** The 8-digit id in the Instances pane's selected-instance line. */
const selectedInstance = text => /^[┃│] (\d{8}) · /m.exec(text)?.[1];

async function measureKeys(session, {keys, press}) {
  const latencies = [];
  for (let index = 0; index < keys; index++) {
    const {key, check} = press(index);
    const start = performance.now();
    session.write(key);
    await session.until(check, 10_000);
    latencies.push(performance.now() - start);
    await sleep(300 + (index % 5) * 40);
  }
  return latencies;
}

async function window(session, windowMs, during) {
  const pid = measuredPid(session);
  const before = cpuMsOf(pid);
  const start = performance.now();
  const [latencies] = await Promise.all([during(), sleep(windowMs)]);
  const cpuPercent = ((cpuMsOf(pid) - before) / (performance.now() - start)) * 100;
  const key = summarise(latencies);
  return {cpuPercent: round(cpuPercent), rssMb: round(rssMbOf(pid), 0), keyMs: {median: round(key.median), p95: round(key.p95), max: round(key.max), n: key.n}};
}

export async function underLoad(env, {instances, linesPerSec, windowMs, keys}) {
  const {sim, session} = await fleetDashboard(env, instances);
  try {
    session.write('2');
    await sleep(300);
    session.write('g');
    await sleep(300);
    const ids = [selectedInstance(session.screen())];
    session.write('j');
    await session.until(text => selectedInstance(text) !== ids[0]);
    ids.push(selectedInstance(session.screen()));
    sim.flood(linesPerSec);
    await sleep(3000);
    const appendedBefore = await sim.count();
    const started = performance.now();
    const instancesPane = await window(session, windowMs, () =>
      measureKeys(session, {keys, press: index => ({key: index % 2 === 0 ? 'k' : 'j', check: text => selectedInstance(text) === ids[index % 2 === 0 ? 0 : 1]})}),
    );
    session.write('\r');
    await session.until(text => text.includes('── Log ·'));
    await sleep(2000);
    const logView = await window(session, windowMs, () =>
      measureKeys(session, {keys, press: index => ({key: 'w', check: text => text.includes(index % 2 === 0 ? '· wrap ·' : '· cut ·')})}),
    );
    const linesPerSecond = ((await sim.count()) - appendedBefore) / ((performance.now() - started) / 1000);
    return {instances, linesPerSecTotal: round(linesPerSecond, 0), instancesPane, logView};
  } finally {
    session.child.kill('SIGKILL');
    await session.exited;
    await sim.stop();
  }
}

export async function memoryOverLines(env, {instances, linesPerSec, totalLines}) {
  const {sim, session} = await fleetDashboard(env, instances);
  const samples = [];
  try {
    session.write('2');
    await sleep(300);
    session.write('\r');
    await session.until(text => text.includes('── Log ·'));
    sim.flood(linesPerSec);
    const start = performance.now();
    for (;;) {
      await sleep(5000);
      const lines = await sim.count();
      samples.push({lines, rssMb: round(rssMbOf(measuredPid(session)), 0), seconds: round((performance.now() - start) / 1000, 0)});
      if (lines >= totalLines || performance.now() - start > 600_000) break;
    }
  } finally {
    session.child.kill('SIGKILL');
    await session.exited;
    await sim.stop();
  }
  const at = fraction => samples.find(sample => sample.lines >= totalLines * fraction) ?? samples.at(-1);
  return {
    linesStreamed: samples.at(-1)?.lines,
    rssMbAt: {'100k': at(0.1)?.rssMb, '250k': at(0.25)?.rssMb, '500k': at(0.5)?.rssMb, '750k': at(0.75)?.rssMb, '1M': at(1)?.rssMb},
    growthMbFrom250kTo1M: (at(1)?.rssMb ?? 0) - (at(0.25)?.rssMb ?? 0),
    samples,
  };
}

/** The figures next to their targets and baselines, for the console and the README. */
export function summaryLines(results) {
  const load = results.load;
  return [
    `machine: ${results.machine.cpus}× ${results.machine.model}, Node ${results.machine.node}, load ${results.machine.loadBefore.join('/')} → ${results.machine.loadAfter.join('/')}`,
    `first frame: dashboard ${results.firstFrame.dashboardMs.median} ms (target ≤ ${TARGETS.firstFrameMs}), ranked offers on screen ${results.firstFrame.rankedOffersMs.median} ms, npm start ${results.firstFrame.npmStartMs.median} ms, bare Ink ${results.firstFrame.bareInkMs.median} ms, node -e 0 ${results.nodeBaselineMs.median} ms`,
    `idle: dashboard alone (live against a simulator in its own process) ${results.idle.dashboardLive.cpuPercent}% / ${results.idle.dashboardLive.rssMb} MB (target ≤ ${TARGETS.idleCpuPercent}%), demo (simulator in the same process) ${results.idle.dashboard.cpuPercent}% / ${results.idle.dashboard.rssMb} MB, bare Ink ${results.idle.bareInk.cpuPercent}% / ${results.idle.bareInk.rssMb} MB`,
    `${load.instances} instances × ${Math.round(load.linesPerSecTotal / load.instances)} lines/s, Instances pane: ${load.instancesPane.cpuPercent}% / ${load.instancesPane.rssMb} MB, key p95 ${load.instancesPane.keyMs.p95} ms (targets ≤ ${TARGETS.busyCpuPercent}%, ≤ ${TARGETS.busyRssMb} MB, ≤ ${TARGETS.keyP95Ms} ms)`,
    `same load, log view open: ${load.logView.cpuPercent}% / ${load.logView.rssMb} MB, key p95 ${load.logView.keyMs.p95} ms`,
    `memory: RSS ${Object.entries(results.memory.rssMbAt).map(([lines, mb]) => `${lines} lines ${mb} MB`).join(', ')} (growth 250k→1M: ${results.memory.growthMbFrom250kTo1M} MB)`,
  ];
}
