// The add-job form (a in the Queue pane): only the fields the chosen workflow binds, prefilled
// with its defaults and showing their ranges; broken workflows listed but not selectable; Tab
// completion of the image path; the shape check of numbers; add()'s sentence keeping the form
// open; and a successful add with the spec and count the user typed.
import {cleanup} from 'ink-testing-library';
import {afterEach, describe, expect, it} from 'vitest';
import {App} from '../../source/ui/App.js';
import {makeDeck, makeOffers, type TestDeck} from './fixtures.js';
import {frame, KEYS, press, renderAt, sleep, typeText, waitForFrame, waitForText, type Rendered} from './helpers.js';
import {TestQueue} from './queue-fixtures.js';

const decks: TestDeck[] = [];
afterEach(() => {
  cleanup();
  for (const deck of decks.splice(0)) deck.close();
});

async function openForm(queue: TestQueue, size = {columns: 120, rows: 32}): Promise<Rendered> {
  const deck = makeDeck(makeOffers(5), {queue});
  decks.push(deck);
  const app = await renderAt(<App deck={deck} onQuit={() => {}} />, size);
  await waitForText(app, 'Offer 1 ·');
  await press(app, '3');
  await press(app, 'a');
  await waitForText(app, 'Width');
  return app;
}

/** The form row of a field (its label starts the row inside the dialog's border). */
function row(text: string, label: string): string {
  return text.split('\n').find(line => new RegExp(`┃[ ▸] ${label} `).test(line)) ?? '';
}

/** Move the focus down `count` fields. */
async function down(app: Rendered, count: number): Promise<void> {
  for (let step = 0; step < count; step++) await press(app, KEYS.down, 60);
}

