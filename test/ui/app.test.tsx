// The dashboard as a user drives it: the real OffersModel over fixed offers, keys as a terminal
// sends them, assertions on the frame text.
import {cleanup} from 'ink-testing-library';
import {afterEach, describe, expect, it, vi} from 'vitest';
import {App} from '../../source/ui/App.js';
import {makeDeck, makeOffer, makeOffers, type TestDeck} from './fixtures.js';
import {frame, KEYS, press, renderAt, resize, typeText, waitForFrame, waitForText, type Rendered} from './helpers.js';

const decks: TestDeck[] = [];
afterEach(() => {
  cleanup();
  for (const deck of decks.splice(0)) deck.close();
});

async function open(deck: TestDeck, options: {columns?: number; rows?: number; onQuit?: () => void; waitFor?: string} = {}): Promise<Rendered> {
  decks.push(deck);
  const app = await renderAt(<App deck={deck} onQuit={options.onQuit ?? (() => {})} />, {columns: options.columns ?? 100, rows: options.rows ?? 30});
  await waitForText(app, options.waitFor ?? 'Offer ');
  return app;
}

/** The top border line of the pane with this title. */
function topBorder(text: string, title: string): string {
  return text.split('\n').find(line => /^[┌┏]/.test(line) && line.includes(` ${title} `)) ?? '';
}

/** Table rows on screen: lines inside the Offers pane with a rank cell and then a GPU (all fixtures are RTX). */
function tableRows(text: string): string[] {
  return text.split('\n').filter(line => /^┃ ([ +*]\d+|✗ gone)\s+RTX/.test(line));
}

describe('layout', () => {
  it('shows the three panes, the DEMO badge, the balance and honest empty states', async () => {
    const app = await open(makeDeck(makeOffers(5), {balanceUsd: 12.5}));
    const text = await waitForText(app, 'balance $12.50');
    for (const part of ['1 Offers', '2 Instances', '3 Queue', 'DEMO', 'No instances yet.', 'No jobs. Press a to add one', 'simulated Vast.ai cloud on 127.0.0.1:40123']) {
      expect(text).toContain(part);
    }
  });

  it('shows LIVE in live mode, and the latest message in its place of the connection line', async () => {
    const deck = makeDeck(makeOffers(3), {mode: 'live'});
    const app = await open(deck);
    expect(frame(app)).toContain('LIVE');
    deck.notify('Offer 3 is no longer available.', 'warn');
    const text = await waitForText(app, 'Offer 3 is no longer available.');
    expect(text).not.toContain('127.0.0.1:40123');
  });

  it.each([
    {columns: 80, rows: 24},
    {columns: 120, rows: 32},
    {columns: 200, rows: 60},
    {columns: 60, rows: 20},
  ])('is exactly rows - 1 lines and never wider than the terminal at $columns×$rows', async size => {
    const app = await open(makeDeck(makeOffers(100)), size);
    const lines = frame(app).split('\n');
    expect(lines).toHaveLength(size.rows - 1);
    for (const line of lines) expect([...line].length).toBeLessThanOrEqual(size.columns);
    expect(frame(app)).toContain('Job $');
  });

  it('follows a terminal resize, dropping low-priority columns when narrow', async () => {
    const app = await open(makeDeck(makeOffers(100)), {columns: 200, rows: 60});
    expect(frame(app)).toContain('Location');
    resize(app, {columns: 80, rows: 24});
    const text = await waitForFrame(app, current => current.split('\n').length === 23);
    expect(text).not.toContain('Location');
    expect(text).toContain('Job $');
  });

  it('moves focus with Tab, Shift-Tab and 1/2/3; the focused pane has the heavy border', async () => {
    const app = await open(makeDeck(makeOffers(3)));
    expect(topBorder(frame(app), '1 Offers')).toMatch(/^┏━/);
    expect(topBorder(await press(app, KEYS.tab), '2 Instances')).toMatch(/^┏━/);
    expect(topBorder(frame(app), '1 Offers')).toMatch(/^┌─/);
    expect(topBorder(await press(app, KEYS.tab), '3 Queue')).toMatch(/┏━/);
    expect(topBorder(await press(app, KEYS.tab), '1 Offers')).toMatch(/^┏━/);
    expect(topBorder(await press(app, KEYS.shiftTab), '3 Queue')).toMatch(/┏━/);
    expect(topBorder(await press(app, '2'), '2 Instances')).toMatch(/^┏━/);
    expect(topBorder(await press(app, '1'), '1 Offers')).toMatch(/^┏━/);
  });

  it('sends offer keys only to the Offers pane when it has focus', async () => {
    const app = await open(makeDeck(makeOffers(5)));
    await press(app, '2');
    await press(app, 'j');
    expect(frame(app)).toContain('Offer 1 ·');
    await press(app, '1');
    expect(await press(app, 'j')).toContain('Offer 2 ·');
  });
});

