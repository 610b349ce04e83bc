// Runs the full-screen dashboard (called by cli.tsx). Ink 6 has no alternate-screen option, so
// this enters the alternate screen itself (with bracketed paste on, so a paste reaches a text field
// whole), renders <App>, and restores the terminal on q, Ctrl-C, SIGINT/SIGTERM/SIGHUP or a crash,
// with a process 'exit' fallback. Restoring is idempotent. When the terminal goes away (a closed
// window or SSH session: stdin reports EIO), it quits cleanly. Its last line says what still bills.
import {render} from 'ink';
import {InputError, toVastdeckError} from '../core/errors.js';
import type {DeckView, InstanceRow} from '../core/deck-types.js';
import {App} from './App.js';
import {Booting} from './Booting.js';
import {KeyboardProvider} from './keys/Keyboard.js';
import {billingAfterQuit} from './QuitDialog.js';
import {reportFrameCost} from './shared/frame-clock.js';

const ENTER_ALTERNATE_SCREEN = '\u001B[?1049h\u001B[?2004h';
const LEAVE_ALTERNATE_SCREEN = '\u001B[?2004l\u001B[?1049l';
const SHOW_CURSOR = '\u001B[?25h';

export interface DashboardOptions {
  stdout?: NodeJS.WriteStream;
  stdin?: NodeJS.ReadStream;
  /** Called to close services after the dashboard unmounts and before the screen is restored. */
  onExit?: () => Promise<void>;
}

/** The one sentence printed after a crash: no stack, the error's own message when it has one. */
export function crashSentence(error: unknown): string {
  const message = toVastdeckError(error).message.replace(/\s+$/, '');
  return `vastdeck closed the dashboard after an unexpected error: ${message}${/[.!?]$/.test(message) ? '' : '.'}`;
}

/**
 * Runs the dashboard until quit. `deck` may still be starting (a promise): the first frame is drawn
 * at once with what is starting, and the dashboard appears when the services are ready; a failure
 * to start leaves the screen and is thrown as the one error sentence.
 */
export async function runDashboard(deck: DeckView | Promise<DeckView>, options: DashboardOptions & {starting?: string} = {}): Promise<void> {
  const stdout = options.stdout ?? process.stdout;
  const stdin = options.stdin ?? process.stdin;
  if (!stdin.isTTY) {
    throw new InputError('The dashboard needs an interactive terminal on stdin: run it in a terminal, or use `vastdeck offers` for plain output.');
  }

  let restored = false;
  const restore = () => {
    if (restored) return;
    restored = true;
    // A terminal that is gone (hung up) fails these; there is nothing left to restore then, and
    // the write's EIO arrives as an 'error' event after the session's listeners are removed.
    const ignore = () => {};
    try {
      if (stdin.isRaw) stdin.setRawMode(false);
      stdout.once('error', ignore);
      stdout.write(LEAVE_ALTERNATE_SCREEN + SHOW_CURSOR, error => {
        if (!error) stdout.off('error', ignore);
      });
    } catch {
      stdout.off('error', ignore);
    }
  };

  stdout.write(ENTER_ALTERNATE_SCREEN);
  let ready: DeckView | undefined = 'then' in deck ? undefined : deck;
  let bootError: unknown;
  let stopped = false;
  // The fleet as it was when the dashboard closed (closing the services afterwards stops its polls).
  let finalRows: readonly InstanceRow[] = [];
  const stop = () => {
    if (stopped) return;
    stopped = true;
    finalRows = ready?.fleet.getSnapshot().rows ?? [];
    instance.unmount();
  };
  // One keyboard from the first frame on: the dashboard replaces the boot screen inside it, so keys
  // that come the moment the dashboard appears reach its key tables (registered as it mounts).
  const report = (error: unknown) => ready?.notify(`That key failed: ${toVastdeckError(error).message}`, 'error');
  const screen = (deckNow: DeckView | undefined) => (
    <KeyboardProvider onError={report}>{deckNow ? <App deck={deckNow} onQuit={stop} keyboard={false} /> : <Booting onQuit={stop} what={options.starting ?? 'Starting…'} />}</KeyboardProvider>
  );
  const instance = render(screen(ready), {
    stdout,
    stdin,
    exitOnCtrlC: false,
    patchConsole: false,
    // Ink 6.8's incremental renderer moves the cursor up one line too few when the frame ends with
    // a newline (any frame shorter than the terminal, as ours is at rows - 1): every update lands
    // one row lower than the last (checked in a pty). It writes fewer bytes but costs no less CPU
    // (ink-notes.md A4), so the standard renderer it is.
    incrementalRendering: false,
    // Model updates and animations reach React at most four times a second (ui/shared/frame-clock.ts),
    // spaced by what frames cost; this cap only shapes how fast a key's frame follows the last one.
    maxFps: 60,
    onRender: ({renderTime}) => reportFrameCost(renderTime),
  });

  if ('then' in deck) {
    deck.then(
      started => {
        ready = started;
        if (!stopped) instance.rerender(screen(started));
      },
      (error: unknown) => {
        bootError = error;
        stop();
      },
    );
  }

  // A terminal that went away makes stdin (setRawMode) and stdout (write) report EIO: quit the
  // normal way, so onExit still closes the services, instead of crashing on the unhandled error.
  const terminalGone = () => {
    stop();
  };
  stdin.on('error', terminalGone);
  stdout.on('error', terminalGone);
  const crash = (error: unknown) => {
    try {
      instance.unmount();
    } finally {
      restore();
      process.stderr.write(`${crashSentence(error)}\n`);
      process.exit(1);
    }
  };
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  for (const signal of signals) process.on(signal, stop);
  process.on('uncaughtException', crash);
  process.on('unhandledRejection', crash);
  process.on('exit', restore);

  try {
    await instance.waitUntilExit();
    await options.onExit?.();
    restore();
    if (bootError !== undefined) throw bootError;
    if (ready) stdout.write(`${billingAfterQuit(finalRows, ready.mode)}\n`);
  } catch (error) {
    if (error === bootError) throw error;
    // A render error: Ink has unmounted and drawn its error screen into the alternate screen,
    // which disappears with it; the user gets the one sentence instead.
    crash(error);
  } finally {
    restore();
    for (const signal of signals) process.off(signal, stop);
    stdin.off('error', terminalGone);
    stdout.off('error', terminalGone);
    process.off('uncaughtException', crash);
    process.off('unhandledRejection', crash);
    process.off('exit', restore);
  }
}
