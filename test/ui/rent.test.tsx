// Renting from the Offers pane: c opens a confirm dialog with the offer and its job cost, Cancel is
// the default, and only a deliberate y (or Enter on Rent) calls fleet.create with the selected
// offer first and the rest of the ranking after it. Also: message expiry in the status line.
import {cleanup} from 'ink-testing-library';
import {afterEach, describe, expect, it} from 'vitest';
import {App} from '../../source/ui/App.js';
import {TestFleet} from './fleet-fixtures.js';
import {makeDeck, makeOffer, makeOffers, type TestDeck} from './fixtures.js';
import {frame, KEYS, press, renderAt, sleep, waitForFrame, waitForText, type Rendered} from './helpers.js';

const decks: TestDeck[] = [];
afterEach(() => {
  cleanup();
  for (const deck of decks.splice(0)) deck.close();
});

async function open(deck: TestDeck, size = {columns: 120, rows: 32}): Promise<Rendered> {
  decks.push(deck);
  const app = await renderAt(<App deck={deck} onQuit={() => {}} />, size);
  await waitForText(app, 'Offer 1 ·');
  return app;
}

/** The top border line of the pane with this title. */
function topBorder(text: string, title: string): string {
  return text.split('\n').find(line => /[┌┏]/.test(line) && line.includes(` ${title}`)) ?? '';
}

