// The cloud's own clock, read from the HTTP `Date` header of every API answer. Vast bills by its
// clock, and so does the simulated cloud (which runs `speed` times faster than the wall clock in the
// demo): spend computed from the API's timestamps (start_date, uptime_mins) must be measured against
// the API's "now", not this machine's.
//
// The header has whole seconds, so one answer only says the cloud's time was in [D, D + 1 s) at some
// moment between sending the request and reading the answer. Every answer narrows the fit
// cloud = offset + rate × local: the rate from the oldest and newest answers (exactly 1 whenever 1
// is consistent with them — a real clock, or a simulator at speed 1), the offset from the
// intersection of the newest answers' intervals. After a few answers at different sub-second
// phases the error is tens of milliseconds instead of up to a second.

interface Sample {
  /** The Date header, epoch ms (whole seconds). */
  dateMs: number;
  /** Local time the request was sent and the answer read. */
  sentMs: number;
  recvMs: number;
}

/** Answers older than this do not count (a simulator's rate is constant, a real clock's is 1). */
const WINDOW_MS = 10 * 60_000;
const MAX_SAMPLES = 120;
/** Local time the oldest and newest answers must span before a rate other than 1 is believed. */
const MIN_RATE_SPAN_MS = 1000;
const HEADER_STEP_MS = 1000;

export class CloudClock {
  #samples: Sample[] = [];
  #rate = 1;
  #offset: number | undefined;

  /** Feed one answer's Date header (ignored when absent or unreadable), with when its request left. */
  observe(dateHeader: string | undefined, recvMs: number = Date.now(), sentMs: number = recvMs): void {
    if (!dateHeader) return;
    const dateMs = Date.parse(dateHeader);
    if (!Number.isFinite(dateMs)) return;
    this.#samples.push({dateMs, sentMs: Math.min(sentMs, recvMs), recvMs});
    const oldest = recvMs - WINDOW_MS;
    while (this.#samples.length > 2 && (this.#samples.length > MAX_SAMPLES || this.#samples[0]!.recvMs < oldest)) this.#samples.shift();
    this.#fit();
  }

  /** How many cloud seconds pass per local second (1 until there is enough to tell otherwise). */
  rate(): number {
    return this.#rate;
  }

  /** The cloud's "now" in epoch ms; this machine's clock until an answer has been seen. */
  now(localMs: number = Date.now()): number {
    return this.#offset === undefined ? localMs : this.#offset + this.#rate * localMs;
  }

  /** Whether any answer carried a Date header. */
  get known(): boolean {
    return this.#offset !== undefined;
  }

  #fit(): void {
    const samples = this.#samples;
    const first = samples[0]!;
    const last = samples.at(-1)!;
    this.#rate = 1;
    if (last.sentMs - first.recvMs >= MIN_RATE_SPAN_MS) {
      const cloudSpan = last.dateMs - first.dateMs;
      const low = (cloudSpan - HEADER_STEP_MS) / (last.recvMs - first.sentMs);
      const high = (cloudSpan + HEADER_STEP_MS) / (last.sentMs - first.recvMs);
      if (!(low <= 1 && 1 <= high)) {
        const rate = (low + high) / 2;
        this.#rate = Number.isFinite(rate) && rate > 0 ? Math.min(10_000, Math.max(0.01, rate)) : 1;
      }
    }
    // Newest first, each answer's interval for the offset narrows the range until one would empty it.
    let low = -Infinity;
    let high = Infinity;
    for (let index = samples.length - 1; index >= 0; index--) {
      const sample = samples[index]!;
      const sampleLow = sample.dateMs - this.#rate * sample.recvMs;
      const sampleHigh = sample.dateMs + HEADER_STEP_MS - this.#rate * sample.sentMs;
      if (Math.max(low, sampleLow) > Math.min(high, sampleHigh)) break;
      low = Math.max(low, sampleLow);
      high = Math.min(high, sampleHigh);
    }
    this.#offset = (low + high) / 2;
  }
}
