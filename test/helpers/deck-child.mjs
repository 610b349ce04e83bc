// A dashboard Deck (the built one, dist/) in a child process, for tests that kill vastdeck the hard
// way: it connects to VAST_URL with VAST_API_KEY, rents DECK_RENT instances one after the other,
// waits until every one is READY, runs one job of DECK_JOB_IMAGE through the queue, waits until the
// job's outputs are on its instance's autostop list, prints one JSON line
// {"ready": [ids], "job": {"instanceId", "outputs"}} and keeps running (heartbeats and all) until killed.
import {Deck} from '../../dist/core/deck.js';
import {buildOfferSearch} from '../../dist/core/offers/search.js';
import {buildContext} from '../../dist/core/usecases/context.js';
import {findOffers} from '../../dist/core/usecases/rent.js';
import {addJobs} from '../../dist/core/usecases/run-jobs.js';

const env = process.env;
const ctx = buildContext({
  mode: 'live',
  baseUrl: env.VAST_URL,
  apiKey: env.VAST_API_KEY,
  detail: 'deck-child',
  speed: Number(env.DECK_SPEED ?? '1'),
  stateDir: env.DECK_STATE_DIR,
  clientOptions: {pacingScale: 0},
});
const deck = new Deck(ctx, {fleetPollMs: {busy: 150, idle: 300}, onstartPollMs: {marker: 200, list: 300}}).start();
const settled = () => new Promise(resolve => setTimeout(resolve, 50));
const rows = () => deck.fleetModel.getSnapshot().rows.filter(row => row.ledgerState === 'active');

for (let index = 0; index < Number(env.DECK_RENT ?? '2'); index++) {
  const offers = await findOffers(ctx, buildOfferSearch(env.DECK_FILTER ?? 'gpu=RTX_4090', ctx.settings()), 'cost');
  await deck.fleet.create(offers.slice(0, 5));
}
while (rows().length < Number(env.DECK_RENT ?? '2') || rows().some(row => row.stage.stage !== 'READY')) {
  const failed = rows().find(row => row.stage.stage === 'FAILED');
  if (failed) throw new Error(`instance ${failed.instanceId} FAILED: ${failed.stage.failure?.reason}`);
  await settled();
}
const [job] = await addJobs(deck.generations, {workflow: 'img2img-sdxl', imagePath: env.DECK_JOB_IMAGE, prompt: 'a fox in snow', steps: 4, width: 128, height: 128}, 1);
let done;
while (!(done = deck.generations.getSnapshot().jobs.find(candidate => candidate.id === job.id && candidate.state === 'done'))) await settled();
// The queue hands the outputs to the heartbeat as the job ends; the flush waits for their hashes and the beat.
await settled();
const watch = deck.fleetModel.watchOf(done.instanceKey);
while (!(await watch.heartbeat.flush())) await settled();
process.stdout.write(`${JSON.stringify({ready: rows().map(row => row.instanceId), job: {instanceId: done.instanceId, outputs: done.outputs}})}\n`);
setInterval(() => {}, 60_000);