describe('offer list', () => {
  it('shows a spinner while the first search runs', async () => {
    const app = await open(makeDeck([], {hang: true}), {waitFor: 'Searching offers…'});
    expect(frame(app)).toContain('refreshing');
  });

  it('shows the error sentence when the first search fails', async () => {
    const app = await open(makeDeck([], {failure: new Error('socket hang up')}), {waitFor: 'Unexpected problem: socket hang up.'});
    expect(frame(app)).toContain('Press r to retry');
  });

  it('keeps the last good list and says so when a refresh fails', async () => {
    const deck = makeDeck(makeOffers(4));
    const app = await open(deck);
    deck.failure = new Error('socket hang up');
    await press(app, 'r');
    const text = await waitForText(app, 'Refresh failed, showing the last good list');
    expect(tableRows(text)).toHaveLength(4);
  });

  it('moves the selection with j/k and the arrows, pages, and jumps to the ends', async () => {
    const app = await open(makeDeck(makeOffers(40)));
    expect(frame(app)).toContain('Offer 1 ·');
    expect(await press(app, 'j')).toContain('Offer 2 ·');
    expect(await press(app, KEYS.down)).toContain('Offer 3 ·');
    expect(await press(app, 'k')).toContain('Offer 2 ·');
    expect(await press(app, KEYS.up)).toContain('Offer 1 ·');
    expect(await press(app, KEYS.up, 60)).toContain('Offer 1 ·');
    const visible = tableRows(frame(app)).length;
    expect(await press(app, KEYS.pageDown)).toContain(`Offer ${1 + visible} ·`);
    expect(await press(app, KEYS.pageUp)).toContain('Offer 1 ·');
    expect(await press(app, 'G')).toContain('Offer 40 ·');
    expect(await press(app, 'g')).toContain('Offer 1 ·');
    expect(await press(app, KEYS.end)).toContain('Offer 40 ·');
  });

  it('renders only the visible rows of a long list, and the window follows the selection', async () => {
    const app = await open(makeDeck(makeOffers(500)));
    const first = tableRows(frame(app));
    expect(first.length).toBeGreaterThan(5);
    expect(first.length).toBeLessThanOrEqual(20);
    expect(first[0]).toMatch(/^┃  1\s/);
    const text = await press(app, 'G');
    const last = tableRows(text);
    expect(last.length).toBe(first.length);
    expect(last.at(-1)).toMatch(/^┃  500\s/);
    expect(text).not.toMatch(/^┃  1\s/m);
  });

  it('cycles the sort key with s: the title names it and the order changes', async () => {
    // 50 × img2img-sdxl: the cheap, slow link costs less in all ($0.078 against $0.092) but finishes later.
    const cheapSlow = makeOffer({id: 1, dphTotal: 0.2, inetDownMbps: 150});
    const dearFast = makeOffer({id: 2, dphTotal: 0.5, inetDownMbps: 2500});
    const app = await open(makeDeck([cheapSlow, dearFast]));
    expect(frame(app)).toContain('sort job cost of 50 × img2img-sdxl');
    expect(tableRows(frame(app))[0]).toContain(' 150 ');

    // The selection is on Offer 1, which the next sort ranks second.
    expect(frame(app)).toContain('Offer 1 ·');
    const text = await press(app, 's');
    expect(text).toContain('sort time to last result');
    expect(tableRows(text)[0]).toContain(' 2500 ');
    // The new order from its top, with the first row selected (as htop and k9s do).
    expect(text).toContain('Offer 2 ·');
    await press(app, 'j');
    expect(frame(app)).toContain('Offer 1 ·');
    const again = await press(app, 's');
    expect(again).toContain('sort 10-min rule');
    expect(tableRows(again)[0]).toContain(' 150 ');
    expect(again).toContain('Offer 1 ·');

    for (let step = 0; step < 6; step++) await press(app, 's');
    expect(frame(app)).toContain('sort job cost');
  });

  it('refreshes now with r', async () => {
    const deck = makeDeck(makeOffers(3));
    const app = await open(deck);
    const before = deck.queries.length;
    deck.market = makeOffers(4);
    await press(app, 'r');
    await waitForFrame(app, text => tableRows(text).length === 4);
    expect(deck.queries.length).toBe(before + 1);
  });

  it('marks new and changed rows, and marks vanished rows as gone', async () => {
    const deck = makeDeck(makeOffers(4));
    const app = await open(deck);
    deck.market = [...makeOffers(4).filter(offer => offer.id !== 2).map(offer => (offer.id === 3 ? {...offer, dphTotal: 0.36} : offer)), makeOffer({id: 99, dphTotal: 0.2})];
    await press(app, 'r');
    const text = await waitForText(app, '✗ gone');
    const rows = tableRows(text);
    expect(rows.find(row => row.includes('✗ gone'))).toContain('$0.32');
    expect(rows[0]).toMatch(/^┃ \+1\s/);
    expect(rows.some(row => /^┃ \*\d+\s.*\$0\.36/.test(row))).toBe(true);
  });

  it('keeps the selection on the same offer across refreshes, and in place when it vanishes', async () => {
    const deck = makeDeck(makeOffers(6));
    const app = await open(deck);
    await press(app, 'j');
    expect(await press(app, 'j')).toContain('Offer 3 ·');

    deck.market = [makeOffer({id: 100, dphTotal: 0.1}), ...makeOffers(6)];
    await press(app, 'r');
    let text = await waitForFrame(app, current => tableRows(current).length === 7);
    expect(text).toContain('Offer 3 ·');
    expect(tableRows(text)[3]).toMatch(/^┃  4\s/);

    deck.market = deck.market.filter(offer => offer.id !== 3);
    await press(app, 'r');
    text = await waitForText(app, '✗ gone');
    expect(text).toContain('Offer 4 ·');
  });
});

