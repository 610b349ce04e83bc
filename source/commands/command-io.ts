// What every long-running subcommand shares: Ctrl-C / SIGTERM turned into an AbortSignal (so the
// command can stop cleanly and say what keeps billing), and a failure printed as one sentence
// with the exit code scripts rely on (2 for bad input or settings, 1 otherwise).
import {toVastdeckError} from '../core/errors.js';

export interface Interrupt {
  signal: AbortSignal;
  dispose(): void;
}

export function onInterrupt(): Interrupt {
  const controller = new AbortController();
  const abort = (): void => controller.abort();
  process.once('SIGINT', abort);
  process.once('SIGTERM', abort);
  return {
    signal: controller.signal,
    dispose: () => {
      process.removeListener('SIGINT', abort);
      process.removeListener('SIGTERM', abort);
    },
  };
}

/** Prints the failure as one `vastdeck: …` sentence on stderr and returns the exit code. */
export function reportFailure(error: unknown, stderr: NodeJS.WritableStream): number {
  const failure = toVastdeckError(error);
  stderr.write(`vastdeck: ${failure.message}\n`);
  return failure.code === 'bad-input' || failure.code === 'config' ? 2 : 1;
}
