// A plain Offer value for unit tests: sensible defaults, override only what the test is about.
import type {CostInputs} from '../../source/core/offers/types.js';
import type {Offer} from '../../source/core/vast/types.js';

export function makeOffer(overrides: Partial<Offer> & {id: number}): Offer {
  return {
    machineId: overrides.id * 10,
    hostId: 1,
    gpuName: 'RTX 4090',
    numGpus: 1,
    gpuRamMb: 24_564,
    computeCap: 890,
    cudaMaxGood: 12.8,
    dphBase: 0.4,
    dphTotal: 0.42,
    storageCostPerGbMonth: 0.24,
    inetDownMbps: 500,
    inetUpMbps: 500,
    inetDownCostPerGb: 0.005,
    inetUpCostPerGb: 0.005,
    reliability: 0.99,
    geolocation: 'California, US',
    countryCode: 'US',
    diskSpaceGb: 200,
    verified: true,
    cpuArch: 'amd64',
    directPortCount: 8,
    dlperf: 60,
    score: 100,
    ...overrides,
  };
}

/** The default cost inputs (config `cost.*`): 7 GB models, 12 GB image, 10-min window, 60 s boot, 30 s/result. */
export const INPUTS: CostInputs = {modelGb: 7, imageGb: 12, windowMinutes: 10, bootSeconds: 60, firstResultSeconds: 30};
