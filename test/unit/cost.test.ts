import {describe, expect, it} from 'vitest';
import {costInputs, exclusionReason, jobCost, jobText, minVramMb, secondsPerGeneration} from '../../source/core/offers/cost.js';
import {INPUTS, makeOffer} from '../helpers/offer-fixture.js';

// All cases use INPUTS: 50 generations × 4 s on an RTX 4090, modelGb 7, imageGb 12 (19 GB to
// download), bootSeconds 60, idleTailSeconds 120, windowMinutes 10. 1 GB = 8000 Mbit.

describe('jobCost', () => {
  it('prices the whole job on a slow host with expensive bandwidth', () => {
    const slow = makeOffer({id: 1, dphBase: 0.4, dphTotal: 0.42, inetDownMbps: 100, inetDownCostPerGb: 0.02});
    const cost = jobCost(slow, INPUTS);
    // pull = 12 × 8000 / 100 = 960 s; models = 7 × 8000 / 100 = 560 s; 50 × 4 s = 200 s
    expect(cost.pullSec).toBeCloseTo(960, 10);
    expect(cost.modelSec).toBeCloseTo(560, 10);
    expect(cost.secondsPerGeneration).toBeCloseTo(4, 10);
    // GPU billed: 560 + 60 boot + 200 + 120 idle = 940 s
    expect(cost.gpuSec).toBeCloseTo(940, 10);
    // storage while pulling = (0.42 − 0.40) × 960 / 3600 = 0.0053333
    expect(cost.pullStorageUsd).toBeCloseTo(0.0053333, 6);
    // GPU = 0.42 × 940 / 3600 = 0.1096667
    expect(cost.gpuUsd).toBeCloseTo(0.1096667, 6);
    // downloads = 19 GB × 0.02 = 0.38
    expect(cost.downloadUsd).toBeCloseTo(0.38, 10);
    // job = 0.0053333 + 0.1096667 + 0.38 = 0.495; per generation 0.495 / 50 = 0.0099
    expect(cost.jobCostUsd).toBeCloseTo(0.495, 6);
    expect(cost.perGenerationUsd).toBeCloseTo(0.0099, 6);
    // last result = 960 + 560 + 60 + 200 = 1780 s (the idle tail comes after it); ready = 1580 s
    expect(cost.lastResultSec).toBeCloseTo(1780, 10);
    expect(cost.etaReadySec).toBeCloseTo(1580, 10);
    // 10-minute rule, honest: 0.42 × 10/60 = 0.07 compute + 0.38 for image and models = 0.45
    expect(cost.windowComputeUsd).toBeCloseTo(0.07, 10);
    expect(cost.windowDownloadUsd).toBeCloseTo(0.38, 10);
    expect(cost.windowCostUsd).toBeCloseTo(0.45, 10);
  });

  it('lets a faster GPU with a higher $/h win the whole job', () => {
    // Both at 1000 Mbit/s and $0.002/GB: pull 96 s, models 56 s, downloads 19 × 0.002 = 0.038.
    const rtx3060 = makeOffer({id: 1, gpuName: 'RTX 3060', gpuRamMb: 12_288, dphBase: 0.14, dphTotal: 0.15, inetDownMbps: 1000, inetDownCostPerGb: 0.002});
    const rtx4090 = makeOffer({id: 2, gpuName: 'RTX 4090', dphBase: 0.3, dphTotal: 0.31, inetDownMbps: 1000, inetDownCostPerGb: 0.002});
    const slow = jobCost(rtx3060, INPUTS);
    const fast = jobCost(rtx4090, INPUTS);
    // 3060 runs at 0.28: 4 / 0.28 = 14.285714 s per generation, 714.2857 s for 50.
    expect(slow.speed).toEqual({factor: 0.28, source: 'table'});
    expect(slow.secondsPerGeneration).toBeCloseTo(14.285714, 5);
    // GPU 56 + 60 + 714.2857 + 120 = 950.2857 s × 0.15/3600 = 0.0395952;
    // storage 0.01 × 96/3600 = 0.0002667; job = 0.0395952 + 0.0002667 + 0.038 = 0.0778619
    expect(slow.jobCostUsd).toBeCloseTo(0.0778619, 6);
    // 4090: GPU 56 + 60 + 200 + 120 = 436 s × 0.31/3600 = 0.0375444; job = 0.0375444 + 0.0002667 + 0.038 = 0.0758111
    expect(fast.jobCostUsd).toBeCloseTo(0.0758111, 6);
    expect(fast.jobCostUsd).toBeLessThan(slow.jobCostUsd);
    // and it is done much sooner: 96 + 56 + 60 + 200 = 412 s against 96 + 56 + 60 + 714.2857 = 926.2857 s
    expect(fast.lastResultSec).toBeCloseTo(412, 6);
    expect(slow.lastResultSec).toBeCloseTo(926.2857, 3);
    // while the $/h-only view prefers the 3060
    expect(rtx3060.dphTotal).toBeLessThan(rtx4090.dphTotal);
  });

  it('never finishes without bandwidth, but still has a 10-minute cost', () => {
    const dead = makeOffer({id: 3, dphBase: 0.3, dphTotal: 0.3, inetDownMbps: 0, inetDownCostPerGb: 0.005});
    const cost = jobCost(dead, INPUTS);
    // window = 0.3/6 = 0.05 + 19 × 0.005 = 0.095 → 0.145
    expect(cost.windowCostUsd).toBeCloseTo(0.145, 10);
    expect(cost.jobCostUsd).toBe(Infinity);
    expect(cost.lastResultSec).toBe(Infinity);
    expect(cost.etaReadySec).toBe(Infinity);
  });

  it('floors the storage share at zero when dphTotal is below dphBase', () => {
    const odd = makeOffer({id: 4, dphBase: 0.6, dphTotal: 0.5, inetDownMbps: 500, inetDownCostPerGb: 0});
    const cost = jobCost(odd, INPUTS);
    // pull 192 s at no storage price; GPU 112 + 60 + 200 + 120 = 492 s × 0.5/3600 = 0.0683333
    expect(cost.pullStorageUsd).toBe(0);
    expect(cost.jobCostUsd).toBeCloseTo(0.0683333, 6);
  });

  it('estimates GPUs outside the table from dlperf, then TFLOPS, then a default', () => {
    const unknown = {id: 5, gpuName: 'RTX PRO 6000 WS', numGpus: 2};
    // dlperf 180 over 2 GPUs = 90 per GPU / 45 (a 4090's) = 2.0 → 4 / 2 = 2 s per generation
    expect(jobCost(makeOffer({...unknown, dlperf: 180}), INPUTS)).toMatchObject({speed: {factor: 2, source: 'dlperf'}, secondsPerGeneration: 2});
    // 82.6 TFLOPS over 2 GPUs = 41.3 / 82.6 = 0.5 → 8 s
    expect(jobCost(makeOffer({...unknown, dlperf: 0, totalFlops: 82.6}), INPUTS)).toMatchObject({speed: {factor: 0.5, source: 'flops'}, secondsPerGeneration: 8});
    // nothing known: 0.3 → 13.33 s
    const guessed = jobCost(makeOffer({...unknown, dlperf: 0, totalFlops: 0}), INPUTS);
    expect(guessed.speed).toEqual({factor: 0.3, source: 'default'});
    expect(guessed.secondsPerGeneration).toBeCloseTo(13.333333, 5);
  });

  it('scales a reference time measured on another GPU through the table', () => {
    // 10 s on an RTX 3090 (0.52) = 5.2 s on a 4090 (1.0) = 2.6 s on a 2.0 GPU
    const inputs = {...INPUTS, referenceGpu: 'RTX 3090', referenceSecondsPerGeneration: 10};
    expect(secondsPerGeneration(inputs, 1)).toBeCloseTo(5.2, 10);
    expect(secondsPerGeneration(inputs, 2)).toBeCloseTo(2.6, 10);
  });
});

