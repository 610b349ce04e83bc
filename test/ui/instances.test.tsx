// The Instances pane as a user sees it: every stage in the table (spinner, download bar, failure
// reason), the honest empty states, the SSH key, the portal secret on request, the detail view with
// the stage timeline, and the room the layout gives it.
import {cleanup} from 'ink-testing-library';
import {afterEach, describe, expect, it} from 'vitest';
import type {FleetSnapshot} from '../../source/core/deck-types.js';
import {App} from '../../source/ui/App.js';
import {makeInstanceRow, makeStage, TestFleet} from './fleet-fixtures.js';
import {makeDeck, makeOffers, type TestDeck} from './fixtures.js';
import {frame, KEYS, press, renderAt, waitForFrame, waitForText, type Rendered} from './helpers.js';

const decks: TestDeck[] = [];
afterEach(() => {
  cleanup();
  for (const deck of decks.splice(0)) deck.close();
});

async function open(fleet: TestFleet, size = {columns: 160, rows: 40}): Promise<{app: Rendered; deck: TestDeck}> {
  const deck = makeDeck(makeOffers(5), {fleet});
  decks.push(deck);
  const app = await renderAt(<App deck={deck} onQuit={() => {}} />, size);
  await waitForText(app, 'Offer 1 ·');
  await press(app, '2');
  return {app, deck};
}

/** The lines of the Instances pane's table: they start with an instance id (the selected-instance line has ' · ' after it). */
function instanceLines(text: string): string[] {
  return text.split('\n').filter(line => /^[│┃] 26\d{6} +(?!·)/.test(line));
}

function everyStage(): TestFleet {
  const fleet = new TestFleet();
  const now = Date.now();
  fleet.addRows(
    makeInstanceRow('init', 'INITIALIZING', {runningSinceMs: undefined}),
    makeInstanceRow('prov', 'PROVISIONING'),
    makeInstanceRow('down', 'DOWNLOADING', {
      stage: makeStage('DOWNLOADING', now - 60_000, {
        download: {file: 'sd_xl_base_1.0.safetensors', pct: 43, bytesDone: 2.81 * 2 ** 30, bytesTotal: 6.46 * 2 ** 30, rateBytesPerSec: 33.6 * 2 ** 20, etaSec: 108, stalled: true, resumed: true, filesDone: 0, filesTotal: 2},
      }),
    }),
    makeInstanceRow('start', 'STARTING_APP'),
    makeInstanceRow('ready', 'READY', {accruedUsd: 0.0456}),
    makeInstanceRow('fail', 'FAILED'),
  );
  return fleet;
}

describe('instances table', () => {
  it('shows each stage: a spinner while booting, the download bar with %, rate, ETA and marks, READY and the FAILED reason', async () => {
    const {app} = await open(everyStage());
    const lines = instanceLines(await waitForText(app, 'STARTING_APP'));
    expect(lines).toHaveLength(6);
    const [init, prov, down, start, ready, fail] = lines as [string, string, string, string, string, string];
    expect(init).toMatch(/[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] INITIALIZING/);
    expect(init).toContain('Vast loading');
    expect(prov).toMatch(/[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] PROVISIONING .*Provisioner starting/);
    expect(down).toMatch(/DOWNLOADING  █+░+ 43% 1m48s stalled /);
    // The bar's width depends only on the cell's, never on the figures beside it.
    expect(/█+░+/.exec(down)?.[0]).toHaveLength(12);
    expect(start).toMatch(/[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] STARTING_APP/);
    expect(ready).toContain('✓ READY');
    expect(ready).toContain('ComfyUI answers');
    expect(ready).toContain('$0.0456');
    expect(fail).toContain('✗ FAILED');
    expect(fail).toContain('A model download was refused');
    expect(frame(app)).toContain('6 billing · $2.40/h');
  });

  it('keeps the selection on the same instance when the list changes, and says what the table has no room for', async () => {
    const fleet = everyStage();
    const {app} = await open(fleet);
    await press(app, 'j');
    expect(await press(app, 'j')).toContain('vastdeck:down ·');
    fleet.set({rows: [makeInstanceRow('new', 'INITIALIZING'), ...fleet.getSnapshot().rows]});
    await waitForFrame(app, text => instanceLines(text).length === 7);
    expect(frame(app)).toContain('vastdeck:down ·');
    expect(await press(app, 'G')).toContain('vastdeck:fail ·');
  });
});

