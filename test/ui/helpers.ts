// Test helpers for the dashboard: render <App> at a chosen terminal size with ink-testing-library,
// press keys the way a terminal sends them and wait for the frame to settle, and wait for text.
// Ink drops input written right after render and re-subscribes handlers after every render, so
// every key waits ~20 ms and then until the frame changes (or a timeout, for keys that change nothing).
import {render} from 'ink-testing-library';
import type {ReactElement} from 'react';

export const KEYS = {
  up: '\u001B[A',
  down: '\u001B[B',
  right: '\u001B[C',
  left: '\u001B[D',
  home: '\u001B[H',
  end: '\u001B[F',
  pageUp: '\u001B[5~',
  pageDown: '\u001B[6~',
  tab: '\t',
  shiftTab: '\u001B[Z',
  escape: '\u001B',
  enter: '\r',
  backspace: '\u007F',
  ctrlA: '\u0001',
  ctrlC: '\u0003',
  ctrlE: '\u0005',
  ctrlU: '\u0015',
} as const;

export type Rendered = ReturnType<typeof render>;

export const sleep = (ms: number) =>
  new Promise<void>(resolve => {
    setTimeout(resolve, ms);
  });

/** Render at `columns`×`rows` (ink-testing-library's stdout is 100 wide and has no height). */
export async function renderAt(element: ReactElement, size: {columns: number; rows: number}): Promise<Rendered> {
  const app = render(element);
  resize(app, size);
  await sleep(30);
  return app;
}

export function resize(app: Rendered, size: {columns: number; rows: number}): void {
  Object.defineProperty(app.stdout, 'columns', {value: size.columns, configurable: true});
  Object.defineProperty(app.stdout, 'rows', {value: size.rows, configurable: true});
  app.stdout.emit('resize');
}

export function frame(app: Rendered): string {
  return app.lastFrame() ?? '';
}

/** Write one key, wait 20 ms, then until the frame changes (at most `timeoutMs`). */
export async function press(app: Rendered, key: string, timeoutMs = 300): Promise<string> {
  const before = frame(app);
  app.stdin.write(key);
  await sleep(20);
  const deadline = Date.now() + timeoutMs;
  while (frame(app) === before && Date.now() < deadline) await sleep(10);
  await sleep(10);
  return frame(app);
}

/** Type text one character at a time. */
export async function typeText(app: Rendered, text: string): Promise<string> {
  for (const character of text) await press(app, character, 100);
  return frame(app);
}

/** Wait until the frame satisfies `check`; fails with the last frame when it never does. */
export async function waitForFrame(app: Rendered, check: (text: string) => boolean, timeoutMs = 2000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (!check(frame(app))) {
    if (Date.now() > deadline) throw new Error(`The frame never matched. Last frame:\n${frame(app)}`);
    await sleep(10);
  }
  return frame(app);
}

export const waitForText = (app: Rendered, text: string, timeoutMs?: number) => waitForFrame(app, current => current.includes(text), timeoutMs);
