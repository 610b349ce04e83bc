import {afterEach, describe, expect, it, vi} from 'vitest';
import {VastUnreachableError} from '../../source/core/errors.js';
import {OffersModel} from '../../source/core/offers/offers-model.js';
import {DEFAULT_SETTINGS, type VastdeckSettings} from '../../source/core/settings.js';
import type {Offer} from '../../source/core/vast/types.js';
import {INPUTS, makeOffer} from '../helpers/offer-fixture.js';

// Job cost with INPUTS (50 × 4 s on a 4090, 19 GB at 0.005 $/GB = 0.095, 60 s boot, 120 s idle):
// cheap 0.144, mid 0.147, dear 0.168, newcomer 0.463 (slow link: 1520 s of downloads).
const cheap = makeOffer({id: 1, dphTotal: 0.3, dphBase: 0.28, inetDownMbps: 300, reliability: 0.97});
const mid = makeOffer({id: 2, dphTotal: 0.42, inetDownMbps: 900, reliability: 0.99});
const dear = makeOffer({id: 3, dphTotal: 0.6, inetDownMbps: 1500, reliability: 0.95});
const newcomer = makeOffer({id: 4, dphTotal: 0.9, inetDownMbps: 100, reliability: 0.999});

const settings: VastdeckSettings = {...DEFAULT_SETTINGS, searchLimit: 77, instance: {...DEFAULT_SETTINGS.instance, diskGb: 42}};

/** A search that answers from a script, one entry per call (the last one repeats). */
function scriptedSearch(script: (Offer[] | Error)[]) {
  const queries: Record<string, unknown>[] = [];
  const search = async (query: Record<string, unknown>): Promise<Offer[]> => {
    queries.push(query);
    const answer = script[Math.min(queries.length - 1, script.length - 1)]!;
    if (answer instanceof Error) throw answer;
    return answer;
  };
  return {search, queries};
}

/** A search whose answers the test releases by hand, to hold a refresh in flight. */
function heldSearch() {
  const pending: {query: Record<string, unknown>; resolve: (offers: Offer[]) => void}[] = [];
  const search = (query: Record<string, unknown>): Promise<Offer[]> => new Promise(resolve => pending.push({query, resolve}));
  return {search, pending};
}

function modelWith(search: (query: Record<string, unknown>) => Promise<Offer[]>): OffersModel {
  return new OffersModel({search, settings: () => settings, refreshMs: 60_000, costInputs: async () => INPUTS});
}

/** Lets the refresh read its cost inputs and reach the search. */
const settle = () => new Promise(resolve => setImmediate(resolve));

const view = (model: OffersModel) => model.getSnapshot().rows.map(row => [row.offer.id, row.rank, row.change]);

afterEach(() => {
  vi.useRealTimers();
});

