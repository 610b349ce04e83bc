// Time, injectable: models, hooks and use cases read the time through a Clock so tests (and the
// simulator's compressed time) can drive it instead of the wall clock.
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
}

export const systemClock: Clock = {now: () => Date.now()};

/**
 * Calls `tick` every `intervalMs` on multiples of it since the epoch, so timers of the same (or a
 * dividing) interval tick together: the dashboard's "ago" labels, the money line and the policies
 * then change in one frame a second instead of one frame each. Returns the stop function.
 */
/** Milliseconds from now to the next whole multiple of `intervalMs` since the epoch (never 0). */
export function untilNextMultiple(intervalMs: number, nowMs = Date.now()): number {
  return intervalMs - (nowMs % intervalMs);
}

export function alignedInterval(intervalMs: number, tick: () => void): () => void {
  let timer: NodeJS.Timeout;
  let stopped = false;
  const next = (): void => {
    timer = setTimeout(() => {
      if (stopped) return;
      next();
      tick();
    }, untilNextMultiple(intervalMs));
    timer.unref();
  };
  next();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
