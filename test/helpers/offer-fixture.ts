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
    totalFlops: 82.6,
    score: 100,
    ...overrides,
  };
}

/**
 * Round cost inputs for hand-computed tests: 50 generations of 4 s on an RTX 4090, 7 GB of models,
 * a 12 GB image, 10 GB of VRAM, 60 s boot, 120 s idle tail, the 10-minute window.
 */
export const INPUTS: CostInputs = {
  workflow: 'img2img-sdxl',
  generations: 50,
  modelGb: 7,
  imageGb: 12,
  minVramGb: 10,
  referenceSecondsPerGeneration: 4,
  referenceGpu: 'RTX 4090',
  bootSeconds: 60,
  idleTailSeconds: 120,
  windowMinutes: 10,
};
