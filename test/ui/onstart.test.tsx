// O in the Offers pane: the add-job form in its OnStart variant (an image URL instead of a path, no
// count), prefilled from the workflow's fields; a non-http URL is refused locally; the first Enter on
// [ Rent & run ] shows the confirm line, the second calls onstart.start with the spec and the offers
// in rank order (the selected one first); an error sentence keeps the form open.
import {cleanup} from 'ink-testing-library';
import {afterEach, describe, expect, it} from 'vitest';
import {HELP_TABLES} from '../../source/ui/help-tables.js';
import {helpLines} from '../../source/ui/shared/HelpOverlay.js';
import {App} from '../../source/ui/App.js';
import {makeDeck, makeOffers, TestOnStart, type TestDeck} from './fixtures.js';
import {frame, KEYS, press, renderAt, typeText, waitForText, type Rendered} from './helpers.js';
import {TestQueue} from './queue-fixtures.js';

const decks: TestDeck[] = [];
afterEach(() => {
  cleanup();
  for (const deck of decks.splice(0)) deck.close();
});

async function openForm(onstart: TestOnStart): Promise<{app: Rendered; deck: TestDeck}> {
  const deck = makeDeck(makeOffers(4), {queue: new TestQueue(), onstart});
  decks.push(deck);
  const app = await renderAt(<App deck={deck} onQuit={() => {}} />, {columns: 120, rows: 34});
  await waitForText(app, 'Offer 1 ·');
  await press(app, 'j');
  await press(app, 'O');
  await waitForText(app, 'Width');
  return {app, deck};
}

function row(text: string, label: string): string {
  return text.split('\n').find(line => new RegExp(`┃[ ▸] ${label} `).test(line)) ?? '';
}

/** From Workflow: down to Image URL, type it, then up twice (wrapping) to [ Rent & run ] and Enter. */
async function typeUrlAndSubmit(app: Rendered, url: string): Promise<string> {
  await press(app, KEYS.down, 60);
  await typeText(app, url);
  await press(app, KEYS.up, 60);
  await press(app, KEYS.up, 60);
  return press(app, KEYS.enter);
}

describe('OnStart form (O in the Offers pane)', () => {
  it('opens the OnStart variant prefilled from the workflow fields, without a count', async () => {
    const {app} = await openForm(new TestOnStart());
    const text = frame(app);
    expect(text).toContain('OnStart job — it runs inside the instance at boot');
    expect(row(text, 'Workflow')).toContain('‹ img2img-sdxl ›');
    expect(row(text, 'Image URL')).toContain('the instance fetches it');
    expect(row(text, 'Steps')).toMatch(/Steps +20 +1–150/);
    expect(row(text, 'Width')).toMatch(/Width +1024 +64–4096/);
    expect(row(text, 'Count')).toBe('');
    expect(row(text, 'Image path')).toBe('');
    expect(text).toContain('[ Rent & run ]');
  });

  it('refuses a URL that is not http(s) locally, without calling start', async () => {
    const onstart = new TestOnStart();
    const {app} = await openForm(onstart);
    const text = await typeUrlAndSubmit(app, '/tmp/cat.png');
    expect(text).toContain('The image URL must start with http:// or https://');
    expect(row(text, 'Image URL')).toContain('▸');
    expect(onstart.calls).toHaveLength(0);
  });

  it('confirms that it rents the offer, then calls start with the spec and the offers in rank order', async () => {
    const onstart = new TestOnStart();
    const {app, deck} = await openForm(onstart);
    const confirm = await typeUrlAndSubmit(app, 'https://example.org/cat.png');
    expect(confirm.replace(/\s*┃\s*/g, ' ')).toMatch(/This rents offer 2 \(RTX 4090 ×1/);
    expect(onstart.calls).toHaveLength(0);
    await press(app, KEYS.enter);
    await waitForText(app, 'OnStart job started');
    expect(frame(app)).not.toContain('OnStart job — it runs');
    expect(onstart.calls).toHaveLength(1);
    const [call] = onstart.calls;
    expect(call!.spec).toMatchObject({workflow: 'img2img-sdxl', imageUrl: 'https://example.org/cat.png', prompt: '', steps: 20, cfg: 6.5, denoise: 0.6, width: 1024});
    expect(call!.spec).not.toHaveProperty('imagePath');
    expect(call!.candidates.map(row => row.offer.id)).toEqual([2, 1, 3, 4]);
  });

  it('keeps the form open with the error sentence start answers', async () => {
    const onstart = new TestOnStart();
    onstart.answer = 'No SSH key found: press k in the Instances pane to create one.';
    const {app} = await openForm(onstart);
    await typeUrlAndSubmit(app, 'http://127.0.0.1:8000/cat.png');
    await press(app, KEYS.enter);
    const text = await waitForText(app, 'No SSH key found');
    expect(text).toContain('OnStart job — it runs inside the instance at boot');
    expect(onstart.calls).toHaveLength(1);
  });

  it('lists O in the help', () => {
    const line = helpLines(HELP_TABLES).find(entry => entry.keys === 'O');
    expect(line?.text).toBe('Rent with an OnStart job (runs at boot, no polling)');
  });
});
