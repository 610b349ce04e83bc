// What every subcommand shares: one Io type, Ctrl-C / SIGTERM turned into an AbortSignal (so the
// command can stop cleanly and say what keeps billing), the session opened through the composition
// root with its notes on stderr, and a failure printed as one `vastdeck: …` sentence with the exit
// code scripts rely on (core/errors.ts exitCodeFor: 2 bad input, 130 interrupted, 1 otherwise).
import {exitCodeFor, toVastdeckError} from '../core/errors.js';
import {openSession, type Session} from '../compose.js';

export interface Io {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

export interface Interrupt {
  /** Aborted by the first Ctrl-C / SIGTERM: stop the work, clean up what must be cleaned up. */
  signal: AbortSignal;
  /** Aborted by the third: stop even the cleanup (whatever is left keeps billing, and the command says so). */
  hard: AbortSignal;
  /** Called on the second press: the command says what it is still doing. */
  onRepeat?: () => void;
  dispose(): void;
}

/** Ctrl-C / SIGTERM as signals; the handler stays installed, so a second press never kills a cleanup half-way. */
export function onInterrupt(): Interrupt {
  const first = new AbortController();
  const hard = new AbortController();
  let presses = 0;
  const interrupt: Interrupt = {
    signal: first.signal,
    hard: hard.signal,
    dispose: () => {
      process.removeListener('SIGINT', handle);
      process.removeListener('SIGTERM', handle);
    },
  };
  function handle(): void {
    presses++;
    if (presses === 1) first.abort();
    else if (presses === 2) interrupt.onRepeat?.();
    else hard.abort();
  }
  process.on('SIGINT', handle);
  process.on('SIGTERM', handle);
  return interrupt;
}

/** Prints the failure as one `vastdeck: …` sentence on stderr and returns the exit code. */
export function reportFailure(error: unknown, stderr: NodeJS.WritableStream): number {
  stderr.write(`vastdeck: ${toVastdeckError(error).message}\n`);
  return exitCodeFor(error);
}

/**
 * Opens the session (demo or live), runs `body` with an interrupt signal, reports any failure in
 * one sentence, and always closes the session. The body returns the exit code.
 */
export async function withSession(io: Io, flags: {demo?: unknown; live?: unknown}, body: (session: Session, interrupt: Interrupt) => Promise<number>): Promise<number> {
  const interrupt = onInterrupt();
  let session: Session | undefined;
  try {
    session = await openSession({demo: flags.demo === true, live: flags.live === true, warn: text => io.stderr.write(`vastdeck: ${text}\n`)});
    return await body(session, interrupt);
  } catch (error) {
    return reportFailure(error, io.stderr);
  } finally {
    interrupt.dispose();
    await session?.close();
  }
}

export function stillBillingNote(instanceId: number | undefined): string {
  return `Instance ${instanceId ?? '?'} keeps running and billing until you destroy it (\`vastdeck down ${instanceId ?? 'ID'}\`, the dashboard, or the Vast.ai console).`;
}
