// Bench-only: the simulated Vast.ai cloud in its own process (so the dashboard's CPU is measured
// alone), with a log flood the simulator itself has no knob for: it appends numbered lines to every
// running instance's ComfyUI log at a given rate, as a busy ComfyUI would. Driven over IPC by
// bench/dashboard.js: {flood: {linesPerSec}} starts or changes the rate (0 stops), {count} answers
// {appended}, {stop} closes the cloud.
import {startSimCloud} from '../../dist/sim/cloud.js';

const LOG = '/var/log/portal/comfyui.log';
const TICK_MS = 50;

const sim = await startSimCloud({port: 0, rateLimitScale: 0, churnIntervalMs: 0, speed: Number(process.env.BENCH_SIM_SPEED ?? 50)});
let perInstancePerSec = 0;

/** What a busy ComfyUI writes: tqdm sampler bars (with their block characters) between plain log lines. */
function floodLine(n) {
  const step = (n % 30) + 1;
  if (n % 3 === 0) {
    const filled = Math.round((step / 30) * 10);
    return `${String(Math.round((step / 30) * 100)).padStart(3)}%|${'█'.repeat(filled)}${' '.repeat(10 - filled)}| ${step}/30 [00:0${n % 9}<00:04, 5.${n % 10}0it/s]\n`;
  }
  return `${new Date().toISOString().slice(11, 23)} [INFO] prompt ${n}: executed node ${n % 17} (KSampler) in ${(n % 97) / 10}s, queue ${n % 4}\n`;
}
let appended = 0;
let carry = 0;

setInterval(() => {
  if (perInstancePerSec === 0) return;
  const ids = sim.instances.list().map(instance => Number(instance.id));
  const hosts = ids.map(id => sim.instances.hostOf(id)).filter(host => host !== undefined);
  carry += (perInstancePerSec * TICK_MS) / 1000;
  const lines = Math.floor(carry);
  carry -= lines;
  for (const host of hosts) {
    let chunk = '';
    for (let index = 0; index < lines; index++) {
      appended++;
      chunk += floodLine(appended);
    }
    host.fs.append(LOG, chunk);
  }
}, TICK_MS).unref();

process.on('message', async message => {
  if (message.flood) perInstancePerSec = message.flood.linesPerSec;
  if (message.count) process.send({appended});
  if (message.stop) await closeAndExit();
});
// The bench went away: so does the cloud.
process.on('disconnect', closeAndExit);

async function closeAndExit() {
  await Promise.race([sim.close(), new Promise(resolve => setTimeout(resolve, 5000))]);
  process.exit(0);
}
process.send({ready: {baseUrl: sim.baseUrl, apiKey: sim.apiKey}});
