// runDashboard's promises to the terminal: alternate screen in and out, raw mode off, cursor back,
// services closed before the screen is restored, then one line saying what still bills, signal
// handlers removed afterwards, and one sentence (no stack) after a crash.
import {EventEmitter} from 'node:events';
import {afterEach, beforeAll, describe, expect, it, vi} from 'vitest';
import type {DeckView} from '../../source/core/deck-types.js';
import {crashSentence, runDashboard} from '../../source/ui/run-dashboard.js';
import {makeDeck, makeOffers, type TestDeck} from './fixtures.js';
import {sleep} from './helpers.js';
import {waitFor} from '../helpers/wait-for.js';

const ENTER = '\u001B[?1049h';
const LEAVE = '\u001B[?1049l';
const SHOW_CURSOR = '\u001B[?25h';
/** After the screen is restored, the one line saying what still bills (nothing, in demo mode). */
const RESTORED_THEN_SUMMARY = `${LEAVE}${SHOW_CURSOR}vastdeck: demo ended; its simulated instances ended with it and nothing was billed.\n`;

class FakeStdout extends EventEmitter {
  isTTY = true;
  columns = 100;
  rows = 30;
  output = '';
  write = (chunk: string, callback?: () => void): boolean => {
    this.output += chunk;
    callback?.();
    return true;
  };
}

class FakeStdin extends EventEmitter {
  isTTY: boolean;
  isRaw = false;
  /** The terminal went away: setRawMode reports EIO the way a tty ReadStream does. */
  gone = false;
  rawModeCalls: boolean[] = [];
  #pending: string | null = null;
  constructor(isTTY = true) {
    super();
    this.isTTY = isTTY;
  }
  type(data: string): void {
    this.#pending = data;
    this.emit('readable');
  }
  read = (): string | null => {
    const data = this.#pending;
    this.#pending = null;
    return data;
  };
  setRawMode(enabled: boolean): this {
    if (this.gone) {
      this.emit('error', Object.assign(new Error('setRawMode EIO'), {code: 'EIO'}));
      return this;
    }
    this.isRaw = enabled;
    this.rawModeCalls.push(enabled);
    return this;
  }
  setEncoding(): this {
    return this;
  }
  ref(): this {
    return this;
  }
  unref(): this {
    return this;
  }
  resume(): this {
    return this;
  }
  pause(): this {
    return this;
  }
}

const EVENTS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'uncaughtException', 'unhandledRejection', 'exit'] as const;

function listenerCounts(): number[] {
  return EVENTS.map(event => process.listenerCount(event));
}

/**
 * The listener runDashboard added for `event`, to call directly (emitting would reach vitest's own).
 * Ink's signal-exit 3 may add its per-session handler too; that one is a function named `listener`.
 */
function addedListener(event: (typeof EVENTS)[number], before: Function[]): (...args: unknown[]) => void {
  const listeners = process.listeners.bind(process) as (name: string) => Function[];
  const added = listeners(event).filter(listener => !before.includes(listener) && listener.name !== 'listener');
  expect(added).toHaveLength(1);
  return added[0] as (...args: unknown[]) => void;
}

function start(deck: DeckView | Promise<DeckView>, onExit?: () => Promise<void>, starting?: string) {
  const stdout = new FakeStdout();
  const stdin = new FakeStdin();
  const done = runDashboard(deck, {
    stdout: stdout as unknown as NodeJS.WriteStream,
    stdin: stdin as unknown as NodeJS.ReadStream,
    onExit,
    starting,
  });
  return {stdout, stdin, done};
}

const decks: TestDeck[] = [];
afterEach(() => {
  vi.restoreAllMocks();
  for (const deck of decks.splice(0)) deck.close();
});

function deck(): TestDeck {
  const made = makeDeck(makeOffers(3));
  decks.push(made);
  return made;
}

