// The instance log view as a user drives it: a 5,000-line log drawn one screen at a time, following
// the tail as lines arrive, pausing on scroll-up and resuming on G, the `/` filter, wrap, file tags
// and saving. The log is a real LogRingBuffer behind the same batched Model the core uses.
import {cleanup} from 'ink-testing-library';
import {afterEach, describe, expect, it} from 'vitest';
import {App} from '../../source/ui/App.js';
import {COMFYUI_LOG, makeInstanceRow, TestFleet, type TestLog} from './fleet-fixtures.js';
import {makeDeck, makeOffers, type TestDeck} from './fixtures.js';
import {frame, KEYS, press, renderAt, typeText, waitForFrame, waitForText, type Rendered} from './helpers.js';

const decks: TestDeck[] = [];
afterEach(() => {
  cleanup();
  for (const deck of decks.splice(0)) deck.close();
});

const SIZE = {columns: 120, rows: 32};

/** The dashboard with one instance whose log holds `lines` lines, opened in the log view. */
async function openLog(lines: number): Promise<{app: Rendered; deck: TestDeck; fleet: TestFleet; log: TestLog}> {
  const fleet = new TestFleet();
  fleet.addRows(makeInstanceRow('a1b2', 'PROVISIONING'));
  const log = fleet.log('a1b2');
  log.pushMany(lines);
  const deck = makeDeck(makeOffers(3), {fleet});
  decks.push(deck);
  const app = await renderAt(<App deck={deck} onQuit={() => {}} />, SIZE);
  await waitForText(app, 'Offer 1 ·');
  await press(app, '2');
  await press(app, KEYS.enter);
  if (lines > 0) await waitForText(app, `line ${lines}`);
  return {app, deck, fleet, log};
}

/** The numbers of the 'line N' rows on screen, top to bottom. */
function shownLines(text: string): number[] {
  return [...text.matchAll(/\bline (\d+)\b/g)].map(match => Number(match[1]));
}