describe('empty states', () => {
  const noKey: FleetSnapshot['sshKey'] = {ok: false, message: 'No SSH key found (looked in ssh-agent and ~/.ssh/id_ed25519).'};

  it('without an SSH key: the rent sentence and the way to a key', async () => {
    const {app} = await open(new TestFleet({sshKey: noKey}), {columns: 120, rows: 32});
    const text = await waitForText(app, 'press K to let vastdeck create');
    expect(text.replace(/[│┃]\s*\n[┃│]\s*/g, ' ')).toContain('No instances yet. Select an offer in Offers and press c to rent it.');
    expect(text).toContain('~/.ssh/vastdeck_ed25519');
  });

  it('with a key: the rent sentence and which key the logs use', async () => {
    const {app} = await open(new TestFleet(), {columns: 160, rows: 32});
    const text = await waitForText(app, 'No instances yet. Select an offer in Offers and press c to rent it.');
    expect(text).toContain('Logs stream over SSH with ~/.ssh/id_ed25519.');
    expect(text).not.toContain('press K');
  });

  it('says it is checking the account before the first reconcile, and shows creates in flight', async () => {
    const fleet = new TestFleet({reconciled: false});
    const {app} = await open(fleet);
    let text = await waitForText(app, 'checking the account for instances…');
    expect(text).not.toContain('No instances yet');
    fleet.set({reconciled: true, creating: ['renting RTX 4090 ×1 (offer 1)…']});
    text = await waitForText(app, 'renting RTX 4090 ×1 (offer 1)…');
    expect(text).not.toContain('checking the account');
    expect(text).not.toContain('No instances yet');
  });

  it('K creates an SSH key only after the dialog is confirmed (Cancel is the default)', async () => {
    const fleet = new TestFleet({sshKey: noKey});
    const {app} = await open(fleet);
    expect(await press(app, 'K')).toContain('Create an SSH key?');
    const cancelled = await press(app, KEYS.enter);
    expect(cancelled).not.toContain('Create an SSH key?');
    expect(fleet.keysCreated).toBe(0);
    await press(app, 'K');
    await press(app, 'k');
    expect(fleet.keysCreated).toBe(1);
    expect(await waitForText(app, 'Logs stream over SSH with ~/.ssh/vastdeck_ed25519.')).not.toContain('press K');
  });
});

describe('portal secret', () => {
  it('is never shown until p, is marked secret, and hides again on p or when another instance is selected', async () => {
    const fleet = everyStage();
    fleet.secrets.set('init', {token: 'tok-SECRET-123', comfyui: 'https://1.2.3.4:8188/', instancePortal: 'https://1.2.3.4:1111/'});
    const {app} = await open(fleet);
    expect(frame(app)).not.toContain('tok-SECRET-123');
    const shown = await press(app, 'p');
    expect(shown).toContain('tok-SECRET-123');
    expect(shown).toContain('SECRET (p hides it)');
    expect(shown).toContain('https://1.2.3.4:8188/');
    expect(await press(app, 'p')).not.toContain('tok-SECRET-123');
    await press(app, 'p');
    expect(await press(app, 'j')).not.toContain('tok-SECRET-123');
    expect(await press(app, 'k')).not.toContain('tok-SECRET-123');
  });
});

describe('portal copy and open', () => {
  it('y copies the token through OSC 52 without drawing it, and o opens ComfyUI through the fleet', async () => {
    const fleet = everyStage();
    fleet.secrets.set('init', {token: 'tok-SECRET-123', comfyui: 'https://1.2.3.4:8188/'});
    const {app} = await open(fleet);
    const before = app.stdout.frames.length;
    const after = await press(app, 'y');
    const written = app.stdout.frames.slice(before).join('');
    expect(written).toContain(`\u001B]52;c;${Buffer.from('tok-SECRET-123').toString('base64')}\u0007`);
    expect(after).not.toContain('tok-SECRET-123');
    await press(app, 'o');
    expect(fleet.opened).toEqual(['init']);
  });
});

