// The cloud's own clock, read from the HTTP `Date` header of every API answer. Vast bills by its
// clock, and so does the simulated cloud (which runs `speed` times faster than the wall clock in the
// demo): spend computed from the API's timestamps (start_date, uptime_mins) must be measured against
// the API's "now", not this machine's. Between answers the clock runs on at the rate it was seen to
// run (≈ 1 against the real API), so the same code is right live and against a compressed simulator.

interface Sample {
  serverMs: number;
  localMs: number;
}

/** Samples older than this do not count for the rate (the rate of a simulator is constant). */
const RATE_WINDOW_MS = 10 * 60_000;
/** A rate needs this much local time between its samples to be trusted over 1 (the Date header has 1 s steps). */
const MIN_RATE_SPAN_MS = 3000;

export class CloudClock {
  #first: Sample | undefined;
  #last: Sample | undefined;

  /** Feed one answer's Date header (ignored when absent or unreadable). */
  observe(dateHeader: string | undefined, localMs: number = Date.now()): void {
    if (!dateHeader) return;
    const serverMs = Date.parse(dateHeader);
    if (!Number.isFinite(serverMs)) return;
    const sample = {serverMs, localMs};
    if (!this.#first || localMs - this.#first.localMs > RATE_WINDOW_MS) this.#first = this.#last && localMs - this.#last.localMs <= RATE_WINDOW_MS ? this.#last : sample;
    this.#last = sample;
  }

  /** How many cloud seconds pass per local second (1 until there is enough to tell). */
  rate(): number {
    const first = this.#first;
    const last = this.#last;
    if (!first || !last || last.localMs - first.localMs < MIN_RATE_SPAN_MS) return 1;
    const rate = (last.serverMs - first.serverMs) / (last.localMs - first.localMs);
    return Number.isFinite(rate) && rate > 0 ? Math.min(10_000, Math.max(0.01, rate)) : 1;
  }

  /** The cloud's "now" in epoch ms; this machine's clock until an answer has been seen. */
  now(localMs: number = Date.now()): number {
    const last = this.#last;
    if (!last) return localMs;
    return last.serverMs + (localMs - last.localMs) * this.rate();
  }

  /** Whether any answer carried a Date header. */
  get known(): boolean {
    return this.#last !== undefined;
  }
}
