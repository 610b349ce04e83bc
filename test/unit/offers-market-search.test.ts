// The whole-market search (market-search.ts): a first call in the sort key's own server order,
// then calls bounded by what the best rows found so far prove. Hand-made markets check the bounds
// it sends and the rows it proves exact; the simulator's own query evaluator (in process, thousands
// of offers, several seeds) checks the promise itself: the top rows equal those of the full answer.
import {describe, expect, it} from 'vitest';
import {exclusionReason} from '../../source/core/offers/cost.js';
import {searchMarket} from '../../source/core/offers/market-search.js';
import {rankOffers, SORT_KEYS} from '../../source/core/offers/rank.js';
import {buildOfferSearch} from '../../source/core/offers/search.js';
import type {CostInputs, SortKey} from '../../source/core/offers/types.js';
import {DEFAULT_SETTINGS} from '../../source/core/settings.js';
import {parseOffersAnswer} from '../../source/core/vast/parse.js';
import type {Offer} from '../../source/core/vast/types.js';
import {Market} from '../../source/sim/market.js';
import {searchOffers} from '../../source/sim/query-eval.js';
import {INPUTS, makeOffer} from '../helpers/offer-fixture.js';

const FIELDS: Record<string, (offer: Offer) => number> = {
  dph_total: offer => offer.dphTotal,
  inet_down: offer => offer.inetDownMbps,
  inet_down_cost: offer => offer.inetDownCostPerGb,
  reliability: offer => offer.reliability,
  gpu_ram: offer => offer.gpuRamMb,
};

/** A tiny /bundles/ over Offer values: range bounds on FIELDS, order, limit; `ignore` lists fields it does not filter on. */
function fakeApi(offers: readonly Offer[], ignore: string[] = []) {
  const queries: Record<string, unknown>[] = [];
  const search = async (query: Record<string, unknown>): Promise<Offer[]> => {
    queries.push(query);
    const tests = Object.entries(FIELDS)
      .filter(([field]) => !ignore.includes(field) && query[field])
      .flatMap(([field, value]) =>
        Object.entries(query[field] as Record<string, number>).map(([op, bound]) => (offer: Offer) => {
          const actual = value(offer);
          return op === 'gte' ? actual >= bound : op === 'lte' ? actual <= bound : op === 'gt' ? actual > bound : op === 'lt' ? actual < bound : true;
        }),
      );
    const order = query.order as [string, 'asc' | 'desc'][];
    const sorted = offers
      .filter(offer => tests.every(test => test(offer)))
      .sort((a, b) => {
        for (const [field, direction] of order) {
          const difference = FIELDS[field]!(a) - FIELDS[field]!(b);
          if (difference !== 0) return direction === 'asc' ? difference : -difference;
        }
        return a.id - b.id;
      });
    return sorted.slice(0, query.limit as number);
  };
  return {search, queries};
}

const ids = (rows: readonly {offer: Offer}[]): number[] => rows.map(row => row.offer.id);

