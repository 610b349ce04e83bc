// Orders offers by a sort key the user picks (the whole-job cost by default, see cost.ts). Shared
// by the whole-market search, OffersModel (the live pane), `vastdeck offers` and `up`, so all show
// the same order. Ties fall back to the job cost, then the offer id, so the order never flickers.
import {InputError} from '../errors.js';
import type {Offer} from '../vast/types.js';
import {jobCost} from './cost.js';
import type {CostInputs, RankedOffer, SortKey} from './types.js';

/** The sort keys in the order the pane's sort key cycles through them. */
export const SORT_KEYS: readonly {key: SortKey; label: string; description: string}[] = [
  {key: 'cost', label: 'job cost', description: 'the whole job: storage while the image pulls, GPU time for model download, boot, every generation and the idle tail, every GB downloaded'},
  {key: 'time', label: 'time to last result', description: 'image pull, model download, boot and every generation on this GPU'},
  {key: 'window', label: '10-min rule', description: 'the original rule: 10 minutes of compute plus every GB downloaded (image and models)'},
  {key: 'eta', label: 'ETA to ready', description: 'image pull and model download at the offer’s bandwidth, plus boot'},
  {key: 'dph', label: '$/h', description: 'price per hour including our disk'},
  {key: 'inet', label: 'download speed', description: 'fastest download first'},
  {key: 'downcost', label: '$/GB down', description: 'cheapest bandwidth first'},
  {key: 'reliability', label: 'reliability', description: 'most reliable host first'},
];

export function parseSortKey(text: string): SortKey {
  const wanted = text.trim().toLowerCase();
  const found = SORT_KEYS.find(entry => entry.key === wanted);
  if (!found) {
    throw new InputError(`Unknown sort key '${text}': use one of ${SORT_KEYS.map(entry => entry.key).join(', ')}.`);
  }
  return found.key;
}

/** Rank offers by `sortKey`, computing each offer's job cost; every row is marked 'same'. */
export function rankOffers(offers: readonly Offer[], inputs: CostInputs, sortKey: SortKey): RankedOffer[] {
  return sortRankedOffers(
    offers.map((offer): RankedOffer => ({rank: 0, offer, cost: jobCost(offer, inputs), change: 'same'})),
    sortKey,
  );
}

/** Re-sort already ranked rows (keeping their change marks) and renumber them from 1. */
export function sortRankedOffers(rows: readonly RankedOffer[], sortKey: SortKey): RankedOffer[] {
  return rows
    .map(row => ({row, value: sortValue(row, sortKey)}))
    .sort((a, b) => compare(a.value, b.value) || compare(a.row.cost.jobCostUsd, b.row.cost.jobCostUsd) || a.row.offer.id - b.row.offer.id)
    .map(({row}, index) => ({...row, rank: index + 1}));
}

/** The row's value for `sortKey`, where lower is always better (descending keys are negated). */
export function sortValue(row: RankedOffer, sortKey: SortKey): number {
  const {value, descending} = SORT_VALUES[sortKey];
  return descending ? -value(row) : value(row);
}

const SORT_VALUES: Record<SortKey, {value: (row: RankedOffer) => number; descending: boolean}> = {
  cost: {value: row => row.cost.jobCostUsd, descending: false},
  time: {value: row => row.cost.lastResultSec, descending: false},
  window: {value: row => row.cost.windowCostUsd, descending: false},
  eta: {value: row => row.cost.etaReadySec, descending: false},
  dph: {value: row => row.offer.dphTotal, descending: false},
  inet: {value: row => row.offer.inetDownMbps, descending: true},
  downcost: {value: row => row.offer.inetDownCostPerGb, descending: false},
  reliability: {value: row => row.offer.reliability, descending: true},
};

/** Comparison that copes with Infinity (Infinity − Infinity is NaN). */
function compare(a: number, b: number): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
