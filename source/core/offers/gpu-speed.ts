// How fast each GPU model runs a diffusion job, relative to an RTX 4090 (= 1.00). The cost
// model divides a workflow's reference seconds per generation (measured on the reference GPU)
// by this factor; the simulator uses the same table so a faster card finishes sooner there too.
//
// Source: relative SDXL/SD1.5 image throughput (iterations per second at the same resolution and
// steps) as published in public benchmark round-ups — Tom's Hardware "Stable Diffusion
// benchmarks" (consumer and workstation cards), Puget Systems' SDXL/ComfyUI GPU comparisons, and
// vendor-neutral community ComfyUI figures for the data-centre cards. The figures are rounded
// ratios, not measurements of ours: good for ranking offers, not for billing.
//
// A GPU that is not in the table is estimated from the offer's Vast `dlperf` per GPU (Vast's own
// deep-learning score) against the 4090's typical dlperf, and failing that from `total_flops`.

export const REFERENCE_GPU = 'RTX 4090';

/** Relative throughput per GPU model (Vast's `gpu_name` spelling). */
export const GPU_SPEED: Readonly<Record<string, number>> = {
  'RTX 5090': 1.3,
  'RTX 4090': 1.0,
  'RTX 4080': 0.73,
  'RTX 4080 SUPER': 0.76,
  'RTX 4070 Ti': 0.6,
  'RTX 4070': 0.5,
  'RTX 4060 Ti': 0.38,
  'RTX 3090 Ti': 0.63,
  'RTX 3090': 0.58,
  'RTX 3080 Ti': 0.55,
  'RTX 3080': 0.5,
  'RTX 3070': 0.38,
  'RTX 3060': 0.28,
  'RTX A4000': 0.35,
  'RTX A4500': 0.42,
  'RTX A5000': 0.47,
  'RTX A6000': 0.58,
  'RTX 6000Ada': 1.0,
  'RTX 4000Ada': 0.4,
  'Tesla T4': 0.14,
  'Tesla V100': 0.4,
  L4: 0.3,
  L40: 0.9,
  L40S: 0.95,
  'A100 PCIE': 0.8,
  'A100 SXM4': 0.85,
  'A100X': 0.8,
  'H100 PCIE': 1.05,
  'H100 SXM': 1.25,
  'H100 NVL': 1.2,
  H200: 1.3,
};

/** Typical Vast dlperf (per GPU) and TFLOPS of the reference GPU, for the fallbacks. */
const REFERENCE_DLPERF = 45;
const REFERENCE_TFLOPS = 82.6;

export interface SpeedHints {
  /** Vast dlperf of the whole offer (all GPUs) — divided by numGpus here. */
  dlperf?: number;
  /** Vast total_flops of the whole offer (TFLOPS). */
  totalFlops?: number;
  numGpus?: number;
}

export interface GpuSpeed {
  /** Throughput relative to the reference GPU (> 0). */
  factor: number;
  /** Where the figure came from. */
  source: 'table' | 'dlperf' | 'flops' | 'default';
}

/** The speed factor of one GPU of this model; never 0 or negative. */
export function gpuSpeed(gpuName: string, hints: SpeedHints = {}): GpuSpeed {
  const known = GPU_SPEED[gpuName];
  if (known !== undefined) return {factor: known, source: 'table'};
  const gpus = hints.numGpus && hints.numGpus > 0 ? hints.numGpus : 1;
  if (hints.dlperf && hints.dlperf > 0) return {factor: clamp(hints.dlperf / gpus / REFERENCE_DLPERF), source: 'dlperf'};
  if (hints.totalFlops && hints.totalFlops > 0) return {factor: clamp(hints.totalFlops / gpus / REFERENCE_TFLOPS), source: 'flops'};
  return {factor: 0.3, source: 'default'};
}

function clamp(factor: number): number {
  return Math.min(3, Math.max(0.05, factor));
}