describe('add-job form', () => {
  it('prefills the bound fields with the workflow defaults and ranges, and lists broken workflows without offering them', async () => {
    const app = await openForm(new TestQueue());
    const text = frame(app);
    expect(text).toContain('Add a generation job');
    expect(row(text, 'Workflow')).toContain('‹ img2img-sdxl ›');
    expect(text).toContain('Image to image with SDXL.');
    expect(text).toContain('✗ broken-flow (broken, not selectable): node 7 has no class_type');
    expect(row(text, 'Steps')).toMatch(/Steps +20 +1–150/);
    expect(row(text, 'CFG')).toMatch(/CFG +6\.5 +0–30/);
    expect(row(text, 'Denoise')).toMatch(/Denoise +0\.6 +0–1/);
    expect(row(text, 'Width')).toMatch(/Width +1024 +64–4096/);
    expect(row(text, 'Negative')).toContain('blurry, low quality');
    expect(row(text, 'Seed')).toMatch(/Seed +random +blank = random/);
    expect(row(text, 'Count')).toMatch(/Count +1 /);
    expect(row(text, 'Frames')).toBe('');

    // → picks the next usable workflow (img2vid binds frames); the broken one is skipped both ways.
    const video = await press(app, KEYS.right);
    expect(row(video, 'Workflow')).toContain('‹ img2vid ›');
    expect(row(await waitForText(app, 'Frames'), 'Frames')).toMatch(/Frames +16 +1–64/);
    const back = await press(app, KEYS.right);
    expect(row(back, 'Workflow')).toContain('‹ img2img-sdxl ›');
    expect(row(await press(app, KEYS.left), 'Workflow')).toContain('‹ img2vid ›');
  });

  it('Tab completes the image path: one match completes, a folder descends, several are listed', async () => {
    const queue = new TestQueue();
    queue.files = ['/tmp/pics/', '/tmp/pics/cat.png', '/tmp/pics/cats/', '/tmp/pics/dog.png', '/tmp/other.txt'];
    const app = await openForm(queue);
    await down(app, 1);
    await typeText(app, '/tmp/pi');
    expect(row(await press(app, KEYS.tab), 'Image path')).toContain('/tmp/pics/');
    expect(queue.completions).toEqual(['/tmp/pi']);

    const listed = await press(app, KEYS.tab);
    expect(listed).toContain('3 matches: cat.png  cats/  dog.png');
    expect(row(listed, 'Image path')).toContain('/tmp/pics/');

    await typeText(app, 'ca');
    const common = await press(app, KEYS.tab);
    expect(row(common, 'Image path')).toContain('/tmp/pics/cat');
    expect(common).toContain('2 matches: cat.png  cats/');
    await typeText(app, '.');
    const single = await press(app, KEYS.tab);
    expect(row(single, 'Image path')).toContain('/tmp/pics/cat.png');
    expect(single).not.toContain('matches:');
    // A whole file path: Tab goes on to the next field.
    expect(await press(app, KEYS.tab)).toMatch(/┃▸ Prompt /);
  });

  it('keeps the form open with the sentence add() answers', async () => {
    const queue = new TestQueue();
    queue.addAnswer = 'The input image /tmp/nope.png does not exist: check the path.';
    const app = await openForm(queue);
    await down(app, 1);
    await typeText(app, '/tmp/nope.png');
    await press(app, KEYS.up);
    await press(app, KEYS.up);
    const text = await press(app, KEYS.enter);
    expect(queue.added).toHaveLength(1);
    expect(await waitForText(app, 'The input image /tmp/nope.png does not exist: check the path.')).toContain('Add a generation job');
    expect(text).toContain('Add a generation job');
  });

  it('queues with the typed spec and count, closes and says so', async () => {
    const queue = new TestQueue();
    const app = await openForm(queue);
    await press(app, KEYS.right);
    await waitForText(app, 'Frames');
    await down(app, 1);
    await typeText(app, '/tmp/cat.png');
    await down(app, 1);
    await typeText(app, 'a cat in a hat');
    await down(app, 2);
    await typeText(app, '7');
    await down(app, 1);
    await press(app, KEYS.ctrlU);
    await typeText(app, '30');
    // cfg, denoise, width, height, frames, count
    await down(app, 6);
    await press(app, KEYS.ctrlU);
    await typeText(app, '3');
    await press(app, KEYS.enter);
    const closed = await press(app, KEYS.enter);
    expect(queue.added).toEqual([
      {
        spec: {workflow: 'img2vid', imagePath: '/tmp/cat.png', prompt: 'a cat in a hat', negative: 'blurry, low quality', seed: 7, steps: 30, cfg: 6.5, denoise: 0.6, width: 1024, height: 1024, frames: 16},
        options: {count: 3},
      },
    ]);
    expect(closed).not.toContain('Add a generation job');
    await waitForText(app, 'Queued 3 jobs: img2vid on cat.png.');
    await waitForFrame(app, text => text.includes('3 queued'));
  });

  it('catches a number of the wrong shape before add(), focusing its field', async () => {
    const queue = new TestQueue();
    const app = await openForm(queue);
    await down(app, 1);
    await typeText(app, '/tmp/cat.png');
    // image → prompt, negative, seed, steps
    await down(app, 4);
    await typeText(app, 'x');
    // steps → workflow is 5 fields up; one more wraps to [ Queue ].
    for (let step = 0; step < 6; step++) await press(app, KEYS.up, 60);
    const checked = await press(app, KEYS.enter);
    expect(checked).toContain('Steps must be a whole number, not "20x".');
    expect(checked).toMatch(/┃▸ Steps /);
    expect(queue.added).toHaveLength(0);
  });

  it('Esc closes the form without queueing; keys do not reach the Queue pane while it is open', async () => {
    const queue = new TestQueue();
    const app = await openForm(queue);
    await down(app, 1);
    await typeText(app, 'xrC');
    expect(row(frame(app), 'Image path')).toContain('xrC');
    expect(queue.cleared).toBe(0);
    const closed = await press(app, KEYS.escape);
    expect(closed).not.toContain('Add a generation job');
    await sleep(30);
    expect(queue.added).toHaveLength(0);
  });

  it('fits 80×24', async () => {
    const app = await openForm(new TestQueue(), {columns: 80, rows: 24});
    await press(app, KEYS.right);
    const text = await waitForText(app, 'Frames');
    const lines = text.split('\n');
    expect(lines).toHaveLength(23);
    for (const line of lines) expect([...line].length).toBeLessThanOrEqual(80);
    expect(text).toContain('[ Queue ]');
  });
});