describe('searchMarket on a hand-made market', () => {
  // INPUTS: 50 × 4 s on a 4090; the fastest GPU there can be runs at 2.0 (2 s per generation), so
  // every offer pays for at least 60 boot + 50 × 2 + 120 idle = 280 s of GPU: jobCost ≥ dph_total × 280/3600.
  // Three cheap 3060s on a slow, dear link (100 Mbit/s, $0.02/GB, storage folded into dph_base):
  //   GPU 560 + 60 + 50 × 14.2857 + 120 = 1454.2857 s; job = dph × 1454.2857/3600 + 19 × 0.02.
  const slow = (id: number, dph: number) => makeOffer({id, gpuName: 'RTX 3060', gpuRamMb: 12_288, dphBase: dph, dphTotal: dph, inetDownMbps: 100, inetDownCostPerGb: 0.02});
  const market = [
    slow(1, 0.1), // 0.0403968 + 0.38 = 0.4203968
    slow(2, 0.11), // 0.0444365 + 0.38 = 0.4244365
    slow(3, 0.12), // 0.0484762 + 0.38 = 0.4284762
    // A 4090 at 1000 Mbit/s, $0.001/GB: GPU 56 + 60 + 200 + 120 = 436 s × 0.5/3600 = 0.0605556 + 0.019 = 0.0795556
    makeOffer({id: 4, dphBase: 0.5, dphTotal: 0.5, inetDownMbps: 1000, inetDownCostPerGb: 0.001}),
    // Fast but $6/h: 6 × 436/3600 = 0.7266667; it can never make the top 2, and its price proves it.
    makeOffer({id: 5, dphBase: 6, dphTotal: 6, inetDownMbps: 1000, inetDownCostPerGb: 0}),
  ];

  it('finds the cheapest job beyond the cheapest $/h window with one bounded second call', async () => {
    const {search, queries} = fakeApi(market);
    const found = await searchMarket({search, query: {}, inputs: INPUTS, sortKey: 'cost', limit: 3, top: 2});
    expect(found.calls).toBe(2);
    expect(queries[0]).toMatchObject({order: [['dph_total', 'asc']], limit: 3, gpu_ram: {gte: 10_000}});
    // After 1, 2, 3: the 2nd best job is 0.4244365, so only dph_total ≤ 0.4244365 / (280/3600) = 5.457041 can still win.
    const second = queries[1] as {dph_total: {gte: number; lte: number}};
    expect(second.dph_total.gte).toBe(0.12);
    expect(second.dph_total.lte).toBeCloseTo(5.457041, 5);
    expect(ids(found.rows)).toEqual([4, 1, 2, 3]);
    expect(found.rows[0]!.cost.jobCostUsd).toBeCloseTo(0.0795556, 6);
    // Nothing unseen costs less than 5.457041 × 280/3600 = 0.4244365: rows 4, 1 and 2 are proven.
    expect(found.exactRows).toBe(3);
  });

  it('proves nothing from one call, which is what a single cheapest-$/h window would have offered', async () => {
    const found = await searchMarket({search: fakeApi(market).search, query: {}, inputs: INPUTS, sortKey: 'cost', limit: 3, top: 2, maxCalls: 1});
    expect(ids(found.rows)).toEqual([1, 2, 3]);
    // Unseen offers cost ≥ 0.12 × 280/3600 = 0.0093333, below every row seen.
    expect(found.exactRows).toBe(0);
  });

  it('keeps the user\'s own stricter bound on the field it pages by', async () => {
    const {search, queries} = fakeApi(market);
    await searchMarket({search, query: {dph_total: {lte: 0.55}}, inputs: INPUTS, sortKey: 'cost', limit: 3, top: 2});
    expect(queries[1]).toMatchObject({dph_total: {lte: 0.55, gte: 0.12}});
  });

  it('pages the time to the last result by download speed, fastest first', async () => {
    // Downloads 19 GB = 152000 Mbit; the bound is 152000 / inet_down + 60 boot + 50 × 2 s.
    const links = [4000, 3000, 2000, 1000, 500].map((mbps, index) => makeOffer({id: index + 1, gpuName: 'RTX 3060', gpuRamMb: 12_288, inetDownMbps: mbps}));
    links.push(makeOffer({id: 9, inetDownMbps: 400})); // a 4090: 380 + 60 + 200 = 640 s
    const {search, queries} = fakeApi(links);
    const found = await searchMarket({search, query: {}, inputs: INPUTS, sortKey: 'time', limit: 3, top: 2});
    // 3060s: 50 × 14.2857 = 714.29 s of generations: 4000 → 38 + 60 + 714.29 = 812.29 s; 3000 → 824.95 s; 2000 → 850.29 s.
    // The 2nd best, 824.95 s, allows only inet_down ≥ 152000 / (824.95 − 160) = 228.59 Mbit/s to beat it.
    expect(queries[0]).toMatchObject({order: [['inet_down', 'desc']]});
    const second = queries[1] as {inet_down: {lte: number; gte: number}};
    expect(second.inet_down.lte).toBe(2000);
    expect(second.inet_down.gte).toBeCloseTo(228.59, 2);
    // 2000, 1000, 500 fill the second answer; the third (≤ 500) brings 500 and 400 and ends the range.
    expect(found.calls).toBe(3);
    expect(ids(found.rows).slice(0, 2)).toEqual([9, 1]);
    expect(found.exactRows).toBeGreaterThanOrEqual(2);
  });

  it('says how many rows it proved when the calls run out', async () => {
    const links = [4000, 3000, 2000, 1000, 500].map((mbps, index) => makeOffer({id: index + 1, gpuName: 'RTX 3060', gpuRamMb: 12_288, inetDownMbps: mbps}));
    links.push(makeOffer({id: 9, inetDownMbps: 400}));
    const found = await searchMarket({search: fakeApi(links).search, query: {}, inputs: INPUTS, sortKey: 'time', limit: 2, top: 2});
    // Four answers of two, the last ending at 500 Mbit/s: unseen offers need ≥ 152000/500 + 160 = 464 s, below every row seen.
    expect(found.calls).toBe(4);
    expect(ids(found.rows)).not.toContain(9);
    expect(found.exactRows).toBe(0);
  });

  it('stops paging when a whole answer ties on one value', async () => {
    const twins = Array.from({length: 6}, (_, index) => makeOffer({id: index + 1, dphTotal: 0.4, inetDownCostPerGb: 0}));
    const found = await searchMarket({search: fakeApi(twins).search, query: {}, inputs: INPUTS, sortKey: 'downcost', limit: 2, top: 3});
    expect(found.calls).toBe(2);
    expect(found.exactRows).toBe(0);
  });

  it('drops offers with too little VRAM even when the server ignores the VRAM bound, and says why', async () => {
    const small = makeOffer({id: 7, gpuRamMb: 8_192, dphTotal: 0.05});
    const found = await searchMarket({search: fakeApi([...market, small], ['gpu_ram']).search, query: {}, inputs: INPUTS, sortKey: 'dph', limit: 10});
    expect(ids(found.rows)).not.toContain(7);
    expect(found.excluded).toEqual([{offer: small, reason: '8.2 GB of VRAM per GPU, and img2img-sdxl needs 10 GB'}]);
  });
});

