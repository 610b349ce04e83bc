// Shapes shared by the job-cost model, the ranking, the live OffersModel, the Offers pane and
// `vastdeck offers --json`.
import type {Offer} from '../vast/types.js';

/** What the job needs, from config `cost.*` (see cost.ts for the formulas). */
export interface CostInputs {
  /** GB of models the provisioning script downloads. */
  modelGb: number;
  /** GB of the Docker image pulled at boot. */
  imageGb: number;
  /** The original workflow's window: compute cost of the first N minutes (10). */
  windowMinutes: number;
  /** Seconds from "models on disk" to ComfyUI answering (boot + app start). */
  bootSeconds: number;
  /** Seconds one generation takes once ready, for "cost to first result". */
  firstResultSeconds: number;
}

export interface JobCost {
  /** Original rule: dphTotal × window + modelGb × inetDownCostPerGb, in $. */
  windowCostUsd: number;
  /** Compute part of windowCostUsd, $. */
  windowComputeUsd: number;
  /** Download part of windowCostUsd, $. */
  windowDownloadUsd: number;
  /** Image pull + model download at inetDownMbps + boot, in seconds. */
  etaReadySec: number;
  /** $ from create to the first finished generation (see cost.ts). */
  firstResultUsd: number;
}

export type SortKey = 'cost' | 'eta' | 'first' | 'dph' | 'inet' | 'downcost' | 'reliability';

export type RowChange = 'new' | 'changed' | 'same' | 'vanished';

export interface RankedOffer {
  /** 1-based position in the current sort; vanished rows keep their last rank. */
  rank: number;
  offer: Offer;
  cost: JobCost;
  change: RowChange;
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
}
