// Destroying from the Instances pane: d asks with Cancel highlighted first and says what is not home
// yet ("checking…" until fleet.pendingOutputs answers); Destroy brings everything home first (no
// force); Force destroy needs a second, explicit yes. D destroys every instance only once the word
// destroy is typed. Rows being destroyed show the cleanup step; stopped rows say they still bill.
import {cleanup} from 'ink-testing-library';
import {afterEach, describe, expect, it} from 'vitest';
import {App} from '../../source/ui/App.js';
import {makeInstanceRow, TestFleet} from './fleet-fixtures.js';
import {makeDeck, makeOffers, type TestDeck} from './fixtures.js';
import {frame, KEYS, press, renderAt, sleep, typeText, waitForText, type Rendered} from './helpers.js';

const decks: TestDeck[] = [];
afterEach(() => {
  cleanup();
  for (const deck of decks.splice(0)) deck.close();
});

async function open(fleet: TestFleet, size = {columns: 120, rows: 32}): Promise<Rendered> {
  const deck = makeDeck(makeOffers(5), {fleet});
  decks.push(deck);
  const app = await renderAt(<App deck={deck} onQuit={() => {}} />, size);
  await waitForText(app, 'Offer 1 ·');
  await press(app, '2');
  return app;
}

function twoReady(): TestFleet {
  const fleet = new TestFleet();
  fleet.addRows(makeInstanceRow('ready', 'READY'), makeInstanceRow('other', 'READY', {dphTotal: 0.5}));
  return fleet;
}

describe('d: destroy one instance', () => {
  it('says "checking…" until the pending outputs are known, then how many come home; Cancel is the default', async () => {
    const fleet = twoReady();
    let release = () => {};
    fleet.pendingGate = new Promise<void>(resolve => {
      release = resolve;
    });
    fleet.pending = {files: 3, note: '2 of 5 output files are already home.'};
    const app = await open(fleet);
    const dialog = await press(app, 'd');
    expect(dialog).toMatch(/Destroy instance 26\d{6}\?/);
    expect(dialog).toContain('checking which outputs are not downloaded yet…');
    expect(dialog).toContain('[ Cancel (n) ]');
    expect(dialog).toContain('[ Destroy (d) ]');
    expect(dialog).toContain('[ Force destroy (skip download) (f) ]');
    expect(fleet.pendingAsked).toEqual(['ready']);
    release();
    const known = await waitForText(app, '3 output files and the logs will be brought home first.');
    expect(known).not.toContain('checking which outputs');
    expect(known).toContain('2 of 5 output files are already home.');

    const after = await press(app, KEYS.enter);
    expect(after).not.toContain('Destroy instance');
    await sleep(30);
    expect(fleet.destroyed).toEqual([]);
  });

  it('shows the note fleet.pendingOutputs gives instead of a count', async () => {
    const fleet = twoReady();
    fleet.pending = {files: 0, note: 'The instance does not answer over SSH: only what the queue already brought home is safe.'};
    const app = await open(fleet);
    await press(app, 'd');
    await waitForText(app, 'The instance does not answer over SSH');
  });

  it('Destroy (d, or Enter after →) destroys the selected instance without force', async () => {
    const fleet = twoReady();
    const app = await open(fleet);
    await press(app, 'j');
    await press(app, 'd');
    await press(app, 'd');
    expect(fleet.destroyed).toEqual([{key: 'other'}]);
    await press(app, 'd');
    await press(app, KEYS.right);
    await press(app, KEYS.enter);
    expect(fleet.destroyed).toEqual([{key: 'other'}, {key: 'other'}]);
  });

  it('Force destroy asks a second time, in red, with Cancel first; only y then forces', async () => {
    const fleet = twoReady();
    fleet.pending = {files: 2};
    const app = await open(fleet);
    await press(app, 'd');
    await waitForText(app, '2 output files');
    const second = await press(app, 'f');
    expect(second).toMatch(/Force destroy instance 26\d{6}\? Nothing is brought home/);
    expect(second).toContain('Force destroy skips the download: 2 output files and the logs on the');
    expect(second).toContain('instance are lost for good.');
    expect(second).toContain('[ Yes, force destroy (y) ]');
    expect(fleet.destroyed).toEqual([]);
    // Enter on the second question: Cancel is highlighted again.
    expect(await press(app, KEYS.enter)).not.toContain('Force destroy');
    await sleep(30);
    expect(fleet.destroyed).toEqual([]);

    await press(app, 'd');
    await press(app, 'f');
    await press(app, 'y');
    expect(fleet.destroyed).toEqual([{key: 'ready', options: {force: true}}]);
  });

  it('says so instead of asking for an instance already being destroyed or gone', async () => {
    const fleet = new TestFleet();
    fleet.addRows(
      makeInstanceRow('busy', 'READY', {cleanup: {step: 'extract-outputs', message: 'ComfyUI_00003_.png'}}),
      makeInstanceRow('gone', 'READY', {ledgerState: 'destroyed'}),
    );
    const app = await open(fleet);
    await press(app, 'd');
    expect(await waitForText(app, 'is already being destroyed: extracting.')).not.toContain('Destroy instance');
    await press(app, 'j');
    await press(app, 'd');
    await waitForText(app, 'is already gone: it bills nothing.');
  });
});

