// The Queue pane as a user sees it: each job state in the table (spinner, the progress bar with the
// node and its steps, the error of a failed job, attempts), the counts and the policy line, the
// warning when jobs wait without a READY instance, the empty state, and the job keys: x cancels
// (asking first for a running job), r retries, Enter opens the detail, o the outputs, C clears.
import {cleanup} from 'ink-testing-library';
import {afterEach, describe, expect, it} from 'vitest';
import {App} from '../../source/ui/App.js';
import {makeDeck, makeOffers, type TestDeck} from './fixtures.js';
import {frame, KEYS, press, renderAt, sleep, waitForText, type Rendered} from './helpers.js';
import {makeJob, TestQueue} from './queue-fixtures.js';

const decks: TestDeck[] = [];
afterEach(() => {
  cleanup();
  for (const deck of decks.splice(0)) deck.close();
});

async function open(queue: TestQueue, size = {columns: 160, rows: 40}): Promise<{app: Rendered; deck: TestDeck}> {
  const deck = makeDeck(makeOffers(5), {queue});
  decks.push(deck);
  const app = await renderAt(<App deck={deck} onQuit={() => {}} />, size);
  await waitForText(app, 'Offer 1 ·');
  await press(app, '3');
  return {app, deck};
}

/** The table line of a job (found by its short id, the last 6 characters of its id). */
function jobLine(text: string, id: string): string {
  return text.split('\n').find(line => line.includes(` ${id.slice(-6)} `)) ?? '';
}

const running = makeJob('running', {
  progress: {nodeId: '6', nodeTitle: 'KSampler', value: 12, max: 20, nodesDone: 3, nodesTotal: 7},
  attempts: 2,
  nodes: [
    {id: '1', title: 'Load Checkpoint', state: 'cached'},
    {id: '2', title: 'Load Image', state: 'done'},
    {id: '6', title: 'KSampler', state: 'running'},
    {id: '8', title: 'VAE Decode', state: 'pending'},
  ],
  seed: 424242,
});
const queued = makeJob('queued');
const failed = makeJob('failed', {attempts: 3, error: 'ComfyUI refused the prompt: cfg 99 is above 30.', finishedAtMs: Date.now() - 5_000});
const done = makeJob('done', {
  outputs: ['/home/u/vastdeck-outputs/20260914/ComfyUI_00001_.png', '/home/u/vastdeck-outputs/20260914/ComfyUI_00002_.png'],
  outputDir: '/home/u/vastdeck-outputs/20260914',
  finishedAtMs: Date.now() - 10_000,
});
const cancelled = makeJob('cancelled', {error: 'Cancelled by the user.', finishedAtMs: Date.now() - 1_000});

function fullQueue(): TestQueue {
  return new TestQueue([running, queued, failed, done, cancelled], 1);
}

describe('queue table', () => {
  it('shows each state: the progress bar with node and steps, attempts, the failed error, outputs; counts and policy in the header', async () => {
    const {app} = await open(fullQueue());
    const text = await waitForText(app, 'KSampler 12/20');
    expect(jobLine(text, running.id)).toMatch(/[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] running +█+░+ KSampler 12\/20 +26001234 +1m2\ds +×2/);
    expect(jobLine(text, queued.id)).toContain('… queued');
    expect(jobLine(text, queued.id)).toContain('waiting for a free instance');
    expect(jobLine(text, failed.id)).toContain('✗ failed');
    expect(jobLine(text, failed.id)).toContain('ComfyUI refused the prompt: cfg 99 is above 30.');
    expect(jobLine(text, failed.id)).toContain('×3');
    expect(jobLine(text, done.id)).toContain('2 files in /home/u/vastdeck-outputs/20260914');
    expect(jobLine(text, cancelled.id)).toContain('· cancelled');
    expect(text).toContain('3 Queue 1 queued · 1 running · 1 done · 1 failed · 1 READY instance');
    expect(text).toContain('auto-destroy: drained on · idle 15 min · cap $5.00 (spent $1.23)');
    expect(text).toContain(`job ${running.id.slice(-6)} · "a cat in a hat" · seed 424242`);
  });

  it('says there is no READY instance when jobs wait and none is ready', async () => {
    const queue = new TestQueue([makeJob('queued')], 0);
    const {app} = await open(queue);
    const text = await waitForText(app, 'no READY instance — rent one in Offers (c)');
    expect(text).toContain('waiting for a READY instance');
    queue.set({readyInstances: 1});
    await waitForText(app, 'waiting for a free instance');
    expect(frame(app)).not.toContain('no READY instance');
  });

  it('has an honest empty state', async () => {
    const {app} = await open(new TestQueue([], 0));
    expect(frame(app).replace(/[│┃]\s*\n[┃│]\s*/g, ' ')).toContain('No jobs. Press a to add one (input image + prompt + workflow).');
  });

  it('moves the selection with j/k, G and g, and keeps it on the same job when the list changes', async () => {
    const queue = fullQueue();
    const {app} = await open(queue);
    expect(await press(app, 'j')).toContain(`job ${queued.id.slice(-6)} ·`);
    expect(await press(app, 'G')).toContain(`job ${cancelled.id.slice(-6)} ·`);
    expect(await press(app, 'g')).toContain(`job ${running.id.slice(-6)} ·`);
    await press(app, 'j');
    const added = makeJob('queued');
    queue.set({jobs: [added, ...queue.getSnapshot().jobs]});
    await waitForText(app, ` ${added.id.slice(-6)} `);
    expect(frame(app)).toContain(`job ${queued.id.slice(-6)} ·`);
  });

  it('fits 80×24 with jobs and the queue focused', async () => {
    const {app} = await open(fullQueue(), {columns: 80, rows: 24});
    const text = await waitForText(app, 'KSampler');
    const lines = text.split('\n');
    expect(lines).toHaveLength(23);
    for (const line of lines) expect([...line].length).toBeLessThanOrEqual(80);
    expect(jobLine(text, running.id)).toContain('running');
  });
});

