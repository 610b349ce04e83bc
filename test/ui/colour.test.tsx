// Colour against NO_COLOR. Chalk decides its colour level when it is first imported, so this file
// forces colour before anything loads; the theme then decides: the colour theme draws ESC[3x
// codes, the NO_COLOR theme none at all (only bold, dim, underline, inverse).
import {vi} from 'vitest';

vi.hoisted(() => {
  process.env.FORCE_COLOR = '1';
});

import {cleanup, render} from 'ink-testing-library';
import {afterAll, afterEach, describe, expect, it} from 'vitest';
import {App} from '../../source/ui/App.js';
import {createTheme, noColorRequested, ThemeContext} from '../../source/ui/shared/theme.js';
import {makeInstanceRow, TestFleet} from './fleet-fixtures.js';
import {makeDeck, makeOffers, type TestDeck} from './fixtures.js';
import {makeJob, TestPolicies, TestQueue} from './queue-fixtures.js';
import {KEYS, press, sleep, waitForText} from './helpers.js';

// eslint-disable-next-line no-control-regex
const COLOUR_CODE = /\u001B\[(3[0-8]|9[0-7]|4[0-8]|10[0-7])[;m]/;

const decks: TestDeck[] = [];
afterEach(() => {
  cleanup();
  for (const deck of decks.splice(0)) deck.close();
});
afterAll(() => {
  delete process.env.FORCE_COLOR;
});

async function drawAll(noColor: boolean): Promise<string> {
  const deck = makeDeck(makeOffers(6));
  decks.push(deck);
  const app = render(
    <ThemeContext.Provider value={createTheme({noColor})}>
      <App deck={deck} onQuit={() => {}} />
    </ThemeContext.Provider>,
  );
  await waitForText(app, 'Offer 1 ·');
  deck.notify('Cannot reach the Vast.ai API.', 'error');
  await waitForText(app, 'Cannot reach');
  await press(app, KEYS.tab);
  await press(app, '?');
  await sleep(20);
  return app.frames.join('');
}

describe('NO_COLOR', () => {
  it('is on for any non-empty value only', () => {
    expect(noColorRequested({NO_COLOR: '1'})).toBe(true);
    expect(noColorRequested({NO_COLOR: 'false'})).toBe(true);
    expect(noColorRequested({NO_COLOR: ''})).toBe(false);
    expect(noColorRequested({})).toBe(false);
  });

  it('the colour theme draws colour codes (so the check below means something)', async () => {
    expect(await drawAll(false)).toMatch(COLOUR_CODE);
  });

  it('the NO_COLOR theme draws no colour code in any frame, but still marks things with inverse and bold', async () => {
    const output = await drawAll(true);
    expect(output).not.toMatch(COLOUR_CODE);
    expect(output).toContain('\u001B[7m');
    expect(output).toContain('\u001B[1m');
  });
});

describe('instance and dialog tones', () => {
  it('draws FAILED instances in the bad colour, READY ones in the good colour, and highlights Cancel first in a dialog', async () => {
    const fleet = new TestFleet();
    fleet.addRows(makeInstanceRow('ok', 'READY'), makeInstanceRow('bad', 'FAILED'));
    const deck = makeDeck(makeOffers(3), {fleet});
    decks.push(deck);
    const app = render(
      <ThemeContext.Provider value={createTheme({noColor: false})}>
        <App deck={deck} onQuit={() => {}} />
      </ThemeContext.Provider>,
    );
    await waitForText(app, 'Offer 1 ·');
    const lines = (app.lastFrame() ?? '').split('\n');
    expect(lines.find(line => line.includes('✗ FAILED'))).toContain('\u001B[31m');
    expect(lines.find(line => line.includes('✓ READY'))).toContain('\u001B[32m');
    await press(app, 'c');
    await waitForText(app, 'Rent this offer?');
    expect(app.lastFrame()).toMatch(/\u001B\[7m(\u001B\[1m)?\[ Cancel \(n\) \]/);
  });
});

describe('queue, cleanup and countdown tones', () => {
  it('draws a failed job and a failed cleanup in the bad colour, a stopped instance and the countdown in the warn colour', async () => {
    const fleet = new TestFleet();
    fleet.addRows(
      makeInstanceRow('stop', 'READY', {actualStatus: 'stopped'}),
      makeInstanceRow('cfail', 'READY', {cleanup: {step: 'failed', message: 'Vast refused the destroy', failed: true}}),
    );
    const queue = new TestQueue([makeJob('failed', {error: 'ComfyUI refused the prompt.'})], 1);
    const policies = new TestPolicies({countdown: {reason: 'spend cap reached', instanceKeys: ['stop'], endsAtMs: Date.now() + 30_000}});
    const deck = makeDeck(makeOffers(3), {fleet, queue, policies});
    decks.push(deck);
    const app = render(
      <ThemeContext.Provider value={createTheme({noColor: false})}>
        <App deck={deck} onQuit={() => {}} />
      </ThemeContext.Provider>,
    );
    await waitForText(app, 'Offer 1 ·');
    await press(app, '3');
    await waitForText(app, 'ComfyUI refused');
    const lines = (app.lastFrame() ?? '').split('\n');
    expect(lines.find(line => line.includes('ComfyUI refused'))).toContain('\u001B[31m');
    expect(lines.find(line => line.includes('✗ not gone'))).toContain('\u001B[31m');
    expect(lines.find(line => line.includes('■ stopped'))).toContain('\u001B[33m');
    expect(lines.find(line => line.includes('Auto-destroy in'))).toContain('\u001B[33m');
  });
});
