// Orders offers by a sort key the user picks (10-min job cost by default, see cost.ts). Shared by
// OffersModel (the live pane) and `vastdeck offers`, so both always show the same order.
// Ties fall back to the 10-min job cost, then the offer id, so the order never flickers.
import {InputError} from '../errors.js';
import type {Offer} from '../vast/types.js';
import {jobCost} from './cost.js';
import type {CostInputs, RankedOffer, SortKey} from './types.js';

/** The sort keys in the order the pane's sort key cycles through them. */
export const SORT_KEYS: readonly {key: SortKey; label: string; description: string}[] = [
  {key: 'cost', label: '10-min job cost', description: 'compute for the first 10 minutes plus the model download (the original rule)'},
  {key: 'eta', label: 'ETA to ready', description: 'image pull and model download at the offer’s bandwidth, plus boot'},
  {key: 'first', label: 'cost to first result', description: 'storage while pulling, compute from then to the first finished generation, all downloads'},
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
  const {value, descending} = SORT_VALUES[sortKey];
  return [...rows]
    .sort((a, b) => {
      const primary = descending ? compare(value(b), value(a)) : compare(value(a), value(b));
      return primary || compare(a.cost.windowCostUsd, b.cost.windowCostUsd) || a.offer.id - b.offer.id;
    })
    .map((row, index) => ({...row, rank: index + 1}));
}

const SORT_VALUES: Record<SortKey, {value: (row: RankedOffer) => number; descending: boolean}> = {
  cost: {value: row => row.cost.windowCostUsd, descending: false},
  eta: {value: row => row.cost.etaReadySec, descending: false},
  first: {value: row => row.cost.firstResultUsd, descending: false},
  dph: {value: row => row.offer.dphTotal, descending: false},
  inet: {value: row => row.offer.inetDownMbps, descending: true},
  downcost: {value: row => row.offer.inetDownCostPerGb, descending: false},
  reliability: {value: row => row.offer.reliability, descending: true},
};

/** Comparison that copes with Infinity (Infinity − Infinity is NaN). */
function compare(a: number, b: number): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
