// Shapes shared by the job-cost model, the ranking, the whole-market search, the live OffersModel,
// the Offers pane and `vastdeck offers --json`.
import type {Offer} from '../vast/types.js';
import type {GpuSpeed} from './gpu-speed.js';

/** The job the offers are priced for: config `job.*` and `cost.*` plus the workflow's manifest. */
export interface CostInputs {
  /** Workflow name, for messages. */
  workflow: string;
  /** Generations in the job (config job.generations). */
  generations: number;
  /** GB of models the instance downloads for the workflow (manifest requirements.modelGb). */
  modelGb: number;
  /** GB of the Docker image pulled at boot (config cost.imageGb). */
  imageGb: number;
  /** GB of GPU memory the workflow needs (manifest requirements.minVramGb). */
  minVramGb: number;
  /** Seconds per generation on referenceGpu (manifest requirements.secondsPerGeneration). */
  referenceSecondsPerGeneration: number;
  referenceGpu: string;
  /** Seconds from "models on disk" to ComfyUI answering (config cost.bootSeconds). */
  bootSeconds: number;
  /** Seconds up after the last result until destroyed (config cost.idleTailSeconds). */
  idleTailSeconds: number;
  /** The original workflow's window in minutes (config cost.windowMinutes). */
  windowMinutes: number;
}

/** What the job costs on one offer (formulas in cost.ts and docs/cost-model.md). */
export interface JobCost {
  /** The whole job, $: storage while pulling + GPU time + downloads. */
  jobCostUsd: number;
  /** Seconds from create to the last result. */
  lastResultSec: number;
  /** jobCostUsd / generations. */
  perGenerationUsd: number;
  /** Seconds one generation takes on this offer's GPU. */
  secondsPerGeneration: number;
  speed: GpuSpeed;
  /** Image pull: the instance is loading, only storage is billed. */
  pullSec: number;
  /** Model downloads at the offer's bandwidth (GPU billed: the instance is running). */
  modelSec: number;
  /** GPU-billed seconds: models + boot + generations + idle tail. */
  gpuSec: number;
  /** Storage billed during the image pull, $. */
  pullStorageUsd: number;
  /** dphTotal × gpuSec, $. */
  gpuUsd: number;
  /** (image + models) GB × inetDownCostPerGb, $. */
  downloadUsd: number;
  /** Image pull + model downloads + boot, seconds. */
  etaReadySec: number;
  /** The original 10-minute rule, priced honestly: compute for the window + every GB downloaded. */
  windowCostUsd: number;
  /** Compute part of windowCostUsd, $. */
  windowComputeUsd: number;
  /** Download part of windowCostUsd (image and models), $. */
  windowDownloadUsd: number;
}

export type SortKey = 'cost' | 'time' | 'window' | 'eta' | 'dph' | 'inet' | 'downcost' | 'reliability';

export type RowChange = 'new' | 'changed' | 'same' | 'vanished';

export interface RankedOffer {
  /** 1-based position in the current sort; vanished rows keep their last rank. */
  rank: number;
  offer: Offer;
  cost: JobCost;
  change: RowChange;
}

/** An offer the filter matched that the job cannot use, and why (one clause). */
export interface ExcludedOffer {
  offer: Offer;
  reason: string;
}

export interface OffersSnapshot {
  status: 'loading' | 'ok' | 'error';
  rows: readonly RankedOffer[];
  sortKey: SortKey;
  /** The filter expression in force, as the user typed it (after config defaults). */
  filterText: string;
  /** Last refresh error, as one user-facing sentence; rows stay from the last good refresh. */
  error?: string;
  /** epoch ms of the last good refresh. */
  updatedAtMs?: number;
  refreshing: boolean;
  /** Leading rows proven to be the best on the whole market (the rest are the best seen). */
  exactRows?: number;
  /** Search calls the last refresh made. */
  searchCalls?: number;
  /** The job the rows are priced for, e.g. "50 × img2img-sdxl". */
  jobText?: string;
}
