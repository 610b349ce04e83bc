import {describe, expect, it} from 'vitest';
import {InputError} from '../../source/core/errors.js';
import {parseSortKey, rankOffers, SORT_KEYS, sortRankedOffers} from '../../source/core/offers/rank.js';
import type {SortKey} from '../../source/core/offers/types.js';
import {INPUTS, makeOffer} from '../helpers/offer-fixture.js';

// Window cost = dphTotal × 10/60 + 7 GB × $/GB; ETA = 19 GB × 8000 / Mbps + 60 s.
const offers = [
  // 0.42/6 = 0.07 + 0.14 = 0.21; ETA 152000/100 + 60 = 1580 s; first 0.4611667
  makeOffer({id: 1, dphBase: 0.4, dphTotal: 0.42, inetDownMbps: 100, inetDownCostPerGb: 0.02, reliability: 0.99}),
  // 0.08 + 0.007 = 0.087; ETA 152 + 60 = 212 s; first 0.0392667
  makeOffer({id: 2, dphBase: 0.45, dphTotal: 0.48, inetDownMbps: 1000, inetDownCostPerGb: 0.001, reliability: 0.95}),
  // 0.05 + 0.035 = 0.085; no bandwidth: ETA and first are Infinity
  makeOffer({id: 3, dphBase: 0.3, dphTotal: 0.3, inetDownMbps: 0, inetDownCostPerGb: 0.005, reliability: 0.999}),
  // 0.1 + 0 = 0.1; ETA 76 + 60 = 136 s; first 0.6 × (28 + 60 + 30)/3600 = 0.0196667
  makeOffer({id: 4, dphBase: 0.6, dphTotal: 0.6, inetDownMbps: 2000, inetDownCostPerGb: 0, reliability: 0.97}),
];

const idsBy = (key: SortKey): number[] => rankOffers(offers, INPUTS, key).map(row => row.offer.id);

describe('rankOffers', () => {
  it('ranks by the 10-minute job cost, cheapest first, numbering from 1', () => {
    const rows = rankOffers(offers, INPUTS, 'cost');
    expect(rows.map(row => row.offer.id)).toEqual([3, 2, 4, 1]);
    expect(rows.map(row => row.rank)).toEqual([1, 2, 3, 4]);
    expect(rows.every(row => row.change === 'same')).toBe(true);
    expect(rows[0]!.cost.windowCostUsd).toBeCloseTo(0.085, 10);
  });

  it.each<[SortKey, number[]]>([
    ['eta', [4, 2, 1, 3]], // 136 s, 212 s, 1580 s, never
    ['first', [4, 2, 1, 3]], // $0.0197, $0.0393, $0.461, never
    ['dph', [3, 1, 2, 4]], // 0.30, 0.42, 0.48, 0.60
    ['inet', [4, 2, 1, 3]], // fastest first: 2000, 1000, 100, 0
    ['downcost', [4, 2, 3, 1]], // 0, 0.001, 0.005, 0.02
    ['reliability', [3, 1, 4, 2]], // most reliable first: 0.999, 0.99, 0.97, 0.95
  ])('sorts by %s', (key, expected) => {
    expect(idsBy(key)).toEqual(expected);
  });

  it('breaks ties by window cost, then by id, whatever the input order', () => {
    const twins = [
      makeOffer({id: 30, dphTotal: 0.5, reliability: 0.98}),
      makeOffer({id: 10, dphTotal: 0.5, reliability: 0.98}),
      makeOffer({id: 20, dphTotal: 0.4, reliability: 0.98}),
    ];
    // Same reliability: the cheaper window (id 20, 0.4/h) first, then ids 10 and 30 (equal cost).
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
});

describe('SORT_KEYS and parseSortKey', () => {
  it('cycles cost, eta, first, dph, inet, downcost, reliability', () => {
    expect(SORT_KEYS.map(entry => entry.key)).toEqual(['cost', 'eta', 'first', 'dph', 'inet', 'downcost', 'reliability']);
    expect(SORT_KEYS[0]!.label).toBe('10-min job cost');
  });

  it('accepts a key in any case and names the keys when it does not know one', () => {
    expect(parseSortKey(' ETA ')).toBe('eta');
    expect(() => parseSortKey('price')).toThrow(InputError);
    expect(() => parseSortKey('price')).toThrow("Unknown sort key 'price': use one of cost, eta, first, dph, inet, downcost, reliability.");
  });
});
