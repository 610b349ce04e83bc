// The whole-market promise over real sockets: on a simulated market of more than 3,000 offers that
// match the filter, for every sort key the top 10 of the search (a few POST /bundles/ calls, as
// the dashboard, `vastdeck offers` and `up` make them) equals the top 10 computed over the full
// raw /bundles/ answer. The raw answer is fetched with plain fetch, not through vastdeck's client.
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {exclusionReason} from '../../source/core/offers/cost.js';
import {jobCostInputs} from '../../source/core/offers/job-inputs.js';
import {searchMarket} from '../../source/core/offers/market-search.js';
import {rankOffers, SORT_KEYS} from '../../source/core/offers/rank.js';
import {buildOfferSearch} from '../../source/core/offers/search.js';
import type {CostInputs} from '../../source/core/offers/types.js';
import {DEFAULT_SETTINGS} from '../../source/core/settings.js';
import {VastClient} from '../../source/core/vast/client.js';
import {parseOffersAnswer} from '../../source/core/vast/parse.js';
import {startSimCloud, type SimCloud} from '../../source/sim/cloud.js';

let cloud: SimCloud;
let client: VastClient;
let inputs: CostInputs;

beforeAll(async () => {
  cloud = await startSimCloud({port: 0, seed: 11, offers: 3600, rateLimitScale: 0, churnIntervalMs: 0});
  client = new VastClient({baseUrl: cloud.baseUrl, apiKey: cloud.apiKey, pacingScale: 0});
  inputs = await jobCostInputs(DEFAULT_SETTINGS);
});

afterAll(async () => {
  await cloud.close();
});

/** Everything the filter matches, in one raw call. */
async function rawAnswer(query: Record<string, unknown>): Promise<unknown> {
  const response = await fetch(`${cloud.baseUrl}/api/v0/bundles/`, {
    method: 'POST',
    headers: {authorization: `Bearer ${cloud.apiKey}`, 'content-type': 'application/json'},
    body: JSON.stringify({...query, limit: 10_000}),
  });
  expect(response.status).toBe(200);
  return response.json();
}

const searchCalls = (): number => cloud.requests.filter(entry => entry.method === 'POST' && entry.path.startsWith('/api/v0/bundles')).length;

describe('the whole-market search against the simulated cloud', () => {
  it('finds the same top 10 as the full answer for every sort key, in a few calls', async () => {
    // Only the on-demand, rentable defaults and the job's VRAM: more than 3,000 offers match.
    const {query} = buildOfferSearch('gpus=any reliability=any verified=any cuda=any disk=any inet_down=any', DEFAULT_SETTINGS);
    const raw = (await rawAnswer(query)) as {offers: unknown[]};
    const usable = parseOffersAnswer(raw).filter(offer => exclusionReason(offer, inputs) === undefined);
    expect(usable.length).toBeGreaterThanOrEqual(3000);

    const calls: Record<string, number> = {};
    for (const {key} of SORT_KEYS) {
      const truth = rankOffers(usable, inputs, key).slice(0, 10).map(row => row.offer.id);
      const before = searchCalls();
      const found = await searchMarket({search: search => client.searchOffers(search), query, inputs, sortKey: key, limit: DEFAULT_SETTINGS.searchLimit, top: 10});
      calls[key] = searchCalls() - before;
      expect(found.rows.slice(0, 10).map(row => row.offer.id), key).toEqual(truth);
      expect(found.exactRows, key).toBeGreaterThanOrEqual(10);
      expect(calls[key], key).toBe(found.calls);
    }
    expect(Math.max(...Object.values(calls))).toBeLessThanOrEqual(4);
  });

  it('does the same with the default filters', async () => {
    const {query} = buildOfferSearch('', DEFAULT_SETTINGS);
    const usable = parseOffersAnswer(await rawAnswer(query)).filter(offer => exclusionReason(offer, inputs) === undefined);
    expect(usable.length).toBeGreaterThan(500);
    for (const {key} of SORT_KEYS) {
      const truth = rankOffers(usable, inputs, key).slice(0, 10).map(row => row.offer.id);
      const found = await searchMarket({search: search => client.searchOffers(search), query, inputs, sortKey: key, limit: DEFAULT_SETTINGS.searchLimit, top: 10});
      expect(found.rows.slice(0, 10).map(row => row.offer.id), key).toEqual(truth);
    }
  });
});
