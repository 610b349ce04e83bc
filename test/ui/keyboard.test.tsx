// The dashboard's keyboard as a terminal drives it: several keys in one read each do their thing,
// in order (including a key that opens a dialog or editor and the keys typed into it); bad input
// in a form is a sentence, never a crash; quitting while LIVE instances bill asks first; the
// message log keeps every message in full; a long message wraps instead of losing its end.
import {cleanup} from 'ink-testing-library';
import {afterEach, describe, expect, it, vi} from 'vitest';
import {App} from '../../source/ui/App.js';
import {billingAfterQuit} from '../../source/ui/QuitDialog.js';
import {makeDeck, makeOffers, TestOnStart, type TestDeck} from './fixtures.js';
import {makeInstanceRow, TestFleet} from './fleet-fixtures.js';
import {frame, KEYS, press, renderAt, sleep, waitForFrame, waitForText, type Rendered} from './helpers.js';
import {TestQueue} from './queue-fixtures.js';

const decks: TestDeck[] = [];
afterEach(() => {
  cleanup();
  for (const deck of decks.splice(0)) deck.close();
});

async function open(deck: TestDeck, options: {onQuit?: () => void; columns?: number; rows?: number} = {}): Promise<Rendered> {
  decks.push(deck);
  const app = await renderAt(<App deck={deck} onQuit={options.onQuit ?? (() => {})} />, {columns: options.columns ?? 120, rows: options.rows ?? 34});
  await waitForText(app, 'Offer 1 ·');
  return app;
}

/** Write several keys as one read, the way tmux send-keys or a fast typist delivers them. */
async function writeAtOnce(app: Rendered, keys: string): Promise<void> {
  app.stdin.write(keys);
  await sleep(50);
}

function offerRows(text: string): string[] {
  return text.split('\n').filter(line => /^┃ ([ +*]\d+|✗ gone)\s+RTX/.test(line));
}

describe('keys that arrive together', () => {
  it('moves the selection three rows for "jjj" in one read, and back for mixed arrows and letters', async () => {
    const app = await open(makeDeck(makeOffers(10)));
    await writeAtOnce(app, 'jjj');
    await waitForText(app, 'Offer 4 ·');
    await writeAtOnce(app, `k${KEYS.up}j${KEYS.down}${KEYS.down}`);
    await waitForText(app, 'Offer 5 ·');
  });

  it('opens the filter editor and types into it from one read: "/", the text, Enter', async () => {
    const deck = makeDeck(makeOffers(5));
    const app = await open(deck);
    await writeAtOnce(app, '/\u0015gpu=RTX_4090 dph<0.5\r');
    await waitForFrame(app, text => text.includes('filter gpu=RTX_4090 dph<0.5') && !text.includes('Filter:'));
  });

  it('answers a confirm dialog opened earlier in the same read: "c" then "y" rents', async () => {
    const fleet = new TestFleet();
    const app = await open(makeDeck(makeOffers(5), {fleet}));
    await writeAtOnce(app, 'jcy');
    await waitForFrame(app, () => fleet.created.length === 1);
    expect(fleet.created[0]![0]!.offer.id).toBe(2);
  });

  it('types a bracketed paste into a text field whole, newline included, without submitting', async () => {
    const app = await open(makeDeck(makeOffers(5)));
    await press(app, '/');
    await press(app, KEYS.ctrlU);
    await writeAtOnce(app, '\u001B[200~gpu=RTX_4090\ndph<0.5\u001B[201~');
    const text = await waitForText(app, 'Filter: gpu=RTX_4090 dph<0.5');
    expect(text).toContain('Filter:');
  });
});

describe('forms never crash on bad input', () => {
  it('the add-job form submitted with an empty image says what is missing and stays open', async () => {
    const app = await open(makeDeck(makeOffers(5), {queue: new TestQueue()}));
    await press(app, '3');
    await press(app, 'a');
    await waitForText(app, 'Width');
    // Up from Workflow wraps to [ Queue ]; nothing was ever typed in Image path.
    await press(app, KEYS.up);
    const text = await press(app, KEYS.enter);
    expect(await waitForText(app, "Type the input image's path")).toContain('Add a generation job');
    expect(text).toContain('Add a generation job');
  });

  it('the OnStart form submitted with an empty image URL says what is missing and stays open', async () => {
    const onstart = new TestOnStart();
    const app = await open(makeDeck(makeOffers(5), {queue: new TestQueue(), onstart}));
    await press(app, 'O');
    await waitForText(app, 'Width');
    await press(app, KEYS.up);
    await press(app, KEYS.enter);
    expect(await waitForText(app, 'Type the URL the instance fetches')).toContain('OnStart job');
    expect(onstart.calls).toHaveLength(0);
  });
});

