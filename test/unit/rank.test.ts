import {describe, expect, it} from 'vitest';
import {InputError} from '../../source/core/errors.js';
import {parseSortKey, rankOffers, SORT_KEYS, sortRankedOffers, sortValue} from '../../source/core/offers/rank.js';
import type {SortKey} from '../../source/core/offers/types.js';
import {INPUTS, makeOffer} from '../helpers/offer-fixture.js';

// INPUTS: 50 × 4 s on a 4090 (200 s), 19 GB to download, 60 s boot, 120 s idle tail.
const offers = [
  // job 0.495, last result 1780 s, ready 1580 s, 10-min 0.45 (hand-computed in cost.test.ts)
  makeOffer({id: 1, dphBase: 0.4, dphTotal: 0.42, inetDownMbps: 100, inetDownCostPerGb: 0.02, reliability: 0.99}),
  // pull 96 s, models 56 s: storage 0.03 × 96/3600 = 0.0008 + GPU 0.48 × 436/3600 = 0.0581333 + 0.019 = 0.0779333;
  // last result 412 s, ready 212 s, 10-min 0.08 + 0.019 = 0.099
  makeOffer({id: 2, dphBase: 0.45, dphTotal: 0.48, inetDownMbps: 1000, inetDownCostPerGb: 0.001, reliability: 0.95}),
  // no bandwidth: job, last result and ready are Infinity; 10-min 0.05 + 0.095 = 0.145
  makeOffer({id: 3, dphBase: 0.3, dphTotal: 0.3, inetDownMbps: 0, inetDownCostPerGb: 0.005, reliability: 0.999}),
  // pull 48 s, models 28 s: GPU 0.6 × 408/3600 = 0.068, no storage share, free bandwidth → 0.068;
  // last result 336 s, ready 136 s, 10-min 0.1
  makeOffer({id: 4, dphBase: 0.6, dphTotal: 0.6, inetDownMbps: 2000, inetDownCostPerGb: 0, reliability: 0.97}),
];

const idsBy = (key: SortKey): number[] => rankOffers(offers, INPUTS, key).map(row => row.offer.id);

describe('rankOffers', () => {
  it('ranks by the whole-job cost, cheapest first, numbering from 1', () => {
    const rows = rankOffers(offers, INPUTS, 'cost');
    expect(rows.map(row => row.offer.id)).toEqual([4, 2, 1, 3]);
    expect(rows.map(row => row.rank)).toEqual([1, 2, 3, 4]);
    expect(rows.every(row => row.change === 'same')).toBe(true);
    expect(rows[0]!.cost.jobCostUsd).toBeCloseTo(0.068, 10);
    expect(rows[1]!.cost.jobCostUsd).toBeCloseTo(0.0779333, 6);
  });

  it.each<[SortKey, number[]]>([
    ['time', [4, 2, 1, 3]], // 336 s, 412 s, 1780 s, never
    ['window', [2, 4, 3, 1]], // $0.099, $0.10, $0.145, $0.45
    ['eta', [4, 2, 1, 3]], // 136 s, 212 s, 1580 s, never
    ['dph', [3, 1, 2, 4]], // 0.30, 0.42, 0.48, 0.60
    ['inet', [4, 2, 1, 3]], // fastest first: 2000, 1000, 100, 0
    ['downcost', [4, 2, 3, 1]], // 0, 0.001, 0.005, 0.02
    ['reliability', [3, 1, 4, 2]], // most reliable first: 0.999, 0.99, 0.97, 0.95
  ])('sorts by %s', (key, expected) => {
    expect(idsBy(key)).toEqual(expected);
  });

  it('breaks ties by job cost, then by id, whatever the input order', () => {
    const twins = [
      makeOffer({id: 30, dphTotal: 0.5, reliability: 0.98}),
      makeOffer({id: 10, dphTotal: 0.5, reliability: 0.98}),
      makeOffer({id: 20, dphTotal: 0.4, reliability: 0.98}),
    ];
    // Same reliability: the cheaper job (id 20, 0.4/h) first, then ids 10 and 30 (equal cost).
    expect(rankOffers(twins, INPUTS, 'reliability').map(row => row.offer.id)).toEqual([20, 10, 30]);
    expect(rankOffers([...twins].reverse(), INPUTS, 'reliability').map(row => row.offer.id)).toEqual([20, 10, 30]);
  });

  it('re-sorts ranked rows keeping their change marks', () => {
    const rows = rankOffers(offers, INPUTS, 'cost').map(row => (row.offer.id === 1 ? {...row, change: 'new' as const} : row));
    const resorted = sortRankedOffers(rows, 'dph');
    expect(resorted.map(row => [row.offer.id, row.rank, row.change])).toEqual([
      [3, 1, 'same'],
      [1, 2, 'new'],
      [2, 3, 'same'],
      [4, 4, 'same'],
    ]);
  });

  it('gives every key a value where lower is better', () => {
    const [fast] = rankOffers([offers[3]!], INPUTS, 'cost');
    expect(sortValue(fast!, 'inet')).toBe(-2000);
    expect(sortValue(fast!, 'reliability')).toBe(-0.97);
    expect(sortValue(fast!, 'dph')).toBe(0.6);
  });
});

describe('SORT_KEYS and parseSortKey', () => {
  it('cycles cost, time, window, eta, dph, inet, downcost, reliability', () => {
    expect(SORT_KEYS.map(entry => entry.key)).toEqual(['cost', 'time', 'window', 'eta', 'dph', 'inet', 'downcost', 'reliability']);
    expect(SORT_KEYS[0]!.label).toBe('job cost');
  });

  it('accepts a key in any case and names the keys when it does not know one', () => {
    expect(parseSortKey(' ETA ')).toBe('eta');
    expect(() => parseSortKey('price')).toThrow(InputError);
    expect(() => parseSortKey('price')).toThrow("Unknown sort key 'price': use one of cost, time, window, eta, dph, inet, downcost, reliability.");
  });
});
