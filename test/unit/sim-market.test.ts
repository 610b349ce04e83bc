import {describe, expect, it} from 'vitest';
import {Market, offerPrices, type SimOffer} from '../../source/sim/market.js';
import {searchOffers} from '../../source/sim/query-eval.js';
import {Random} from '../../source/sim/random.js';

const NOW = 1_800_000_000;
const market = new Market({seed: 7, nowSec: NOW});
const offers = market.all();

function numbers(field: string): number[] {
  return offers.map(offer => offer[field]).filter((value): value is number => typeof value === 'number');
}

function share(predicate: (offer: SimOffer) => boolean): number {
  return offers.filter(predicate).length / offers.length;
}

describe('Random', () => {
  it('repeats a sequence for a seed and differs across seeds and salts', () => {
    const draw = (random: Random) => Array.from({length: 5}, () => random.next());
    expect(draw(new Random(3))).toEqual(draw(new Random(3)));
    expect(draw(new Random(3))).not.toEqual(draw(new Random(4)));
    expect(draw(new Random(3, 1))).not.toEqual(draw(new Random(3, 2)));
  });

  it('keeps int() inside its bounds and weighted() near its weights', () => {
    const random = new Random(11);
    const ints = Array.from({length: 2000}, () => random.int(2, 5));
    expect(Math.min(...ints)).toBe(2);
    expect(Math.max(...ints)).toBe(5);
    const picks = Array.from({length: 4000}, () => random.weighted([['a', 3], ['b', 1]] as const));
    const aShare = picks.filter(pick => pick === 'a').length / picks.length;
    expect(aShare).toBeGreaterThan(0.7);
    expect(aShare).toBeLessThan(0.8);
  });
});