describe('quitting', () => {
  const billing = () => {
    const fleet = new TestFleet();
    fleet.addRows(makeInstanceRow('a', 'READY', {instanceId: 26_000_001, dphTotal: 0.45}), makeInstanceRow('b', 'DOWNLOADING', {instanceId: 26_000_002, dphTotal: 0.39}));
    return fleet;
  };

  it('quits at once in demo mode, instances or not', async () => {
    const onQuit = vi.fn();
    const app = await open(makeDeck(makeOffers(3), {fleet: billing()}), {onQuit});
    await press(app, 'q');
    expect(onQuit).toHaveBeenCalledTimes(1);
  });

  it('asks once in LIVE mode while instances bill: the burn rate, then Cancel keeps the dashboard', async () => {
    const onQuit = vi.fn();
    const app = await open(makeDeck(makeOffers(3), {fleet: billing(), mode: 'live'}), {onQuit});
    const asked = await press(app, 'q');
    expect(asked).toContain('Quit with 2 instances billing $0.84/h?');
    expect(asked).toContain('26000001');
    expect(asked).toMatch(/Cancel \(n\).*Leave running \(l\).*Destroy all, then quit \(d\)/);
    await press(app, KEYS.ctrlC);
    expect(frame(app).match(/Quit with 2 instances/g)).toHaveLength(1);
    await press(app, KEYS.escape);
    expect(frame(app)).not.toContain('Quit with');
    expect(onQuit).not.toHaveBeenCalled();
    await press(app, 'q');
    await press(app, 'l');
    expect(onQuit).toHaveBeenCalledTimes(1);
  });

  it('destroys every instance first, and quits once none bills', async () => {
    const onQuit = vi.fn();
    const fleet = billing();
    const app = await open(makeDeck(makeOffers(3), {fleet, mode: 'live'}), {onQuit});
    await press(app, KEYS.ctrlC);
    const destroying = await press(app, 'd');
    expect(destroying).toContain('Destroying 2 instances, then quitting');
    expect(fleet.destroyed).toEqual([{key: 'a'}, {key: 'b'}]);
    expect(onQuit).not.toHaveBeenCalled();
    fleet.set({rows: fleet.getSnapshot().rows.map(row => ({...row, ledgerState: 'destroyed' as const}))});
    await waitForFrame(app, () => onQuit.mock.calls.length === 1);
  });

  it('says on the way out what is still billing', () => {
    const rows = billing().getSnapshot().rows;
    const noon = new Date(2026, 11, 6, 12, 0).getTime();
    expect(billingAfterQuit(rows, 'live', noon)).toBe('vastdeck: 2 instances are still billing ($0.84/h): 26000001, 26000002. Left running, they bill until destroyed: nothing stops them when vastdeck quits. `vastdeck down --all` destroys them now.');
    // With autostop (docs/autostop.md) the sentence says when each ends itself; one that only stops keeps billing storage.
    const autostop = (idleMinutes: number, action: 'destroy' | 'stop') => ({config: {idleMinutes, maxHours: 0, action, api: 'https://console.vast.ai'}, beating: true});
    const guarded = [{...rows[0]!, autostop: autostop(30, 'destroy')}, {...rows[1]!, autostop: autostop(45, 'stop')}];
    expect(billingAfterQuit(guarded, 'live', noon)).toContain('Left running, they end themselves within 45 min of quitting (by 12:45) unless a ComfyUI job runs (1 only stops: storage bills on).');
    expect(billingAfterQuit([guarded[0]!, rows[1]!], 'live', noon)).toContain('Left running, 1 with autostop ends itself within 30 min of quitting (by 12:30) unless a ComfyUI job runs; 1 without autostop bills until destroyed: nothing stops it when vastdeck quits.');
    expect(billingAfterQuit([], 'live')).toBe('vastdeck: no instance of this session is billing.');
    expect(billingAfterQuit(rows, 'demo')).toContain('nothing was billed');
  });
});

describe('messages', () => {
  it('wraps a long message over up to three rows so its end (the path) stays readable', async () => {
    const deck = makeDeck(makeOffers(3));
    const app = await open(deck, {columns: 80, rows: 24});
    deck.notify('Saved the log of 26000001 to /home/someone/.local/share/vastdeck/outputs/logs/26000001-2026-12-06T04-37-55.log', 'info');
    const text = await waitForText(app, '26000001-2026-12-06T04-37-55.log');
    expect(text).toContain('/home/someone/.local/share/vastdeck/outputs/logs/');
    expect(text.split('\n')).toHaveLength(23);
  });

  it('keeps every message of the session in the message log (m), in full, even two posted at once', async () => {
    const deck = makeDeck(makeOffers(3));
    const app = await open(deck, {columns: 80, rows: 24});
    deck.notify('Instance 26000001 was not destroyed: its output files would be lost because SSH could not reach the instance — fix that and run the cleanup again.', 'error');
    deck.notify('Destroyed instance 26000002 and confirmed it is gone.');
    await waitForText(app, 'Destroyed instance 26000002');
    const log = await press(app, 'm');
    expect(log).toContain('Messages · 2 this session');
    expect(log).toContain('cleanup again.');
    expect(log).toContain('Instance 26000001 was not destroyed');
    expect(await press(app, KEYS.escape)).not.toContain('Messages ·');
  });

  it('shows a destroy that stopped short in full in the instance view, not cut at the edge', async () => {
    const fleet = new TestFleet();
    const reason = 'Instance 26000001 was not destroyed: its output files would be lost because SSH could not reach the instance — fix that and run the cleanup again (it resumes where it stopped), or destroy it anyway with `vastdeck down 26000001 --force`.';
    fleet.addRows(makeInstanceRow('a', 'READY', {instanceId: 26_000_001, cleanup: {step: 'failed', message: reason, failed: true}}));
    const app = await open(makeDeck(makeOffers(3), {fleet}), {columns: 80, rows: 30});
    await press(app, '2');
    const detail = await press(app, KEYS.enter);
    const joined = detail.split('\n').map(line => line.replace(/^[┃│] ?| ?[┃│]$/g, '').trim()).join(' ');
    expect(joined).toContain('`vastdeck down 26000001 --force`.');
  });
});