describe('OffersModel', () => {
  it('starts from the config filter and loads ranked rows without marks', async () => {
    const {search, queries} = scriptedSearch([[dear, cheap, mid]]);
    const model = modelWith(search);
    expect(model.getSnapshot()).toMatchObject({status: 'loading', rows: [], sortKey: 'cost', refreshing: false, filterText: 'gpus=1 inet_down>=100 reliability>=0.95 disk>=50 cuda>=12.1 verified=true'});
    const heard = vi.fn();
    model.subscribe(heard);

    await model.refreshNow();
    model.flush();

    expect(heard).toHaveBeenCalled();
    expect(view(model)).toEqual([[1, 1, 'same'], [2, 2, 'same'], [3, 3, 'same']]);
    expect(model.getSnapshot()).toMatchObject({status: 'ok', refreshing: false, error: undefined});
    expect(model.getSnapshot().updatedAtMs).toBeTypeOf('number');
    expect(queries[0]).toMatchObject({limit: 77, allocated_storage: 42, num_gpus: {eq: 1}, inet_down: {gte: 100}, verified: {eq: true}, gpu_ram: {gte: 10_000}, order: [['dph_total', 'asc']]});
    expect(model.getSnapshot()).toMatchObject({exactRows: 3, searchCalls: 1, jobText: '50 × img2img-sdxl'});
  });

  it('marks new, changed and vanished offers, and drops vanished ones at the next refresh', async () => {
    const midRepriced = {...mid, dphTotal: 0.45};
    const {search} = scriptedSearch([[cheap, mid, dear], [cheap, midRepriced, newcomer], [cheap, midRepriced, newcomer]]);
    const model = modelWith(search);
    await model.refreshNow();

    await model.refreshNow();
    // cheap 0.144, mid at 0.45/h → 0.152, newcomer 0.463; dear (was rank 3) vanished.
    expect(view(model)).toEqual([[1, 1, 'same'], [2, 2, 'changed'], [4, 3, 'new'], [3, 3, 'vanished']]);

    await model.refreshNow();
    expect(view(model)).toEqual([[1, 1, 'same'], [2, 2, 'same'], [4, 3, 'same']]);
  });

  it('notices bandwidth, bandwidth price and reliability changes', async () => {
    const {search} = scriptedSearch([
      [cheap, mid, dear],
      [{...cheap, inetDownMbps: 350}, {...mid, inetDownCostPerGb: 0.006}, {...dear, reliability: 0.96}],
    ]);
    const model = modelWith(search);
    await model.refreshNow();
    await model.refreshNow();
    expect(model.getSnapshot().rows.map(row => row.change)).toEqual(['changed', 'changed', 'changed']);
  });

  it('never runs two refreshes at once: a refresh asked for meanwhile joins the running one', async () => {
    const {search, pending} = heldSearch();
    const model = modelWith(search);
    const first = model.refreshNow();
    const second = model.refreshNow();
    await settle();
    expect(pending).toHaveLength(1);
    expect(model.getSnapshot().refreshing).toBe(true);

    pending[0]!.resolve([cheap]);
    await Promise.all([first, second]);
    expect(view(model)).toEqual([[1, 1, 'same']]);

    const third = model.refreshNow();
    await settle();
    expect(pending).toHaveLength(2);
    pending[1]!.resolve([cheap]);
    await third;
  });

  it('keeps the rows and reports one sentence when a refresh fails', async () => {
    const failure = new VastUnreachableError('http://127.0.0.1:1', 'connection refused');
    const {search} = scriptedSearch([[cheap, mid], failure, [cheap, mid]]);
    const model = modelWith(search);
    await model.refreshNow();

    await model.refreshNow();
    expect(model.getSnapshot()).toMatchObject({status: 'ok', error: failure.message, refreshing: false});
    expect(view(model)).toEqual([[1, 1, 'same'], [2, 2, 'same']]);

    await model.refreshNow();
    expect(model.getSnapshot().error).toBeUndefined();
  });

  it('shows an error status when it never had rows, using describeError when given', async () => {
    const {search} = scriptedSearch([new Error('socket hang up')]);
    const model = new OffersModel({search, settings: () => settings, refreshMs: 60_000, describeError: () => 'The cloud is down: try later.'});
    await model.refreshNow();
    expect(model.getSnapshot()).toMatchObject({status: 'error', error: 'The cloud is down: try later.', rows: []});

    const plain = modelWith(scriptedSearch([new Error('socket hang up')]).search);
    await plain.refreshNow();
    expect(plain.getSnapshot().error).toBe('Unexpected problem: socket hang up.');
  });

  it('refuses a bad filter with its sentence and changes nothing', async () => {
    const {search, queries} = scriptedSearch([[cheap]]);
    const model = modelWith(search);
    await model.refreshNow();
    const before = model.getSnapshot();

    expect(model.setFilter('gpu=RTX_4009')).toBe("Unknown GPU 'RTX_4009' — did you mean RTX_4090?");
    expect(model.getSnapshot()).toBe(before);
    expect(queries).toHaveLength(1);
  });

  it('applies a good filter at once, without marking the new result set', async () => {
    const {search, queries} = scriptedSearch([[cheap, mid], [dear, newcomer]]);
    const model = modelWith(search);
    await model.refreshNow();

    expect(model.setFilter(' gpu=RTX_4090 inet_down>=1000 ')).toBeUndefined();
    expect(model.getSnapshot().filterText).toBe('gpu=RTX_4090 inet_down>=1000');
    await model.refreshNow();

    expect(queries[1]).toMatchObject({gpu_name: {eq: 'RTX 4090'}, inet_down: {gte: 1000}});
    expect(queries[1]).not.toHaveProperty('num_gpus');
    expect(view(model)).toEqual([[3, 1, 'same'], [4, 2, 'same']]);
  });

  it('throws away an answer for a filter that was replaced while it was in flight', async () => {
    const {search, pending} = heldSearch();
    const model = modelWith(search);
    const done = model.refreshNow();
    await settle();
    model.setFilter('gpus=2');
    pending[0]!.resolve([cheap]);
    await settle();
    expect(pending).toHaveLength(2);
    expect(pending[1]!.query).toMatchObject({num_gpus: {eq: 2}});
    expect(model.getSnapshot().rows).toEqual([]);
    pending[1]!.resolve([mid]);
    await done;
    expect(view(model)).toEqual([[2, 1, 'same']]);
  });

  it('re-sorts at once on a new sort key, then searches the market again in that key\'s order', async () => {
    const {search, queries} = scriptedSearch([[cheap, mid, dear], [cheap, mid, newcomer]]);
    const model = modelWith(search);
    await model.refreshNow();
    await model.refreshNow();
    expect(view(model)).toEqual([[1, 1, 'same'], [2, 2, 'same'], [4, 3, 'new'], [3, 3, 'vanished']]);

    expect([model.cycleSort(), model.cycleSort(), model.cycleSort(), model.cycleSort(), model.cycleSort()]).toEqual(['time', 'window', 'eta', 'dph', 'inet']);
    // At once, from the rows on screen: fastest first (mid 900, cheap 300, newcomer 100); the vanished row is gone.
    expect(view(model)).toEqual([[2, 1, 'same'], [1, 2, 'same'], [4, 3, 'new']]);
    expect(model.getSnapshot().exactRows).toBe(0);

    await model.refreshNow();
    expect(queries.at(-1)).toMatchObject({order: [['inet_down', 'desc'], ['dph_total', 'asc']]});
    // The new answer comes without marks: it is another slice of the market.
    expect(view(model)).toEqual([[2, 1, 'same'], [1, 2, 'same'], [4, 3, 'same']]);
    expect([model.cycleSort(), model.cycleSort(), model.cycleSort()]).toEqual(['downcost', 'reliability', 'cost']);
  });

  it('refreshes on start and then on its interval until stopped', async () => {
    vi.useFakeTimers();
    const {search, queries} = scriptedSearch([[cheap]]);
    const model = modelWith(search);
    model.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(queries).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(queries).toHaveLength(2);
    model.stop();
    await vi.advanceTimersByTimeAsync(180_000);
    expect(queries).toHaveLength(2);
  });
});