describe('Market generation', () => {
  it('builds the same offers for the same seed and different ones for another seed', () => {
    expect(new Market({seed: 7, nowSec: NOW, offers: 300}).all()).toEqual(new Market({seed: 7, nowSec: NOW, offers: 300}).all());
    const other = new Market({seed: 8, nowSec: NOW, offers: 300}).all();
    expect(other.map(offer => offer.id)).not.toEqual(new Market({seed: 7, nowSec: NOW, offers: 300}).all().map(offer => offer.id));
  });

  it('holds 2400 offers by default with unique ids from about 20,000,000, id == ask_contract_id', () => {
    expect(offers.length).toBe(2400);
    expect(new Set(offers.map(offer => offer.id)).size).toBe(2400);
    expect(Math.min(...offers.map(offer => offer.id))).toBeGreaterThanOrEqual(20_000_000);
    expect(Math.max(...offers.map(offer => offer.id))).toBeLessThan(21_000_000);
    expect(offers.every(offer => offer.ask_contract_id === offer.id)).toBe(true);
  });

  it('mixes GPUs from RTX 3090 to H200, mostly consumer cards, mostly single-GPU offers', () => {
    const names = new Set(offers.map(offer => offer.gpu_name));
    for (const name of ['RTX 3090', 'RTX 4090', 'RTX 5090', 'RTX A6000', 'L40S', 'A100 SXM4', 'H100 SXM', 'H200', 'Tesla T4']) expect(names).toContain(name);
    expect(share(offer => offer.gpu_name === 'RTX 4090')).toBeGreaterThan(share(offer => offer.gpu_name === 'H200'));
    expect(share(offer => offer.num_gpus === 1)).toBeGreaterThan(0.5);
    expect(new Set(offers.map(offer => offer.num_gpus))).toEqual(new Set([1, 2, 4, 8]));
  });

  it('uses the API units: gpu_ram MB per GPU, compute_cap ×100, $/h prices in each card’s band', () => {
    const rtx4090 = offers.filter(offer => offer.gpu_name === 'RTX 4090');
    expect(rtx4090.every(offer => offer.gpu_ram === 24564 && offer.compute_cap === 890)).toBe(true);
    expect(rtx4090.every(offer => offer.gpu_total_ram === 24564 * offer.num_gpus)).toBe(true);
    for (const offer of rtx4090) {
      const perGpu = offer.dph_base / offer.num_gpus;
      expect(perGpu).toBeGreaterThanOrEqual(0.28 * 0.8);
      expect(perGpu).toBeLessThanOrEqual(0.75 * 1.25);
    }
    expect(offers.filter(offer => offer.gpu_name === 'RTX 3090').every(offer => offer.compute_cap === 860)).toBe(true);
    expect(offers.filter(offer => offer.gpu_name === 'H200').every(offer => (offer.dph_base as number) / offer.num_gpus >= 2.4 * 0.8)).toBe(true);
    expect(offers.filter(offer => offer.gpu_name === 'RTX 5090').every(offer => offer.compute_cap === 1200 && (offer.cuda_max_good as number) >= 12.8)).toBe(true);
  });

  it('spreads network, bandwidth cost, reliability and storage over realistic ranges', () => {
    const down = numbers('inet_down');
    expect(Math.min(...down)).toBeGreaterThanOrEqual(20);
    expect(Math.max(...down)).toBeLessThanOrEqual(8000);
    expect(down.filter(value => value < 200).length).toBeGreaterThan(50);
    expect(down.filter(value => value > 2000).length).toBeGreaterThan(50);
    const downCost = numbers('inet_down_cost');
    expect(downCost.filter(value => value <= 0.01).length / downCost.length).toBeGreaterThan(0.7);
    expect(Math.max(...downCost)).toBeGreaterThan(0.03);
    expect(Math.max(...downCost)).toBeLessThanOrEqual(0.1);
    expect(offers.every(offer => Math.abs((offer.internet_down_cost_per_tb as number) - (offer.inet_down_cost as number) * 1024) < 1e-4)).toBe(true);
    const reliability = numbers('reliability');
    expect(Math.min(...reliability)).toBeGreaterThanOrEqual(0.8);
    expect(Math.max(...reliability)).toBeLessThanOrEqual(0.9995);
    expect(reliability.filter(value => value > 0.95).length / reliability.length).toBeGreaterThan(0.5);
    const storage = numbers('storage_cost');
    expect(Math.min(...storage)).toBeGreaterThanOrEqual(0.05);
    expect(Math.max(...storage)).toBeLessThanOrEqual(0.4);
    expect(new Set(offers.map(offer => offer.geolocation.slice(-2))).size).toBeGreaterThanOrEqual(20);
    expect(offers.some(offer => /^, [A-Z]{2}$/.test(offer.geolocation))).toBe(true);
    expect(offers.some(offer => offer.cpu_arch === 'arm64')).toBe(true);
    expect(share(offer => offer.cpu_arch === 'amd64')).toBeGreaterThan(0.9);
  });

  it('prices every offer for the CLI’s default 5 GB: dph_total = dph_base + storage_cost × 5 / 720', () => {
    for (const offer of offers) {
      const storageHour = (offer.storage_cost * 5) / 720;
      expect(offer.storage_total_cost).toBeCloseTo(storageHour, 6);
      expect(offer.dph_total).toBeCloseTo(offer.dph_base + storageHour, 6);
      expect(offer.dlperf_per_dphtotal).toBeCloseTo(offer.dlperf / offer.dph_total, 2);
      expect((offer.search as {totalHour: number}).totalHour).toBeCloseTo(offer.dph_total, 6);
      expect(offer.min_bid).toBeLessThan(offer.dph_base);
      expect(offer.end_date).toBe(NOW + (offer.duration as number));
    }
  });

  it('lists several offers for some machines, sharing the machine’s details', () => {
    const byMachine = new Map<number, SimOffer[]>();
    for (const offer of offers) byMachine.set(offer.machine_id, [...(byMachine.get(offer.machine_id) ?? []), offer]);
    const shared = [...byMachine.values()].filter(group => group.length > 1);
    expect(shared.length).toBeGreaterThan(50);
    for (const group of shared) {
      expect(new Set(group.map(offer => offer.gpu_name)).size).toBe(1);
      expect(new Set(group.map(offer => offer.geolocation)).size).toBe(1);
      expect(new Set(group.map(offer => offer.num_gpus)).size).toBe(group.length);
    }
  });
});

