// VastClient against the embedded simulated cloud over loopback: the same calls live mode makes.
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {VastAuthError, VastRefusedError} from '../../source/core/errors.js';
import {VastClient, type RequestEvent} from '../../source/core/vast/client.js';
import {startSimCloud, type SimCloud} from '../../source/sim/cloud.js';

let sim: SimCloud;
const events: RequestEvent[] = [];

beforeAll(async () => {
  sim = await startSimCloud({port: 0, seed: 7, rateLimitScale: 0.01, churnIntervalMs: 0});
});

afterAll(async () => {
  await sim.close();
  expect(JSON.stringify(events)).not.toContain(sim.apiKey);
});

function client(apiKey = sim.apiKey): VastClient {
  return new VastClient({baseUrl: sim.baseUrl, apiKey, pacingScale: 0.01, backoff: {baseMs: 10, capMs: 50}, onRequest: event => events.push(event)});
}

describe('VastClient against the simulated cloud', () => {
  it('searches with filters, order and limit', async () => {
    const offers = await client().searchOffers({
      verified: {eq: true},
      rentable: {eq: true},
      num_gpus: {eq: 1},
      gpu_name: {in: ['RTX 4090', 'RTX 3090']},
      dph_total: {lte: 2},
      order: [['dph_total', 'asc']],
      limit: 5,
      allocated_storage: 60,
    });
    expect(offers.length).toBeGreaterThan(0);
    expect(offers.length).toBeLessThanOrEqual(5);
    for (const offer of offers) {
      expect(['RTX 4090', 'RTX 3090']).toContain(offer.gpuName);
      expect(offer.numGpus).toBe(1);
      expect(offer.dphTotal).toBeLessThanOrEqual(2);
      expect(offer.verified).toBe(true);
      expect(offer.countryCode).toMatch(/^([A-Z]{2})?$/);
    }
    const prices = offers.map(offer => offer.dphTotal);
    expect(prices).toEqual([...prices].sort((a, b) => a - b));
  });

  it('searches with a geolocation filter on country codes', async () => {
    const offers = await client().searchOffers({geolocation: {in: ['US']}, limit: 20});
    expect(offers.length).toBeGreaterThan(0);
    expect(offers.every(offer => offer.countryCode === 'US')).toBe(true);
  });

  it('reads the current user, without its api_key', async () => {
    const user = await client().currentUser();
    expect(user).toEqual({id: sim.account.id, email: sim.account.email, balanceUsd: sim.account.balance, creditUsd: sim.account.credit});
    expect(JSON.stringify(user)).not.toContain(sim.apiKey);
  });

  it('gives VastAuthError for a wrong key', async () => {
    await expect(client('not-the-key').currentUser()).rejects.toBeInstanceOf(VastAuthError);
    await expect(client('not-the-key').searchOffers({limit: 1})).rejects.toBeInstanceOf(VastAuthError);
  });

  it('reports a query the API refuses as one sentence', async () => {
    const error: unknown = await client().searchOffers({dph_total: {between: 1}}).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(VastRefusedError);
    expect((error as VastRefusedError).status).toBe(400);
    expect((error as Error).message).toMatch(/^Vast\.ai refused POST \/api\/v0\/bundles\/ \(HTTP 400\): .+\.$/);
  });

  it('stays within the sliding search window without a single 429', async () => {
    // A cloud of its own, so no earlier search counts against the window (10 per 600 ms here).
    const own = await startSimCloud({port: 0, seed: 7, rateLimitScale: 0.01, churnIntervalMs: 0});
    try {
      const statuses: Array<number | undefined> = [];
      const vast = new VastClient({baseUrl: own.baseUrl, apiKey: own.apiKey, pacingScale: 0.01, onRequest: event => statuses.push(event.status)});
      await Promise.all(Array.from({length: 14}, () => vast.searchOffers({limit: 1})));
      expect(statuses).toEqual(Array.from({length: 14}, () => 200));
    } finally {
      await own.close();
    }
  });
});