/** The simulator's market and query evaluator, in process: the same answers POST /bundles/ gives. */
function simMarket(seed: number, offers: number) {
  const market = new Market({seed, offers, nowSec: 1_700_000_000});
  let calls = 0;
  const search = async (query: Record<string, unknown>): Promise<Offer[]> => {
    calls++;
    return parseOffersAnswer({offers: searchOffers(market.all(), query, market.fieldNames)});
  };
  return {search, calls: () => calls};
}

const LOOSE = 'gpus=any reliability=any verified=any cuda=any disk=any inet_down=any';
const VIDEO: CostInputs = {...INPUTS, workflow: 'img2vid', minVramGb: 16, referenceSecondsPerGeneration: 11, generations: 20};

describe('searchMarket over a whole simulated market', () => {
  it.each([1, 2, 3, 4, 5])('returns the true top 10 for every sort key, in at most 4 calls (seed %i)', async seed => {
    const {search} = simMarket(seed, 3400);
    for (const [expression, inputs] of [[LOOSE, INPUTS], ['', INPUTS], [LOOSE, VIDEO]] as const) {
      const {query} = buildOfferSearch(expression, DEFAULT_SETTINGS);
      const everything = await search({...query, limit: 10_000});
      if (expression === LOOSE) expect(everything.length).toBeGreaterThanOrEqual(3000);
      const usable = everything.filter(offer => exclusionReason(offer, inputs) === undefined);
      for (const {key} of SORT_KEYS) {
        const truth = ids(rankOffers(usable, inputs, key).slice(0, 10));
        const found = await searchMarket({search, query, inputs, sortKey: key, limit: 400, top: 10});
        expect(ids(found.rows.slice(0, 10)), `${key} · ${inputs.workflow} · ${expression || 'defaults'}`).toEqual(truth);
        expect(found.exactRows).toBeGreaterThanOrEqual(10);
        expect(found.calls).toBeLessThanOrEqual(4);
      }
    }
  });

  it('would miss the top 10 for several keys with the old single window of the 400 cheapest $/h', async () => {
    const {search} = simMarket(1, 3400);
    const {query} = buildOfferSearch(LOOSE, DEFAULT_SETTINGS);
    const usable = (await search({...query, limit: 10_000})).filter(offer => exclusionReason(offer, INPUTS) === undefined);
    const window = await search({...query, order: [['dph_total', 'asc']], limit: 400});
    const missed = (key: SortKey): number => {
      const seen = new Set(ids(rankOffers(window, INPUTS, key).slice(0, 10)));
      return ids(rankOffers(usable, INPUTS, key).slice(0, 10)).filter(id => !seen.has(id)).length;
    };
    expect(missed('eta')).toBeGreaterThan(5);
    expect(missed('inet')).toBeGreaterThan(5);
    expect(missed('time')).toBeGreaterThan(5);
  });
});