describe('filter editor', () => {
  it('opens prefilled with / or f, and Enter applies a valid filter', async () => {
    const deck = makeDeck(makeOffers(5));
    const app = await open(deck);
    const editing = await press(app, '/');
    expect(editing).toContain('Filter:');
    expect(editing).toContain('verified=true');
    // The hints follow one render after the editor registers its keys.
    await waitForText(app, 'Enter apply');

    await press(app, KEYS.ctrlU);
    await typeText(app, 'gpu=RTX_4090');
    expect(frame(app)).toContain('Filter: gpu=RTX_4090');
    const applied = await press(app, KEYS.enter);
    expect(applied).not.toContain('Filter:');
    expect(await waitForText(app, 'filter gpu=RTX_4090')).toContain('filter gpu=RTX_4090');
    await waitForFrame(app, () => JSON.stringify(deck.queries.at(-1)).includes('RTX 4090'));

    expect(await press(app, 'f')).toContain('Filter: gpu=RTX_4090');
  });

  it('shows the error sentence for an invalid filter and stays open; Esc cancels', async () => {
    const deck = makeDeck(makeOffers(5));
    const app = await open(deck);
    await press(app, '/');
    await press(app, KEYS.ctrlU);
    await typeText(app, 'bogus=1');
    const text = await press(app, KEYS.enter);
    expect(text).toContain("Unknown filter field 'bogus'");
    expect(text).toContain('Filter: bogus=1');

    const closed = await press(app, KEYS.escape);
    expect(closed).not.toContain('Filter:');
    expect(closed).not.toContain('bogus');
    expect(closed).toContain('filter gpus=1');
  });

  it('wraps a long error sentence instead of cutting it off on a narrow screen', async () => {
    const app = await open(makeDeck(makeOffers(5)), {columns: 80, rows: 24});
    await press(app, 'f');
    await press(app, KEYS.ctrlU);
    await typeText(app, 'gpu=RTX_9999');
    const text = await press(app, KEYS.enter);
    expect(text).toContain("Unknown GPU 'RTX_9999'");
    expect(text).toContain('H100_SXM.');
    expect(text.split('\n')).toHaveLength(23);
  });

  it('edits in place: cursor keys, Home/End, backspace; typed q and digits are text, not commands', async () => {
    const onQuit = vi.fn();
    const app = await open(makeDeck(makeOffers(5)), {onQuit});
    await press(app, '/');
    await press(app, KEYS.ctrlU);
    await typeText(app, 'aq2');
    await press(app, KEYS.left);
    await press(app, KEYS.left);
    await press(app, 'X');
    expect(frame(app)).toContain('Filter: aXq2');
    await press(app, KEYS.ctrlA);
    await press(app, '>');
    await press(app, KEYS.ctrlE);
    await press(app, KEYS.backspace);
    expect(frame(app)).toContain('Filter: >aXq');
    expect(onQuit).not.toHaveBeenCalled();
    expect(topBorder(frame(app), '1 Offers')).toMatch(/^┏━/);
  });
});