describe('Market churn', () => {
  it('takes, adds and reprices offers deterministically, staying near its size', () => {
    const left = new Market({seed: 3, nowSec: NOW, offers: 500});
    const right = new Market({seed: 3, nowSec: NOW, offers: 500});
    const firstIds = new Set(left.all().map(offer => offer.id));
    const ticks = Array.from({length: 5}, () => left.tick());
    expect(Array.from({length: 5}, () => right.tick())).toEqual(ticks);
    expect(left.all()).toEqual(right.all());
    expect(ticks.every(tick => tick.taken.length > 0)).toBe(true);
    expect(ticks.some(tick => tick.repriced.length > 0)).toBe(true);
    for (const tick of ticks) {
      for (const id of tick.taken) expect(left.get(id)).toBeUndefined();
      for (const id of tick.added) expect(firstIds.has(id)).toBe(false);
    }
    expect(left.size).toBeGreaterThanOrEqual(500);
    expect(left.size).toBeLessThan(510);
  });

  it('moves a repriced offer by a few percent at most', () => {
    const churned = new Market({seed: 5, nowSec: NOW, offers: 800});
    const before = new Map(churned.all().map(offer => [offer.id, offer.dph_base]));
    const {repriced} = churned.tick();
    for (const id of repriced) {
      const after = churned.get(id)?.dph_base;
      if (after === undefined) continue;
      const change = Math.abs(after / before.get(id)! - 1);
      expect(change).toBeGreaterThan(0.005);
      expect(change).toBeLessThan(0.06);
    }
  });

  it('take() returns the offer once, and removes sibling slices that no longer fit', () => {
    const local = new Market({seed: 7, nowSec: NOW});
    const whole = local.all().find(offer => offer.num_gpus === 8 && local.all().some(other => other.machine_id === offer.machine_id && other.id !== offer.id));
    expect(whole).toBeDefined();
    expect(local.take(whole!.id)?.id).toBe(whole!.id);
    expect(local.take(whole!.id)).toBeUndefined();
    expect(local.all().some(offer => offer.machine_id === whole!.machine_id)).toBe(false);
  });
});

describe('allocated_storage pricing', () => {
  const sample = offers[0]!;

  it('recomputes dph_total, storage_total_cost and the search object on a copy', () => {
    const prices = offerPrices(sample, 60, 'on-demand');
    expect(prices.storage_total_cost).toBeCloseTo((sample.storage_cost * 60) / 720, 7);
    expect(prices.dph_total).toBeCloseTo(sample.dph_base + (sample.storage_cost * 60) / 720, 7);
    expect(prices.search).toEqual({
      gpuCostPerHour: sample.dph_base,
      diskHour: prices.storage_total_cost,
      totalHour: prices.dph_total,
      discountTotalHour: prices.discounted_hourly,
      discountedTotalPerHour: prices.discounted_dph_total,
    });
    const [copy] = searchOffers([sample], {allocated_storage: 60}, market.fieldNames);
    expect(copy!.dph_total).toBe(prices.dph_total);
    expect(market.get(sample.id)!.dph_total).toBeCloseTo(sample.dph_base + (sample.storage_cost * 5) / 720, 7);
  });

  it('prices bids at the minimum bid and reserved with the prepay discount', () => {
    const bid = offerPrices(sample, 10, 'bid');
    expect(bid.dph_base).toBe(sample.min_bid);
    expect(bid.dph_total).toBeCloseTo(sample.min_bid + (sample.storage_cost * 10) / 720, 7);
    expect(bid.is_bid).toBe(true);
    const reserved = offerPrices(sample, 10, 'reserved');
    expect(reserved.discounted_dph_total).toBeCloseTo(reserved.dph_total - sample.dph_base * sample.discount_rate, 7);
  });
});
