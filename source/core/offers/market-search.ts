// The whole-market search: for any sort key, the leading rows it returns are the best offers
// matching the filter on the whole market, not just in the window one call returns, and it gets
// there in a few paced API calls. Used by OffersModel, `vastdeck offers` and `up`.
//
// The argument (docs/cost-model.md, "Best over the whole market"): each sort key is tied to a field
// the server can order by (dph_total, inet_down, inet_down_cost, reliability) and to a lower bound
//   LB(f) ≤ the key's value of every offer whose field is f,
// monotone along that order. E.g. for the job cost, every offer pays at least its dph_total for the
// GPU time it cannot avoid (boot, N generations on the fastest GPU there is, the idle tail), so
//   jobCost ≥ dph_total × Hmin.
// One call ordered by the field returns a prefix of the market: every offer it left out lies at or
// beyond the last field value f_last, so none of them can beat LB(f_last). The ranked rows below
// that floor are exact. When the top N are not all below it, the N-th best value v_N found so far
// bounds the field: an offer can still make the top N only if LB(f) ≤ v_N, i.e. f within
// reach(v_N) (for the job cost: dph_total ≤ v_N / Hmin). A second call asks for exactly that range
// (from f_last to the reach, in the same order); when it comes back shorter than the limit, every
// candidate has been seen and the top N are exact. If it is cut off again, the floor rises and the
// loop repeats, up to maxCalls.
import type {Offer} from '../vast/types.js';
import {queryGpuNames, withBound, type RangeOperator} from '../vast/query.js';
import {exclusionReason, minVramMb, secondsPerGeneration} from './cost.js';
import {fastestGpuSpeed} from './gpu-speed.js';
import {rankOffers, sortValue} from './rank.js';
import type {CostInputs, ExcludedOffer, RankedOffer, SortKey} from './types.js';

export interface MarketSearchOptions {
  search: (query: Record<string, unknown>) => Promise<Offer[]>;
  /** The POST /bundles/ body for the user's filter (toVastQuery); its order and limit are replaced. */
  query: Record<string, unknown>;
  inputs: CostInputs;
  sortKey: SortKey;
  /** Offers per call (config searchLimit). */
  limit: number;
  /** Leading rows that must be the market's best (default 20). */
  top?: number;
  /** Most calls one search makes (default 4); the client paces them. */
  maxCalls?: number;
}

export interface MarketSearchResult {
  /** Every usable offer seen, ranked. */
  rows: RankedOffer[];
  /** The first exactRows rows are the best on the whole market, in order. */
  exactRows: number;
  calls: number;
  /** Offers the answer held that the job cannot use (normally none: the query asks for enough VRAM). */
  excluded: ExcludedOffer[];
}

export const DEFAULT_EXACT_ROWS = 20;
const DEFAULT_MAX_CALLS = 4;
const MBIT_PER_GB = 8000;

/** How one sort key maps onto a server-side order, and the lower bound that makes the order useful. */
interface KeyPlan {
  /** Vast field to order by and to bound. */
  field: string;
  descending: boolean;
  /** The offer's value of that field, as parsed. */
  fieldOf: (offer: Offer) => number;
  /** Lowest sort value (sortValue: lower is better) an offer with field value f can have. */
  lowerBound: (f: number) => number;
  /** The furthest field value, along the order, whose lowerBound is ≤ v; undefined = no limit. */
  reach: (v: number) => number | undefined;
  /** Server-side tie-breaker after the field, matching our own where it can. */
  then?: [string, 'asc' | 'desc'][];
}

/** The query for the base filter: enough VRAM for the workflow (server side). */
export function queryWithVram(query: Record<string, unknown>, inputs: CostInputs): Record<string, unknown> {
  return inputs.minVramGb > 0 ? withBound(query, 'gpu_ram', 'gte', minVramMb(inputs)) : query;
}

export async function searchMarket(options: MarketSearchOptions): Promise<MarketSearchResult> {
  const {inputs, sortKey, limit} = options;
  const top = options.top ?? DEFAULT_EXACT_ROWS;
  const maxCalls = options.maxCalls ?? DEFAULT_MAX_CALLS;
  const base = queryWithVram(options.query, inputs);
  const plan = keyPlan(sortKey, inputs, queryGpuNames(base));
  const order: [string, 'asc' | 'desc'][] = [[plan.field, plan.descending ? 'desc' : 'asc'], ...(plan.then ?? [])];
  const [fromOp, toOp]: [RangeOperator, RangeOperator] = plan.descending ? ['lte', 'gte'] : ['gte', 'lte'];

  const seen = new Map<number, Offer>();
  let calls = 0;
  /** Every offer not seen has a sort value ≥ floor. */
  let floor = -Infinity;
  /** Field value where the seen prefix ends (the next call starts there, ties included). */
  let resumeAt: number | undefined;
  let ranked: RankedOffer[] = [];
  let excluded: ExcludedOffer[] = [];

  while (true) {
    let query: Record<string, unknown> = {...base, order, limit};
    let until: number | undefined;
    if (resumeAt !== undefined) {
      query = withBound(query, plan.field, fromOp, resumeAt);
      const target = ranked[top - 1];
      const reach = target ? plan.reach(sortValue(target, sortKey)) : undefined;
      if (reach !== undefined) {
        until = pad(reach, plan.descending);
        query = withBound(query, plan.field, toOp, until);
      }
    }
    const answer = await options.search(query);
    calls++;
    for (const offer of answer) seen.set(offer.id, offer);
    ({ranked, excluded} = rankUsable([...seen.values()], inputs, sortKey));

    const last = answer.at(-1);
    if (answer.length < limit || !last) {
      // The range asked for is complete: what is unseen lies beyond `until` (or nowhere).
      floor = until === undefined ? Infinity : plan.lowerBound(until);
      if (floor === Infinity) return {rows: ranked, exactRows: ranked.length, calls, excluded};
    } else {
      const lastField = plan.fieldOf(last);
      const stuck = resumeAt !== undefined && lastField === resumeAt;
      resumeAt = lastField;
      floor = plan.lowerBound(lastField);
      if (stuck) break; // a whole answer of ties on one value: paging by this field cannot go on
    }
    const exactRows = countBelow(ranked, sortKey, floor);
    if (exactRows >= Math.min(top, ranked.length) || calls >= maxCalls) break;
  }
  return {rows: ranked, exactRows: countBelow(ranked, sortKey, floor), calls, excluded};
}

