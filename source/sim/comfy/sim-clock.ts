// Simulated time for the whole simulator: where "now" and timers come from (the wall clock, or a
// test's hand-advanced ManualClock, so no test sleeps to prove time passed), and SimClock, which
// waits simulated milliseconds divided by `speed` (sub-millisecond waits are carried over, so fast
// runs still yield between steps). Used by the cloud, instances, boot replay and ComfyUI executor.
import {gpuSpeed} from '../../core/offers/gpu-speed.js';

/** An opaque timer handle of a TimeSource. */
export type TimerHandle = {readonly timerId: number} | NodeJS.Timeout;

/** Where the simulator's time comes from. */
export interface TimeSource {
  /** Epoch milliseconds. */
  now(): number;
  /** Runs `run` once after `ms` milliseconds of this source's time. */
  setTimeout(run: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle | undefined): void;
  /**
   * Real work that must finish before simulated time moves on (a container starting its servers).
   * The wall clock ignores it; a ManualClock waits for it before firing the next timer.
   */
  hold?(work: Promise<unknown>): void;
}

/** The real clock; its timers never keep the process alive on their own. */
export const wallClock: TimeSource = {
  now: () => Date.now(),
  setTimeout: (run, ms) => setTimeout(run, Math.max(0, ms)).unref(),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout | undefined),
};

interface ManualTimer {
  timerId: number;
  dueMs: number;
  run: () => void;
}

/**
 * A clock that moves only when a test says so. `advance(ms)` fires every timer due on the way, in
 * order, letting the event loop run (sockets, promises) after each, so what a timer starts can react
 * before the next fires.
 */
export class ManualClock implements TimeSource {
  private nowMs: number;
  private nextId = 1;
  private readonly timers = new Map<number, ManualTimer>();
  private readonly holds = new Set<Promise<unknown>>();

  constructor(startMs = Date.UTC(2026, 0, 1)) {
    this.nowMs = startMs;
  }

  now(): number {
    return this.nowMs;
  }

  setTimeout(run: () => void, ms: number): TimerHandle {
    const timer = {timerId: this.nextId++, dueMs: this.nowMs + Math.max(0, ms), run};
    this.timers.set(timer.timerId, timer);
    return {timerId: timer.timerId};
  }

  clearTimeout(handle: TimerHandle | undefined): void {
    if (handle && 'timerId' in handle) this.timers.delete(handle.timerId);
  }

  hold(work: Promise<unknown>): void {
    const held = work.catch(() => undefined).finally(() => this.holds.delete(held));
    this.holds.add(held);
  }

  /** Timers not fired yet. */
  get pending(): number {
    return this.timers.size;
  }

  /** Moves time forward by `ms`, firing what falls due (also timers those timers set). */
  async advance(ms: number): Promise<void> {
    const targetMs = this.nowMs + Math.max(0, ms);
    await this.settle();
    for (let next = this.earliest(targetMs); next; next = this.earliest(targetMs)) {
      this.timers.delete(next.timerId);
      this.nowMs = Math.max(this.nowMs, next.dueMs);
      next.run();
      await this.settle();
    }
    this.nowMs = targetMs;
    await this.settle();
  }

  /** Advances in `stepMs` steps until `done()` holds, at most `limitMs`; false when it never did. */
  async advanceUntil(done: () => boolean, options: {stepMs?: number; limitMs?: number} = {}): Promise<boolean> {
    const stepMs = options.stepMs ?? 250;
    const limitMs = options.limitMs ?? 3_600_000;
    for (let spent = 0; !done(); spent += stepMs) {
      if (spent >= limitMs) return false;
      await this.advance(stepMs);
    }
    return true;
  }

  /** A few turns of the event loop, then until every held piece of work is done. */
  private async settle(): Promise<void> {
    await turns();
    while (this.holds.size > 0) {
      await Promise.all([...this.holds]);
      await turns();
    }
  }

  private earliest(limitMs: number): ManualTimer | undefined {
    let found: ManualTimer | undefined;
    for (const timer of this.timers.values()) {
      if (timer.dueMs <= limitMs && (!found || timer.dueMs < found.dueMs)) found = timer;
    }
    return found;
  }
}

/** Lets pending I/O callbacks and promise chains run (a few turns of the event loop). */
async function turns(): Promise<void> {
  for (let turn = 0; turn < 4; turn++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/**
 * Sampler ms per step for SDXL at 1024² on the reference GPU (an RTX 4090), at speed 1, and how a
 * batch of latents costs: set so that a warm generation of each shipped workflow at its defaults
 * takes its manifest's secondsPerGeneration there — img2img-sdxl (20 steps at 1024², 3.5 s) and
 * img2vid (20 steps over 16 latents of 512², 11 s) — with the other nodes' times (VAE, save, image
 * ops) as the node table has them. test/integration/sim-cost-model.test.ts checks both.
 */
const BASE_STEP_MS = 160.75;
const BASE_STEP_PIXELS = 1024 * 1024;
const SMALLEST_STEP_SHARE = 0.25;
/** A batch of n latents costs n^0.9 single steps (the GPU is busier with a batch than with one). */
const BATCH_EXPONENT = Math.log(12.2) / Math.log(16);

/**
 * Relative time of all of a generation's work on a GPU (RTX 4090 = 1, a card twice as fast = 0.5),
 * from the cost model's speed table (core/offers/gpu-speed.ts); unknown cards get its fallback.
 */
export function gpuStepFactor(gpuName: string | undefined, perf: {dlperf?: number; totalFlops?: number; numGpus?: number} = {}): number {
  if (!gpuName) return 1;
  return 1 / gpuSpeed(gpuName, perf).factor;
}

/** Simulated ms of one sampler step on the reference GPU over `batch` latents of `framePixels` each, before speed. */
export function stepSimMs(framePixels: number, batch = 1): number {
  return BASE_STEP_MS * Math.max(SMALLEST_STEP_SHARE, framePixels / BASE_STEP_PIXELS) * batch ** BATCH_EXPONENT;
}

export class SimClock {
  private debtMs = 0;
  private readonly waits = new Map<TimerHandle | NodeJS.Immediate, () => void>();

  constructor(
    private readonly speed: number,
    private readonly time: TimeSource = wallClock,
  ) {
    if (!(speed > 0)) throw new RangeError(`speed must be a positive number, got ${speed}`);
  }

  /** Epoch ms of the underlying time source. */
  now(): number {
    return this.time.now();
  }

  /** Waits `simMs` of simulated time; resolves early (on the next tick) after cancelAll(). */
  sleep(simMs: number): Promise<void> {
    this.debtMs += Math.max(0, simMs) / this.speed;
    const wholeMs = Math.floor(this.debtMs);
    this.debtMs -= wholeMs;
    return new Promise((resolve) => {
      const done = (): void => {
        this.waits.delete(handle);
        resolve();
      };
      const handle: TimerHandle | NodeJS.Immediate = wholeMs >= 1 || this.time !== wallClock ? this.time.setTimeout(done, wholeMs) : setImmediate(done);
      this.waits.set(handle, resolve);
    });
  }

  cancelAll(): void {
    for (const [handle, resolve] of this.waits) {
      if (typeof handle === 'object' && 'timerId' in handle) this.time.clearTimeout(handle);
      else {
        clearTimeout(handle as NodeJS.Timeout);
        clearImmediate(handle as NodeJS.Immediate);
      }
      resolve();
    }
    this.waits.clear();
  }
}
