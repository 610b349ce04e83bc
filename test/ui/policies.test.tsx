// The auto-destroy policies in the dashboard: a countdown shows as a banner under the header with
// the seconds left and why, and X (from any pane) cancels it; A turns destroy-when-drained on and
// off, and the Queue pane's header shows the policy; the help lists the new keys, marking the
// dangerous ones; everything still fits 80×24.
import {cleanup} from 'ink-testing-library';
import {afterEach, describe, expect, it} from 'vitest';
import {App} from '../../source/ui/App.js';
import {HELP_TABLES} from '../../source/ui/help-tables.js';
import {helpLines} from '../../source/ui/shared/HelpOverlay.js';
import {makeDeck, makeOffers, type TestDeck} from './fixtures.js';
import {frame, KEYS, press, renderAt, waitForFrame, waitForText, type Rendered} from './helpers.js';
import {TestPolicies} from './queue-fixtures.js';

const decks: TestDeck[] = [];
afterEach(() => {
  cleanup();
  for (const deck of decks.splice(0)) deck.close();
});

async function open(policies: TestPolicies, size = {columns: 120, rows: 32}): Promise<Rendered> {
  const deck = makeDeck(makeOffers(5), {policies});
  decks.push(deck);
  const app = await renderAt(<App deck={deck} onQuit={() => {}} />, size);
  await waitForText(app, 'Offer 1 ·');
  return app;
}

const countdown = (seconds: number) => ({reason: 'the queue is empty (destroy when drained)', instanceKeys: ['a', 'b'], endsAtMs: Date.now() + seconds * 1000});

describe('auto-destroy countdown', () => {
  it('shows a banner with the seconds left and the reason, counting down; X cancels it', async () => {
    const policies = new TestPolicies({countdown: countdown(42)});
    const app = await open(policies);
    const text = await waitForText(app, 'Auto-destroy in 42 s: the queue is empty (destroy when drained) — press X to cancel');
    expect(text.split('\n')[1]).toContain('Auto-destroy in 42 s');
    await waitForText(app, 'Auto-destroy in 41 s', 2500);

    const cancelled = await press(app, 'X');
    expect(policies.cancels).toBe(1);
    expect(cancelled).not.toContain('Auto-destroy in');
    await waitForText(app, 'Auto-destroy cancelled: the instances keep running (and billing).');
  });

  it('works from any pane and inside an open form, where X is text while nothing counts down', async () => {
    const policies = new TestPolicies();
    const app = await open(policies);
    policies.set({countdown: countdown(5)});
    await waitForText(app, 'Auto-destroy in 5 s');
    await press(app, '2');
    await press(app, 'X');
    expect(policies.cancels).toBe(1);
    policies.set({countdown: undefined});
    await press(app, '3');
    await press(app, 'a');
    await waitForText(app, 'Add a generation job');
    await press(app, KEYS.tab);
    const typed = await press(app, 'X');
    expect(typed).toMatch(/Image path\s+X/);
    expect(policies.cancels).toBe(1);
    policies.set({countdown: countdown(5)});
    await waitForText(app, 'Auto-destroy in 5 s');
    const cancelled = await press(app, 'X');
    expect(policies.cancels).toBe(2);
    expect(cancelled).toContain('Add a generation job');
    expect(cancelled).toMatch(/Image path\s+X /);
  });

  it('says it is destroying now once the time is up', async () => {
    const app = await open(new TestPolicies({countdown: countdown(0)}));
    await waitForText(app, 'Auto-destroying now: the queue is empty (destroy when drained)');
  });

  it('keeps the screen rows - 1 tall at 80×24 with the banner', async () => {
    const policies = new TestPolicies();
    const app = await open(policies, {columns: 80, rows: 24});
    policies.set({countdown: countdown(30)});
    const text = await waitForText(app, 'Auto-destroy in');
    const lines = text.split('\n');
    expect(lines).toHaveLength(23);
    for (const line of lines) expect([...line].length).toBeLessThanOrEqual(80);
  });
});

describe('destroy when drained', () => {
  it('A toggles it from any pane, the Queue header follows, and the message line says what now holds', async () => {
    const policies = new TestPolicies({destroyWhenDrained: false, idleMinutes: 0, spendCapUsd: 0, spentUsd: 0.5});
    const app = await open(policies, {columns: 160, rows: 40});
    expect(frame(app)).toContain('auto-destroy: drained off · idle off · no cap (spent $0.50)');
    await press(app, 'A');
    expect(policies.toggles).toBe(1);
    await waitForText(app, 'auto-destroy: drained on · idle off · no cap (spent $0.50)');
    await waitForText(app, 'Destroy when drained is on');
    await press(app, '3');
    await press(app, 'A');
    await waitForFrame(app, text => text.includes('drained off') && text.includes('Destroy when drained is off'));
    expect(policies.toggles).toBe(2);
  });
});

describe('help', () => {
  it('lists the queue, job, destroy and policy keys, and marks the dangerous ones', () => {
    const lines = helpLines(HELP_TABLES);
    const find = (text: string) => lines.find(line => line.text.includes(text));
    for (const text of ['Add a job', 'Job detail: nodes', "Open the job's output folder", 'Clear done/cancelled jobs', 'Retry the selected failed', 'Cancel the auto-destroy countdown', 'Destroy instances once the queue is empty']) {
      expect(find(text), text).toBeDefined();
    }
    expect(find('Destroy the instance')).toMatchObject({keys: 'd', dangerous: true});
    expect(find('Destroy ALL instances')).toMatchObject({keys: 'D', dangerous: true});
    expect(find('Cancel the selected job')).toMatchObject({keys: 'x', dangerous: true});
    expect(find('Add a job')).toMatchObject({keys: 'a', dangerous: false});
  });
});
