import {describe, expect, it} from 'vitest';
import {costInputsFromSettings, jobCost} from '../../source/core/offers/cost.js';
import {DEFAULT_SETTINGS} from '../../source/core/settings.js';
import {INPUTS, makeOffer} from '../helpers/offer-fixture.js';

// All cases use INPUTS: modelGb 7, imageGb 12, windowMinutes 10, bootSeconds 60, firstResultSeconds 30.

describe('jobCost', () => {
  it('prices a slow host with expensive bandwidth', () => {
    const slow = makeOffer({id: 1, dphBase: 0.4, dphTotal: 0.42, inetDownMbps: 100, inetDownCostPerGb: 0.02});
    const cost = jobCost(slow, INPUTS);
    // compute  = 0.42 × 10/60 = 0.07
    // download = 7 × 0.02 = 0.14; window = 0.21
    expect(cost.windowComputeUsd).toBeCloseTo(0.07, 10);
    expect(cost.windowDownloadUsd).toBeCloseTo(0.14, 10);
    expect(cost.windowCostUsd).toBeCloseTo(0.21, 10);
    // pull = 12 × 8000 / 100 = 960 s; models = 7 × 8000 / 100 = 560 s; eta = 960 + 560 + 60 = 1580 s
    expect(cost.etaReadySec).toBeCloseTo(1580, 10);
    // first = storage 0.02 × 960/3600 (0.0053333) + 0.42 × (560 + 60 + 30)/3600 (273/3600 = 0.0758333)
    //       + 19 GB × 0.02 (0.38) = 0.4611667
    expect(cost.firstResultUsd).toBeCloseTo(0.4611667, 6);
  });

  it('lets a fast but pricier host win on the 10-minute job cost', () => {
    const slow = makeOffer({id: 1, dphBase: 0.4, dphTotal: 0.42, inetDownMbps: 100, inetDownCostPerGb: 0.02});
    const fast = makeOffer({id: 2, dphBase: 0.45, dphTotal: 0.48, inetDownMbps: 1000, inetDownCostPerGb: 0.001});
    const cost = jobCost(fast, INPUTS);
    // compute = 0.48 × 10/60 = 0.08; download = 7 × 0.001 = 0.007; window = 0.087
    expect(cost.windowCostUsd).toBeCloseTo(0.087, 10);
    // pull = 96000/1000 = 96 s; models = 56000/1000 = 56 s; eta = 96 + 56 + 60 = 212 s
    expect(cost.etaReadySec).toBeCloseTo(212, 10);
    // first = 0.03 × 96/3600 (0.0008) + 0.48 × 146/3600 (0.0194667) + 19 × 0.001 (0.019) = 0.0392667
    expect(cost.firstResultUsd).toBeCloseTo(0.0392667, 6);

    expect(fast.dphTotal).toBeGreaterThan(slow.dphTotal);
    expect(cost.windowCostUsd).toBeLessThan(jobCost(slow, INPUTS).windowCostUsd);
  });

  it('never gets ready without bandwidth, but still has a 10-minute cost', () => {
    const dead = makeOffer({id: 3, dphBase: 0.3, dphTotal: 0.3, inetDownMbps: 0, inetDownCostPerGb: 0.005});
    const cost = jobCost(dead, INPUTS);
    // compute = 0.3 × 10/60 = 0.05; download = 7 × 0.005 = 0.035; window = 0.085
    expect(cost.windowCostUsd).toBeCloseTo(0.085, 10);
    expect(cost.etaReadySec).toBe(Infinity);
    expect(cost.firstResultUsd).toBe(Infinity);
  });

  it('floors the storage share at zero when dphTotal is below dphBase', () => {
    const odd = makeOffer({id: 4, dphBase: 0.6, dphTotal: 0.5, inetDownMbps: 500, inetDownCostPerGb: 0});
    const cost = jobCost(odd, INPUTS);
    // compute = 0.5/6 = 0.0833333; download = 0
    expect(cost.windowCostUsd).toBeCloseTo(0.0833333, 6);
    // pull = 96000/500 = 192 s; models = 56000/500 = 112 s; eta = 192 + 112 + 60 = 364 s
    expect(cost.etaReadySec).toBeCloseTo(364, 10);
    // first = 0 (storage floored) + 0.5 × (112 + 60 + 30)/3600 = 101/3600 = 0.0280556 + 0
    expect(cost.firstResultUsd).toBeCloseTo(0.0280556, 6);
  });

  it('scales the window with windowMinutes', () => {
    const offer = makeOffer({id: 5, dphTotal: 0.6, inetDownCostPerGb: 0.01});
    const cost = jobCost(offer, {...INPUTS, windowMinutes: 30});
    // compute = 0.6 × 30/60 = 0.3; download = 7 × 0.01 = 0.07
    expect(cost.windowCostUsd).toBeCloseTo(0.37, 10);
  });
});

describe('costInputsFromSettings', () => {
  it('takes the config cost section as it is', () => {
    expect(costInputsFromSettings(DEFAULT_SETTINGS.cost)).toEqual(INPUTS);
  });
});