describe('runDashboard', () => {
  // Ink's cursor handling installs signal-exit's own SIGINT/SIGTERM/SIGHUP handlers on first use
  // and keeps them; one session up front lets the counts below see only runDashboard's handlers.
  beforeAll(async () => {
    const {stdin, done} = start(deck());
    await sleep(50);
    stdin.type('q');
    await done;
  });

  it('draws in the alternate screen and restores the terminal on q, after closing services', async () => {
    const before = listenerCounts();
    let outputWhenClosing = '';
    const {stdout, stdin, done} = start(deck(), async () => {
      outputWhenClosing = stdout.output;
    });
    await sleep(100);
    expect(stdout.output.startsWith(ENTER)).toBe(true);
    expect(stdin.isRaw).toBe(true);

    stdin.type('q');
    await done;
    expect(outputWhenClosing).toContain('1 Offers');
    expect(outputWhenClosing).not.toContain(LEAVE);
    expect(stdout.output.endsWith(RESTORED_THEN_SUMMARY)).toBe(true);
    expect(stdin.isRaw).toBe(false);
    expect(listenerCounts()).toEqual(before);
  });

  it('draws its first frame before the services are ready, then the dashboard, and loses no key typed the moment it appears', async () => {
    let ready!: (deck: DeckView) => void;
    const {stdout, stdin, done} = start(new Promise<DeckView>(resolve => (ready = resolve)), undefined, 'Starting the simulated Vast.ai cloud…');
    // Drawn without waiting for the services; polled, as a loaded machine may take a moment to draw at all.
    await waitFor('the first frame', () => stdout.output.includes('Starting the simulated Vast.ai cloud…'), 5000, 10);
    expect(stdout.output).not.toContain('DEMO');
    const made = deck();
    ready(made);
    // The key comes in the same turn the dashboard is drawn: the keyboard was there all along.
    await Promise.resolve();
    stdin.type('?');
    await waitFor('the help the key opened', () => /Keys \(/.test(stdout.output), 5000, 10);
    expect(stdout.output).toContain('DEMO');
    stdin.type('\u001B');
    await sleep(30);
    stdin.type('q');
    await done;
  });

  it('quits from the first frame, and a service that fails to start leaves the screen and says why', async () => {
    const quitting = start(new Promise<DeckView>(() => {}), undefined, 'Starting…');
    await sleep(50);
    quitting.stdin.type('q');
    await quitting.done;
    expect(quitting.stdout.output).toContain(LEAVE);

    const failing = start(Promise.reject(new Error('no key')), undefined, 'Connecting…');
    await expect(failing.done).rejects.toThrow('no key');
    expect(failing.stdout.output).toContain(LEAVE);
  });

  it('quits on Ctrl-C', async () => {
    const {stdout, stdin, done} = start(deck());
    await sleep(100);
    stdin.type('\u0003');
    await done;
    expect(stdout.output).toContain(LEAVE);
  });

  it.each(['SIGTERM', 'SIGHUP', 'SIGINT'] as const)('restores the terminal on %s and removes its handlers', async signal => {
    const before = listenerCounts();
    const existing = process.listeners(signal);
    const {stdout, done} = start(deck());
    await sleep(50);
    addedListener(signal, existing)();
    await done;
    expect(stdout.output.endsWith(RESTORED_THEN_SUMMARY)).toBe(true);
    expect(listenerCounts()).toEqual(before);
  });

  it('quits cleanly, closing services, when the terminal goes away (setRawMode EIO on SIGHUP)', async () => {
    const before = listenerCounts();
    const existing = process.listeners('SIGHUP');
    const exit = vi.spyOn(process, 'exit').mockImplementation((() => undefined) as never);
    const onExit = vi.fn(async () => {});
    const {stdin, done} = start(deck(), onExit);
    await sleep(50);
    stdin.gone = true;
    addedListener('SIGHUP', existing)();
    await done;
    expect(onExit).toHaveBeenCalledTimes(1);
    expect(exit).not.toHaveBeenCalled();
    expect(listenerCounts()).toEqual(before);
    expect(stdin.listenerCount('error')).toBe(0);
  });

  it('after an uncaught exception restores first, then prints one sentence and exits 1', async () => {
    const existing = process.listeners('uncaughtException');
    const exit = vi.spyOn(process, 'exit').mockImplementation((() => undefined) as never);
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const {stdout, done} = start(deck());
    await sleep(50);
    let leftBeforePrinting = false;
    stderr.mockImplementation(() => {
      leftBeforePrinting = stdout.output.includes(LEAVE);
      return true;
    });
    addedListener('uncaughtException', existing)(new Error('boom\n    at somewhere (file.js:1:1)'));
    await done;
    expect(leftBeforePrinting).toBe(true);
    expect(exit).toHaveBeenCalledWith(1);
    const printed = stderr.mock.calls.map(call => String(call[0])).join('');
    expect(printed).toBe('vastdeck closed the dashboard after an unexpected error: Unexpected problem: boom.\n');
    expect(stdout.output.split(LEAVE)).toHaveLength(2);
  });

  it('turns a render error into the same one sentence', async () => {
    const exit = vi.spyOn(process, 'exit').mockImplementation((() => undefined) as never);
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const broken = deck();
    const offers = Object.create(broken.offers) as typeof broken.offers;
    offers.getSnapshot = () => {
      throw new Error('snapshot exploded');
    };
    const {stdout, done} = start({...broken, offers});
    await done;
    expect(exit).toHaveBeenCalledWith(1);
    expect(stdout.output).toContain(LEAVE);
    const printed = stderr.mock.calls.map(call => String(call[0])).join('');
    expect(printed).toContain('snapshot exploded');
    expect(printed.trim().split('\n')).toHaveLength(1);
  });

  it('refuses to start without an interactive terminal, touching nothing', async () => {
    const stdout = new FakeStdout();
    const run = runDashboard(deck(), {stdout: stdout as unknown as NodeJS.WriteStream, stdin: new FakeStdin(false) as unknown as NodeJS.ReadStream});
    await expect(run).rejects.toThrow(/needs an interactive terminal/);
    expect(stdout.output).toBe('');
  });

  it('says one sentence for any error', () => {
    expect(crashSentence(new Error('disk full'))).toBe('vastdeck closed the dashboard after an unexpected error: Unexpected problem: disk full.');
    expect(crashSentence('weird')).toMatch(/^vastdeck closed the dashboard after an unexpected error: .*\.$/);
  });
});
