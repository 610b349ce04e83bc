// Simulated GPU time for the ComfyUI simulator: how long a sampler step takes on a GPU class, and a
// clock that waits simulated milliseconds divided by `speed` (sub-millisecond waits are carried
// over, so fast tests still yield between steps). Used by executor.ts.

/** Sampler ms per step for SDXL at 1024² on an RTX 4090, at speed 1. */
const BASE_STEP_MS = 60;
const BASE_STEP_PIXELS = 1024 * 1024;
const SMALLEST_STEP_SHARE = 0.25;

/** Relative step time per GPU class (RTX 4090 = 1); unknown GPUs count as 2. */
const GPU_STEP_FACTORS: ReadonlyArray<[RegExp, number]> = [
  [/H200/, 0.55],
  [/H100/, 0.6],
  [/5090/, 0.75],
  [/A100/, 0.9],
  [/L40S/, 0.95],
  [/4090/, 1],
  [/6000 ?Ada/i, 1.05],
  [/L40\b/, 1.1],
  [/4080/, 1.35],
  [/A6000|3090|A40\b/, 1.7],
  [/4070|3080/, 2],
  [/A5000/, 2.2],
  [/A4000|3070/, 3],
  [/3060/, 3.6],
];

export function gpuStepFactor(gpuName: string | undefined): number {
  return GPU_STEP_FACTORS.find(([pattern]) => pattern.test(gpuName ?? ''))?.[1] ?? (gpuName ? 2 : 1);
}

/** Simulated ms of one sampler step over `pixels` (all frames), before speed. */
export function stepSimMs(pixels: number, gpuFactor: number): number {
  return BASE_STEP_MS * gpuFactor * Math.max(SMALLEST_STEP_SHARE, pixels / BASE_STEP_PIXELS);
}

export class SimClock {
  private debtMs = 0;
  private readonly waits = new Map<NodeJS.Timeout | NodeJS.Immediate, () => void>();

  constructor(private readonly speed: number) {
    if (!(speed > 0)) throw new RangeError(`speed must be a positive number, got ${speed}`);
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
      const handle = wholeMs >= 1 ? setTimeout(done, wholeMs) : setImmediate(done);
      this.waits.set(handle, resolve);
    });
  }

  cancelAll(): void {
    for (const [handle, resolve] of this.waits) {
      clearTimeout(handle as NodeJS.Timeout);
      clearImmediate(handle as NodeJS.Immediate);
      resolve();
    }
    this.waits.clear();
  }
}