describe('job keys', () => {
  it('x cancels a queued job at once', async () => {
    const queue = fullQueue();
    const {app} = await open(queue);
    await press(app, 'j');
    await press(app, 'x');
    expect(queue.cancelled).toEqual([queued.id]);
    expect(await waitForText(app, `Job ${queued.id.slice(-6)} cancelled.`)).not.toContain('Cancel job');
  });

  it('x on a running job asks first; Keep it is the default, so Enter right away cancels nothing; y cancels', async () => {
    const queue = fullQueue();
    const {app} = await open(queue);
    const dialog = await press(app, 'x');
    expect(dialog).toContain(`Cancel job ${running.id.slice(-6)}?`);
    expect(dialog).toContain('It is running on instance 26001234 (KSampler 12/20).');
    expect(dialog).toContain('[ Keep it (n) ]');
    await press(app, KEYS.enter);
    await sleep(30);
    expect(queue.cancelled).toEqual([]);
    await press(app, 'x');
    await press(app, 'y');
    expect(queue.cancelled).toEqual([running.id]);
  });

  it('x on a finished job and r on a running one say why they did nothing', async () => {
    const queue = fullQueue();
    const {app} = await open(queue);
    await press(app, 'r');
    expect(await waitForText(app, 'only failed or cancelled jobs can be retried')).toContain(`Job ${running.id.slice(-6)} is running`);
    await press(app, 'G');
    await press(app, 'x');
    await waitForText(app, `Job ${cancelled.id.slice(-6)} is cancelled: there is nothing to cancel.`);
    expect(queue.retried).toEqual([]);
    expect(queue.cancelled).toEqual([]);
  });

  it('r retries a failed job', async () => {
    const queue = fullQueue();
    const {app} = await open(queue);
    await press(app, 'j');
    await press(app, 'j');
    await press(app, 'r');
    expect(queue.retried).toEqual([failed.id]);
    await waitForText(app, `Job ${failed.id.slice(-6)} is queued again.`);
    expect(jobLine(frame(app), failed.id)).toContain('… queued');
  });

  it('Enter opens the detail with each node and its state, settings, seed, instance and outputs; Esc returns', async () => {
    const queue = fullQueue();
    const {app} = await open(queue, {columns: 120, rows: 40});
    const detail = await press(app, KEYS.enter);
    expect(detail).toContain(`3 Queue › job ${running.id.slice(-6)}`);
    expect(detail).not.toContain('1 Offers sort');
    expect(detail).toMatch(/RUNNING for 1m2\ds · instance 26001234 · attempt 2/);
    expect(detail).toContain('KSampler 12/20 · 3 of 7 nodes done');
    expect(detail).toMatch(/↺ cached +Load Checkpoint \(1\)/);
    expect(detail).toMatch(/✓ done +Load Image \(2\)/);
    expect(detail).toMatch(/[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] running +KSampler \(6\)/);
    expect(detail).toMatch(/· pending +VAE Decode \(8\)/);
    expect(detail).toContain('Prompt    a cat in a hat');
    expect(detail).toContain('Seed      424242');
    expect(detail).toContain('Image     /tmp/cat.png');
    expect(detail).toContain('steps 20');
    const list = await press(app, KEYS.escape);
    expect(list).toContain('1 Offers sort');

    await press(app, 'G');
    await press(app, 'k');
    const outputs = await press(app, KEYS.enter);
    expect(outputs).toContain('Outputs (2) in /home/u/vastdeck-outputs/20260914');
    expect(outputs).toContain('/home/u/vastdeck-outputs/20260914/ComfyUI_00002_.png');
  });

  it('o opens the outputs and puts the folder in the message line, in the list and in the detail', async () => {
    const queue = fullQueue();
    const {app} = await open(queue);
    await press(app, 'G');
    await press(app, 'k');
    await press(app, 'o');
    expect(queue.opened).toEqual([done.id]);
    await waitForText(app, `Outputs of job ${done.id.slice(-6)}: /home/u/vastdeck-outputs/20260914`);
    await press(app, 'g');
    await press(app, KEYS.enter);
    await press(app, 'o');
    expect(queue.opened).toEqual([done.id, running.id]);
    await waitForText(app, `Job ${running.id.slice(-6)} has no outputs yet.`);
  });

  it('C clears the done and cancelled jobs', async () => {
    const queue = fullQueue();
    const {app} = await open(queue);
    await press(app, 'C');
    expect(queue.cleared).toBe(1);
    const text = await waitForText(app, 'Cleared 2 finished jobs from the list; their outputs stay on disk.');
    expect(jobLine(text, done.id)).toBe('');
    expect(jobLine(text, failed.id)).toContain('failed');
  });
});
