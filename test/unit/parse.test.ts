import {describe, expect, it} from 'vitest';
import {VastBadAnswerError} from '../../source/core/errors.js';
import {countryCodeOf, parseOffer, parseOffersAnswer, parseUser} from '../../source/core/vast/parse.js';

/** An offer as the API sends it (trimmed from the search_offers.yaml example). */
function rawOffer(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: 1234567,
    ask_contract_id: 1234567,
    machine_id: 9876,
    host_id: 555,
    gpu_name: 'RTX 4090',
    num_gpus: 1,
    gpu_ram: 24564,
    compute_cap: 890,
    cuda_max_good: 12.8,
    dph_base: 0.35,
    dph_total: 0.3583,
    storage_cost: 0.15,
    inet_down: 912.4,
    inet_up: 640.1,
    inet_down_cost: 0.004,
    inet_up_cost: 0.003,
    reliability: 0.9923,
    reliability2: 0.95,
    geolocation: 'California, US',
    disk_space: 480.5,
    verification: 'verified',
    cpu_arch: 'amd64',
    direct_port_count: 12,
    dlperf: 80.2,
    total_flops: 82.6,
    score: 211.5,
    ...overrides,
  };
}

describe('parseOffer', () => {
  it('maps the snake_case fields to our Offer with units in the names', () => {
    expect(parseOffer(rawOffer())).toEqual({
      id: 1234567,
      machineId: 9876,
      hostId: 555,
      gpuName: 'RTX 4090',
      numGpus: 1,
      gpuRamMb: 24564,
      computeCap: 890,
      cudaMaxGood: 12.8,
      dphBase: 0.35,
      dphTotal: 0.3583,
      storageCostPerGbMonth: 0.15,
      inetDownMbps: 912.4,
      inetUpMbps: 640.1,
      inetDownCostPerGb: 0.004,
      inetUpCostPerGb: 0.003,
      reliability: 0.9923,
      geolocation: 'California, US',
      countryCode: 'US',
      diskSpaceGb: 480.5,
      verified: true,
      cpuArch: 'amd64',
      directPortCount: 12,
      dlperf: 80.2,
      totalFlops: 82.6,
      score: 211.5,
    });
  });

  it('tolerates numbers sent as strings', () => {
    const offer = parseOffer(rawOffer({id: '42', dph_total: '0.5', inet_down: ' 100 ', gpu_ram: '24576'}));
    expect(offer).toMatchObject({id: 42, dphTotal: 0.5, inetDownMbps: 100, gpuRamMb: 24576});
  });

  it('falls back to reliability2, and fills missing optional numbers with sensible values', () => {
    const offer = parseOffer({id: 7, gpu_name: 'H100 SXM', dph_total: 2.5, reliability2: 0.97});
    expect(offer).toMatchObject({reliability: 0.97, numGpus: 1, dphBase: 2.5, inetDownMbps: 0, inetDownCostPerGb: 0, diskSpaceGb: 0});
    expect(offer).toMatchObject({geolocation: '', countryCode: '', verified: false, cpuArch: '', score: 0});
  });

  it('reads verified from the boolean or from verification', () => {
    expect(parseOffer(rawOffer({verification: 'unverified', verified: true})).verified).toBe(true);
    expect(parseOffer(rawOffer({verification: 'deverified'})).verified).toBe(false);
    expect(parseOffer(rawOffer({verification: undefined, verified: false})).verified).toBe(false);
  });

  it('treats an offer without id, gpu_name or a numeric dph_total as unusable', () => {
    expect(() => parseOffer(rawOffer({id: undefined}))).toThrow(/no valid id/);
    expect(() => parseOffer(rawOffer({gpu_name: ''}))).toThrow(/no gpu_name/);
    expect(() => parseOffer(rawOffer({dph_total: 'cheap'}))).toThrow(/dph_total/);
    expect(() => parseOffer(rawOffer({dph_total: null}))).toThrow(/dph_total/);
    expect(() => parseOffer('offer')).toThrow(/not an object/);
  });
});

describe('countryCodeOf', () => {
  it('takes the trailing two-letter code of free-text geolocations', () => {
    expect(countryCodeOf('California, US')).toBe('US');
    expect(countryCodeOf(', US')).toBe('US');
    expect(countryCodeOf('Tokyo, jp ')).toBe('JP');
    expect(countryCodeOf('SE')).toBe('SE');
    expect(countryCodeOf('Sweden')).toBe('');
    expect(countryCodeOf('')).toBe('');
  });

  it('copes with a null geolocation', () => {
    expect(parseOffer(rawOffer({geolocation: null}))).toMatchObject({geolocation: '', countryCode: ''});
  });
});

describe('parseOffersAnswer', () => {
  it('parses the envelope, an empty list included', () => {
    expect(parseOffersAnswer({offers: []})).toEqual([]);
    expect(parseOffersAnswer({offers: [rawOffer(), rawOffer({id: 2})]}).map(offer => offer.id)).toEqual([1234567, 2]);
  });

  it('drops unusable offers one by one and counts them', () => {
    const dropped: Array<[number, string]> = [];
    const offers = parseOffersAnswer({offers: [rawOffer(), {id: 3}, null, rawOffer({id: 4})]}, (count, problem) => dropped.push([count, problem]));
    expect(offers.map(offer => offer.id)).toEqual([1234567, 4]);
    expect(dropped).toEqual([[2, 'offer 3 has no gpu_name']]);
  });

  it('throws VastBadAnswerError for a wrong envelope or when no offer is usable', () => {
    expect(() => parseOffersAnswer([rawOffer()])).toThrow(VastBadAnswerError);
    expect(() => parseOffersAnswer({offers: 'none'})).toThrow(VastBadAnswerError);
    expect(() => parseOffersAnswer({results: []})).toThrow(/no "offers" list/);
    expect(() => parseOffersAnswer({offers: [{id: 1}, {id: 2}]})).toThrow(/none of 2 offers/);
  });
});

describe('parseUser', () => {
  it('keeps id, email and money, and never the api_key the answer carries', () => {
    const user = parseUser({id: 321, email: 'me@example.com', balance: '12.5', credit: 25, api_key: 'SECRET', username: 'me'});
    expect(user).toEqual({id: 321, email: 'me@example.com', balanceUsd: 12.5, creditUsd: 25});
    expect(JSON.stringify(user)).not.toContain('SECRET');
  });

  it('refuses an answer without a user id', () => {
    expect(() => parseUser({email: 'me@example.com'})).toThrow(VastBadAnswerError);
    expect(() => parseUser('nope')).toThrow(VastBadAnswerError);
  });
});
