// How fast each GPU model runs a diffusion job (SDXL at 1024², batch 1), relative to an RTX 4090
// (= 1.00). The cost model divides a workflow's reference seconds per generation (measured on the
// manifest's reference GPU) by this factor; the simulator uses the same table so that a faster card
// finishes sooner there too. The figures rank offers; they are not promises.
//
// Sources (docs/cost-model.md has the full reasoning per row):
// - Data-centre cards, measured: Stability AI's SDXL 1.0 TensorRT model card
//   (huggingface.co/stabilityai/stable-diffusion-xl-1.0-tensorrt, README, "Timings for 30 steps at
//   1024x1024", PyTorch baseline): A10 9399 ms, A100 3704 ms, H100 2496 ms. So H100 = 1.48 × A100
//   and A10 = 0.39 × A100.
// - Anchor between the two worlds: an RTX 4090 runs SDXL-class UNets at 1024² at ~7.5 it/s in
//   AUTOMATIC1111 (AUTOMATIC1111/stable-diffusion-webui issue #2449, batch 1 1024×1024), and the
//   A100 baseline above is 30 steps in 3.7 s ≈ 8.1 it/s: an A100 is about as fast as a 4090 here.
// - Consumer and workstation cards: estimates. Their order is the one public round-ups report
//   (Tom's Hardware, "Stable Diffusion Benchmarks: 45 Nvidia, AMD, and Intel GPUs Compared", Dec
//   2023; Salad's SDXL ComfyUI benchmark of the 4090, 4080 and 3090, blog.salad.com/sdxl-benchmark);
//   the spacing is ours, from each card's FP16 tensor throughput and memory bandwidth against the
//   4090's, rounded to two digits. No figure here was copied from those pages.
// - L40S: spec-based (the 4090's AD102 chip with more SMs and slower memory). One public
//   measurement (lucataco's "L40S vs A40 Benchmarks" gist) found it no faster than an A40 for SDXL,
//   so treat 0.90 as the upper end.
// - RTX 3060 = 0.28 (3.6× slower than a 4090), the figure the simulator modelled before this table.
//
// A GPU that is not in the table is estimated from the offer's Vast `dlperf` per GPU (Vast's own
// deep-learning score) against a 4090's typical dlperf, and failing that from `total_flops`.

export const REFERENCE_GPU = 'RTX 4090';

/** Relative throughput per GPU model (Vast's `gpu_name` spelling). */
export const GPU_SPEED: Readonly<Record<string, number>> = {
  'RTX 5090': 1.3,
  'RTX 4090': 1.0,
  'RTX 4080 SUPER': 0.72,
  'RTX 4080': 0.68,
  'RTX 4070 Ti SUPER': 0.62,
  'RTX 4070 Ti': 0.56,
  'RTX 4070 SUPER': 0.52,
  'RTX 4070': 0.45,
  'RTX 4060 Ti': 0.33,
  'RTX 4060': 0.27,
  'RTX 3090 Ti': 0.6,
  'RTX 3090': 0.52,
  'RTX 3080 Ti': 0.5,
  'RTX 3080': 0.45,
  'RTX 3070': 0.33,
  'RTX 3060 Ti': 0.3,
  'RTX 3060': 0.28,
  'RTX A4000': 0.3,
  'RTX A4500': 0.38,
  'RTX A5000': 0.43,
  'RTX A6000': 0.55,
  A40: 0.5,
  'RTX 4000Ada': 0.32,
  'RTX 5000Ada': 0.7,
  'RTX 6000Ada': 0.95,
  'Tesla T4': 0.12,
  'Tesla V100': 0.38,
  A10: 0.38,
  L4: 0.3,
  L40: 0.85,
  L40S: 0.9,
  'A100 PCIE': 0.95,
  'A100 SXM4': 1.0,
  A100X: 0.95,
  'H100 PCIE': 1.25,
  'H100 SXM': 1.45,
  'H100 NVL': 1.35,
  H200: 1.5,
};

/** Typical Vast dlperf (per GPU) and TFLOPS of the reference GPU, for the fallbacks. */
const REFERENCE_DLPERF = 45;
const REFERENCE_TFLOPS = 82.6;
/** The range a fallback estimate is kept in. */
const FALLBACK_MIN = 0.05;
const FALLBACK_MAX = 2;
const DEFAULT_FACTOR = 0.3;

/**
 * No GPU is faster than this: the table's fastest card or a fallback at its cap. The whole-market
 * search (market-search.ts) uses it to bound how little GPU time any offer can need.
 */
export const MAX_GPU_SPEED = Math.max(FALLBACK_MAX, ...Object.values(GPU_SPEED));

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
  return {factor: DEFAULT_FACTOR, source: 'default'};
}

/**
 * The fastest factor an offer matching `gpuNames` can have: the table's figure when every name is
 * in it, else MAX_GPU_SPEED. An empty list means any GPU.
 */
export function fastestGpuSpeed(gpuNames: readonly string[]): number {
  if (gpuNames.length === 0 || gpuNames.some(name => GPU_SPEED[name] === undefined)) return MAX_GPU_SPEED;
  return Math.max(...gpuNames.map(name => GPU_SPEED[name]!));
}

function clamp(factor: number): number {
  return Math.min(FALLBACK_MAX, Math.max(FALLBACK_MIN, factor));
}