describe('help and quitting', () => {
  it('? shows every action of every key table, grouped by table (paging with Space), and Esc or ? closes it', async () => {
    const {HELP_TABLES} = await import('../../source/ui/help-tables.js');
    const {keysLabel} = await import('../../source/ui/keys/key-table.js');
    const app = await open(makeDeck(makeOffers(3)), {columns: 120, rows: 60});
    let seen = await press(app, '?');
    for (let page = 0; page < 10; page++) seen += await press(app, ' ', 60);
    for (const table of HELP_TABLES) {
      expect(seen).toContain(table.title);
      for (const action of table.actions) {
        expect(seen).toContain(keysLabel(action.keys));
        expect(seen).toContain(action.help);
      }
    }
    expect(await press(app, KEYS.escape)).not.toContain('Keys (');
    expect(await press(app, '?')).toContain('Show this help');
    expect(await press(app, '?')).not.toContain('Show this help');
  });

  it('scrolls the help when the terminal is short', async () => {
    const app = await open(makeDeck(makeOffers(3)), {columns: 80, rows: 24});
    const top = await press(app, '?');
    expect(top).toContain('Everywhere');
    for (let step = 0; step < 3; step++) await press(app, 'j', 30);
    expect(frame(app)).not.toContain('Everywhere');
    for (let step = 0; step < 12; step++) await press(app, KEYS.pageDown, 30);
    const bottom = frame(app);
    expect(bottom).toContain('Close the help');
    expect(await press(app, KEYS.pageUp)).not.toContain('Close the help');
  });

  it('q quits; inside the help q only closes the help', async () => {
    const onQuit = vi.fn();
    const app = await open(makeDeck(makeOffers(3)), {onQuit});
    await press(app, '?');
    await press(app, 'q');
    expect(onQuit).not.toHaveBeenCalled();
    await press(app, 'q', 60);
    expect(onQuit).toHaveBeenCalledTimes(1);
  });

  it('Ctrl-C quits from anywhere, even from the filter editor', async () => {
    const onQuit = vi.fn();
    const app = await open(makeDeck(makeOffers(3)), {onQuit});
    await press(app, '/');
    await press(app, KEYS.ctrlC, 60);
    expect(onQuit).toHaveBeenCalledTimes(1);
  });
});

describe('NO_COLOR', () => {
  it('draws no colour codes at all', async () => {
    expect(process.env.NO_COLOR).toBeTruthy();
    const deck = makeDeck(makeOffers(4));
    const app = await open(deck);
    deck.notify('Something failed.', 'error');
    await waitForText(app, 'Something failed.');
    // eslint-disable-next-line no-control-regex
    expect(app.frames.join('')).not.toMatch(/\u001B\[(3\d|9\d|4\d|10\d|38;|48;)/);
  });
});