describe('detail view', () => {
  it('Enter opens the stage timeline with time offsets and evidence over the whole body; Esc returns', async () => {
    const {app} = await open(everyStage(), {columns: 120, rows: 32});
    await press(app, 'j');
    const detail = await press(app, KEYS.enter);
    expect(detail).toContain('2 Instances › ');
    expect(detail).not.toContain('1 Offers sort');
    expect(detail).toMatch(/INITIALIZING +\+0s +Instance created; waiting for Vast to start the container/);
    expect(detail).toMatch(/PROVISIONING +\+8s +Provisioner starting \(version 1\)/);
    expect(detail).toContain('Esc back');
    const list = await press(app, KEYS.escape);
    expect(list).toContain('1 Offers sort');
    expect(instanceLines(list)).toHaveLength(6);
  });

  it('shows the failure reason, evidence and fix of a FAILED instance, and the download of a downloading one', async () => {
    const {app} = await open(everyStage(), {columns: 160, rows: 40});
    await press(app, 'G');
    const failed = await press(app, KEYS.enter);
    expect(failed).toContain('Failed:   A model download was refused (HTTP 401)');
    expect(failed).toContain('Evidence: ERROR: HTTP 401 Unauthorized');
    expect(failed).toContain('Fix:      Set HF_TOKEN');
    await press(app, '[');
    await press(app, '[');
    const downloading = await press(app, '[');
    expect(downloading).toContain('43% · 2.81 GB of 6.46 GB · 282 Mbps · ETA 1m48s · sd_xl_base_1.0.safetensors (file 1 of 2)');
    expect(downloading).toContain('stalled resumed');
  });

  it('switches instances with ] and [ at once, each with its own log', async () => {
    const fleet = everyStage();
    fleet.log('init').push('first instance says hello');
    fleet.log('prov').push('second instance says hi');
    const {app} = await open(fleet);
    expect(await press(app, 'l')).toContain('first instance says hello');
    const second = await press(app, ']');
    expect(second).toContain('second instance says hi');
    expect(second).not.toContain('first instance says hello');
    expect(await press(app, '[')).toContain('first instance says hello');
  });
});

describe('layout with instances', () => {
  /** Rows of the pane whose top border carries `title`, borders included. */
  function paneHeight(text: string, title: string): number {
    const lines = text.split('\n');
    const top = lines.findIndex(line => line.includes(`─ ${title}`) || line.includes(`━ ${title}`));
    const column = [...lines[top]!].findIndex(char => char === '┌' || char === '┏');
    const bottom = lines.findIndex((line, index) => index > top && ['└', '┗'].includes([...line][column] ?? ''));
    return bottom - top + 1;
  }

  it('gives Instances half the height once there are instances, and still fits 80×24', async () => {
    const fleet = new TestFleet();
    const deck = makeDeck(makeOffers(30), {fleet});
    decks.push(deck);
    const app = await renderAt(<App deck={deck} onQuit={() => {}} />, {columns: 80, rows: 24});
    await waitForText(app, 'Offer 1 ·');
    const before = paneHeight(frame(app), '2 Instances');
    fleet.addRows(makeInstanceRow('a', 'PROVISIONING'), makeInstanceRow('b', 'DOWNLOADING'));
    const text = await waitForFrame(app, current => instanceLines(current).length === 2);
    expect(paneHeight(text, '2 Instances')).toBeGreaterThan(before);
    // 80 columns: Instances takes the full width over Queue; Offers keeps half the body.
    expect(paneHeight(text, '2 Instances')).toBeGreaterThanOrEqual(7);
    expect(paneHeight(text, '1 Offers')).toBe(10);
    expect(text.split('\n')).toHaveLength(23);
    await press(app, '2');
    const detail = await press(app, KEYS.enter);
    expect(detail.split('\n')).toHaveLength(23);
    for (const line of detail.split('\n')) expect([...line].length).toBeLessThanOrEqual(80);
  });
});