function rankUsable(offers: readonly Offer[], inputs: CostInputs, sortKey: SortKey): {ranked: RankedOffer[]; excluded: ExcludedOffer[]} {
  const usable: Offer[] = [];
  const excluded: ExcludedOffer[] = [];
  for (const offer of offers) {
    const reason = exclusionReason(offer, inputs);
    if (reason === undefined) usable.push(offer);
    else excluded.push({offer, reason});
  }
  return {ranked: rankOffers(usable, inputs, sortKey), excluded};
}

/** Leading rows whose value is strictly below the floor: no unseen offer can come before them. */
function countBelow(rows: readonly RankedOffer[], sortKey: SortKey, floor: number): number {
  let count = 0;
  while (count < rows.length && sortValue(rows[count]!, sortKey) < floor) count++;
  return count;
}

/** A hair beyond `value` along the order, so that rounding never drops a candidate at the bound. */
function pad(value: number, descending: boolean): number {
  const slack = Math.abs(value) * 1e-9 + 1e-12;
  return descending ? value - slack : value + slack;
}

/**
 * The key's plan. `gpuNames` (from the filter) tightens the fastest GPU speed when every name is in
 * the speed table; otherwise the fastest GPU there can be is assumed.
 */
export function keyPlan(sortKey: SortKey, inputs: CostInputs, gpuNames: readonly string[]): KeyPlan {
  const fastestGenSec = secondsPerGeneration(inputs, fastestGpuSpeed(gpuNames));
  /** GPU seconds no offer can avoid: boot, every generation on the fastest GPU, the idle tail. */
  const minGpuSec = inputs.bootSeconds + inputs.generations * fastestGenSec + inputs.idleTailSeconds;
  const downloadMbit = (inputs.imageGb + inputs.modelGb) * MBIT_PER_GB;
  const byPrice = (perDollarHour: number): KeyPlan => ({
    field: 'dph_total',
    descending: false,
    fieldOf: offer => offer.dphTotal,
    lowerBound: price => price * perDollarHour,
    reach: value => (perDollarHour > 0 && Number.isFinite(value) ? value / perDollarHour : undefined),
  });
  /** Keys of the form downloadMbit / inet_down + constant (never below the constant). */
  const byBandwidth = (constantSec: number): KeyPlan => ({
    field: 'inet_down',
    descending: true,
    fieldOf: offer => offer.inetDownMbps,
    lowerBound: mbps => (mbps > 0 ? downloadMbit / mbps + constantSec : Infinity),
    reach: value => (downloadMbit > 0 && Number.isFinite(value) && value > constantSec ? downloadMbit / (value - constantSec) : undefined),
  });
  /** Keys that are the field itself (negated when higher is better). */
  const byField = (field: string, fieldOf: (offer: Offer) => number, descending: boolean): KeyPlan => ({
    field,
    descending,
    fieldOf,
    lowerBound: f => (descending ? -f : f),
    reach: value => (Number.isFinite(value) ? (descending ? -value : value) : undefined),
    then: [['dph_total', 'asc']],
  });
  switch (sortKey) {
    case 'cost':
      // jobCost ≥ dph_total × minGpuSec / 3600 (storage while pulling and downloads are ≥ 0).
      return byPrice(minGpuSec / 3600);
    case 'window':
      // windowCost = dph_total × window / 60 + downloads ≥ dph_total × window / 60.
      return byPrice(inputs.windowMinutes / 60);
    case 'dph':
      return byPrice(1);
    case 'time':
      // lastResult = downloads at inet_down + boot + generations ≥ downloadMbit / inet_down + boot + N × fastest.
      return byBandwidth(inputs.bootSeconds + inputs.generations * fastestGenSec);
    case 'eta':
      return byBandwidth(inputs.bootSeconds);
    case 'inet':
      return byField('inet_down', offer => offer.inetDownMbps, true);
    case 'downcost':
      return byField('inet_down_cost', offer => offer.inetDownCostPerGb, false);
    case 'reliability':
      return byField('reliability', offer => offer.reliability, true);
  }
}