describe('exclusionReason', () => {
  it('excludes offers with less VRAM per GPU than the workflow needs, in decimal GB like the gpu_ram filter', () => {
    expect(minVramMb(INPUTS)).toBe(10_000);
    expect(exclusionReason(makeOffer({id: 1, gpuRamMb: 8_192}), INPUTS)).toBe('8.2 GB of VRAM per GPU, and img2img-sdxl needs 10 GB');
    expect(exclusionReason(makeOffer({id: 2, gpuRamMb: 10_000}), INPUTS)).toBeUndefined();
    expect(exclusionReason(makeOffer({id: 3, gpuRamMb: 12_282}), {...INPUTS, minVramGb: 12})).toBeUndefined();
    expect(exclusionReason(makeOffer({id: 4, gpuRamMb: 0}), {...INPUTS, minVramGb: 0})).toBeUndefined();
  });
});

describe('costInputs', () => {
  it('takes generations and the workflow from job.*, the rest from cost.* and the manifest requirements', () => {
    const settings = {job: {workflow: 'mine', generations: 7}, cost: {imageGb: 5, bootSeconds: 30, idleTailSeconds: 0, windowMinutes: 15}};
    const inputs = costInputs(settings, {modelGb: 2.5, minVramGb: 6, secondsPerGeneration: 9, referenceGpu: 'RTX 3090'});
    expect(inputs).toEqual({
      workflow: 'mine',
      generations: 7,
      modelGb: 2.5,
      imageGb: 5,
      minVramGb: 6,
      referenceSecondsPerGeneration: 9,
      referenceGpu: 'RTX 3090',
      bootSeconds: 30,
      idleTailSeconds: 0,
      windowMinutes: 15,
    });
    expect(jobText(inputs)).toBe('7 × mine');
  });
});