describe('D: destroy all instances', () => {
  it('needs the word destroy typed: Enter before does nothing, then every instance is destroyed (not forced)', async () => {
    const fleet = twoReady();
    const app = await open(fleet);
    const dialog = await press(app, 'D');
    expect(dialog).toContain('Destroy ALL 2 instances?');
    expect(dialog).toContain('All 2 instances ($0.90/h together) will be destroyed:');
    expect(dialog).toContain('Nothing is destroyed until you type destroy and press Enter.');
    await press(app, KEYS.enter);
    expect(await waitForText(app, 'Type the word destroy to confirm, or press Esc.')).toContain('Destroy ALL');
    await typeText(app, 'destro');
    await press(app, KEYS.enter);
    await waitForText(app, 'Type the word destroy to confirm (not "destro"), or press Esc.');
    expect(fleet.destroyed).toEqual([]);
    await typeText(app, 'y');
    expect(frame(app)).toContain('Enter destroys all 2.');
    const closed = await press(app, KEYS.enter);
    expect(closed).not.toContain('Destroy ALL');
    expect(fleet.destroyed).toEqual([{key: 'ready'}, {key: 'other'}]);
    await waitForText(app, 'Destroying 2 instances: outputs and logs come home first');
  });

  it('Esc cancels, and keys typed there do not reach the panes', async () => {
    const fleet = twoReady();
    const app = await open(fleet);
    await press(app, 'D');
    await typeText(app, 'dq1');
    expect(frame(app)).toContain('Type destroy: dq1');
    expect(await press(app, KEYS.escape)).not.toContain('Destroy ALL');
    expect(fleet.destroyed).toEqual([]);
  });
});

describe('rows being destroyed and stopped rows', () => {
  it('show the cleanup step in place of the stage, and flag stopped instances as still billing storage', async () => {
    const fleet = new TestFleet();
    fleet.addRows(
      makeInstanceRow('clean', 'READY', {cleanup: {step: 'extract-outputs', message: 'ComfyUI_00003_.png (2.1 MB)'}}),
      makeInstanceRow('conf', 'READY', {cleanup: {step: 'confirm-gone', message: 'waiting for the instance list'}}),
      makeInstanceRow('fail', 'READY', {cleanup: {step: 'failed', message: 'Vast refused the destroy (HTTP 500)', failed: true}}),
      makeInstanceRow('stop', 'READY', {actualStatus: 'stopped'}),
    );
    const app = await open(fleet, {columns: 160, rows: 40});
    const text = await waitForText(app, 'extracting');
    expect(text).toMatch(/[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] extracting +ComfyUI_00003_\.png \(2\.1 MB\)/);
    expect(text).toMatch(/[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] confirming +waiting for the instance/);
    expect(text).toMatch(/✗ not gone +Vast refused the destroy/);
    expect(text).toMatch(/■ stopped +still billing storage/);
    await press(app, 'G');
    expect(frame(app)).toContain('stopped · still billing storage');
    const dialog = await press(app, 'd');
    expect(dialog).toContain('stopped · still billing storage until it is destroyed.');
  });

  it('still fits 80×24 with the destroy dialog open', async () => {
    const fleet = twoReady();
    const app = await open(fleet, {columns: 80, rows: 24});
    const text = await press(app, 'd');
    const lines = text.split('\n');
    expect(lines).toHaveLength(23);
    for (const line of lines) expect([...line].length).toBeLessThanOrEqual(80);
    expect(text).toContain('[ Force destroy (skip download) (f) ]');
  });
});