describe('renting from the Offers pane', () => {
  it('c shows the offer and its job cost; Cancel is the default, so Enter right away rents nothing', async () => {
    const fleet = new TestFleet();
    const app = await open(makeDeck(makeOffers(5), {fleet}));
    await press(app, 'j');
    const dialog = await press(app, 'c');
    expect(dialog).toContain('Rent this offer? (demo: the simulated cloud)');
    expect(dialog).toContain('RTX 4090 ×1 · $0.32/h · $0.002/GB down · 800 Mbps · reliability 99.0%');
    expect(dialog).toContain('Oregon, US · offer 2 on machine 10002');
    expect(dialog).toMatch(/Job \$0\.0\d+ · \$0\.00\d+\/generation · done in about \d+m\d\ds/);
    expect(dialog).toMatch(/= \$0(\.0\d+)? disk during pull \+ \$0\.0\d+ GPU \(\d+m\d\ds\) \+ \$0\.0\d+ download/);
    expect(dialog).toMatch(/Ready in about \d+m\d\ds · 10-minute rule \$0\.\d+/);
    expect(dialog).toContain('If it is taken, vastdeck falls through to the next ranked offer.');
    expect(dialog).toContain('Billing until destroyed: disk from creation, also loading or stopped;');
    expect(dialog).toContain('GPU only while running; every GB downloaded, the image pull too.');
    expect(dialog).toContain('[ Cancel (n) ]');
    expect(dialog).toContain('[ Rent (y) ]');
    await waitForText(app, 'Enter choose');

    const after = await press(app, KEYS.enter);
    expect(after).not.toContain('Rent this offer?');
    await sleep(50);
    expect(fleet.created).toHaveLength(0);
    expect(topBorder(after, '1 Offers')).toMatch(/┏━/);
  });

  it('y rents: the selected offer first, then the rest of the ranking in order without vanished offers; focus moves to Instances', async () => {
    const fleet = new TestFleet();
    const deck = makeDeck(makeOffers(5), {fleet});
    const app = await open(deck);
    deck.market = makeOffers(5).filter(offer => offer.id !== 4);
    await press(app, 'r');
    await waitForText(app, '✗ gone');
    await press(app, 'j');
    await press(app, 'j');
    await press(app, 'c');
    const rented = await press(app, 'y');
    expect(fleet.created.map(candidates => candidates.map(row => row.offer.id))).toEqual([[3, 1, 2, 5]]);
    expect(rented).not.toContain('Rent this offer?');
    expect(topBorder(rented, '2 Instances')).toMatch(/┏━/);
  });

  it('Enter on Rent (after → or Tab) rents too; Esc and n cancel', async () => {
    const fleet = new TestFleet();
    const app = await open(makeDeck(makeOffers(3), {fleet}));
    await press(app, 'c');
    await press(app, KEYS.escape);
    await press(app, 'c');
    await press(app, 'n');
    expect(fleet.created).toHaveLength(0);
    expect(frame(app)).not.toContain('Rent this offer?');

    await press(app, 'c');
    await press(app, KEYS.right);
    await press(app, KEYS.left);
    await press(app, KEYS.tab);
    await press(app, KEYS.enter);
    expect(fleet.created.map(candidates => candidates[0]!.offer.id)).toEqual([1]);
  });

  it('keys do not leak past the dialog: q, j and 2 do nothing while it is open', async () => {
    const fleet = new TestFleet();
    let quits = 0;
    const deck = makeDeck(makeOffers(3), {fleet});
    decks.push(deck);
    const app = await renderAt(<App deck={deck} onQuit={() => quits++} />, {columns: 120, rows: 32});
    await waitForText(app, 'Offer 1 ·');
    await press(app, 'c');
    for (const key of ['q', 'j', '2', '?']) await press(app, key, 60);
    const text = frame(app);
    expect(quits).toBe(0);
    expect(text).toContain('Rent this offer?');
    expect(text).toContain('Offer 1 ·');
  });

  it('says LIVE when renting spends real money', async () => {
    const app = await open(makeDeck(makeOffers(3), {mode: 'live'}));
    expect(await press(app, 'c')).toContain('Rent this offer? LIVE: this spends real money');
  });

  it('without an SSH key the dialog offers to create one instead of renting', async () => {
    const fleet = new TestFleet({sshKey: {ok: false, message: 'No SSH key found (looked in ssh-agent and ~/.ssh).'}});
    const app = await open(makeDeck(makeOffers(3), {fleet}));
    const dialog = await press(app, 'c');
    expect(dialog).toContain('Rent: no SSH key yet');
    expect(dialog).toContain('No SSH key found (looked in ssh-agent and ~/.ssh).');
    expect(dialog).toContain('[ Create key (k) ]');
    expect(dialog).not.toContain('Rent (y)');
    await press(app, 'k');
    expect(fleet.keysCreated).toBe(1);
    expect(fleet.created).toHaveLength(0);
  });

  it('refuses to rent an offer that is gone from the market', async () => {
    const fleet = new TestFleet();
    const deck = makeDeck([makeOffer({id: 1, dphTotal: 0.3}), makeOffer({id: 2, dphTotal: 0.4})], {fleet});
    const app = await open(deck);
    deck.market = [makeOffer({id: 2, dphTotal: 0.4})];
    await press(app, 'r');
    await waitForText(app, '✗ gone');
    await press(app, 'G');
    await waitForText(app, 'gone from the market ·');
    const text = await press(app, 'c');
    expect(text).not.toContain('Rent this offer?');
    expect(await waitForText(app, 'is gone from the market: pick another one.')).toContain('Offer 1');
  });
});

describe('status line messages', () => {
  it('disappear after about 8 s (the connection line returns); errors stay 15 s', async () => {
    const deck = makeDeck(makeOffers(3));
    const app = await open(deck);
    // Model updates reach the screen on the next frame (at most 250 ms): a second of life is plenty.
    deck.messages.post('Rented it.', 'info', Date.now() - 7_000);
    await waitForText(app, 'Rented it.');
    await waitForFrame(app, text => !text.includes('Rented it.') && text.includes('127.0.0.1:40123'), 2000);

    deck.messages.post('The API refused the key.', 'error', Date.now() - 8_500);
    await waitForText(app, 'The API refused the key.');
    await sleep(300);
    expect(frame(app)).toContain('The API refused the key.');
    deck.messages.post('Older error.', 'error', Date.now() - 14_000);
    await waitForText(app, 'Older error.');
    await waitForFrame(app, text => !text.includes('Older error.'), 2000);
  });
});
