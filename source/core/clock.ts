// Time, injectable: models, hooks and use cases read the time through a Clock so tests (and the
// simulator's compressed time) can drive it instead of the wall clock.
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
}

export const systemClock: Clock = {now: () => Date.now()};