describe('log view', () => {
  it('draws only the visible lines of a 5,000-line log, reading no more than a screen from the buffer', async () => {
    const {app, log} = await openLog(5000);
    const shown = shownLines(frame(app));
    expect(shown.at(-1)).toBe(5000);
    expect(shown.length).toBeGreaterThan(8);
    expect(shown.length).toBeLessThan(SIZE.rows);
    expect(shown).toEqual(shown.map((_unused, index) => 5000 - shown.length + 1 + index));
    expect(log.largestSlice).toBeLessThanOrEqual(SIZE.rows);
    expect(frame(app)).toContain('following the tail · 5000 lines');
    expect(frame(app).split('\n')).toHaveLength(SIZE.rows - 1);
  });

  it('follows the tail as lines arrive', async () => {
    const {app, log} = await openLog(5000);
    log.pushMany(3);
    const text = await waitForText(app, 'line 5003');
    expect(shownLines(text).at(-1)).toBe(5003);
  });

  it('pauses on scroll-up (k, PgUp, g) while lines keep arriving, and resumes on G', async () => {
    const {app, log} = await openLog(5000);
    const before = shownLines(frame(app));
    const up = await press(app, 'k');
    expect(shownLines(up)[0]).toBe(before[0]! - 1);
    expect(up).toContain('paused: 1 newer below, G follows');

    log.pushMany(5);
    const paused = await waitForText(app, 'paused: 6 newer below');
    expect(paused).not.toContain('line 5005');
    expect(shownLines(paused)[0]).toBe(before[0]! - 1);

    const page = await press(app, KEYS.pageUp);
    expect(shownLines(page)[0]).toBeLessThan(before[0]! - 10);
    expect(shownLines(await press(app, 'g'))[0]).toBe(1);
    expect(shownLines(await press(app, 'j'))[0]).toBe(2);

    const following = await press(app, 'G');
    expect(following).toContain('following the tail');
    expect(shownLines(following).at(-1)).toBe(5005);
    log.pushMany(1);
    await waitForText(app, 'line 5006');
  });

  it('resumes following when scrolling down reaches the bottom', async () => {
    const {app} = await openLog(200);
    await press(app, 'k');
    await press(app, 'k');
    await press(app, 'j');
    expect(frame(app)).toContain('paused: 1 newer below');
    expect(await press(app, 'j')).toContain('following the tail');
  });

  it('/ filters case-insensitively as you type; Enter keeps the filter, Esc clears it, a second Esc goes back', async () => {
    const {app, log} = await openLog(0);
    for (let n = 1; n <= 3000; n++) log.push(n % 1000 === 0 ? `ERROR number ${n / 1000} in step ${n}` : `line ${n} ok`);
    await waitForText(app, 'ERROR number 3 in step 3000');

    const editing = await press(app, '/');
    expect(editing).toContain('Filter:');
    await waitForText(app, 'Enter keep');
    await typeText(app, 'error');
    let text = await waitForText(app, 'ERROR number 1 in step 1000');
    expect(text).toContain('ERROR number 3 in step 3000');
    expect(text).not.toContain('ok');

    text = await press(app, KEYS.enter);
    expect(text).not.toContain('Filter:');
    expect(text).toContain('filter "error": 3 lines');
    expect(text).toContain('/ filter');

    text = await press(app, KEYS.escape);
    expect(text).toContain('3000 lines');
    expect(text).toContain('line 2999 ok');
    expect(text).toContain('2 Instances ›');

    await press(app, '/');
    await typeText(app, 'nothing-like-this');
    expect(await waitForText(app, 'No line matches "nothing-like-this"')).toContain('Esc clears');
    expect(await press(app, KEYS.escape)).toContain('line 2999 ok');
    expect(await press(app, KEYS.escape)).toContain('1 Offers');
  });

  it('w wraps long lines instead of cutting them with …', async () => {
    const {app, log} = await openLog(10);
    log.push(`${'x'.repeat(250)} TAIL-END`);
    const cut = await waitForText(app, 'xxx…');
    expect(cut).not.toContain('TAIL-END');
    const wrapped = await press(app, 'w');
    expect(wrapped).toContain('TAIL-END');
    expect(wrapped).toContain('· wrap ·');
    expect(wrapped.split('\n')).toHaveLength(SIZE.rows - 1);
    expect(await press(app, 'w')).not.toContain('TAIL-END');
  });

  it('t shows and hides the file tag of each line', async () => {
    const {app, log} = await openLog(4);
    log.push('ComfyUI says hello', COMFYUI_LOG);
    const tagged = await waitForText(app, 'ComfyUI says hello');
    expect(tagged).toMatch(/comfyui +ComfyUI says hello/);
    expect(tagged).toMatch(/provisioning +line 3/);
    const plain = await press(app, 't');
    expect(plain).not.toMatch(/provisioning +line 3/);
    expect(plain).toMatch(/[│┃] line 3 /);
    expect(plain).toContain('no tags');
  });

  it('S saves the log and shows where; a failed save says why', async () => {
    const {app, fleet} = await openLog(20);
    await press(app, 'S');
    expect(fleet.saved).toEqual(['a1b2']);
    await waitForText(app, 'Saved the log of');
    expect(frame(app)).toContain('/home/user/vastdeck-logs/a1b2.log');

    fleet.saveError = new Error('disk full');
    await press(app, 'S');
    await waitForText(app, 'disk full');
  });

  it('p shows the portal secret in the detail view only on request', async () => {
    const {app, fleet} = await openLog(5);
    fleet.secrets.set('a1b2', {token: 'tok-in-detail', comfyui: 'https://5.6.7.8:8188/'});
    await press(app, 'w');
    expect(frame(app)).not.toContain('tok-in-detail');
    expect(await press(app, 'p')).toContain('Token    tok-in-detail');
    expect(await press(app, 'p')).not.toContain('tok-in-detail');
  });

  it('says so when the log has no line yet', async () => {
    const {app} = await openLog(0);
    await waitForFrame(app, text => text.includes('No log lines yet: connected, waiting for the first line.'));
  });
});
