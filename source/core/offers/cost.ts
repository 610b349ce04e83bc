// The job-cost model: what a whole ComfyUI job (a workflow × N generations) costs on an offer, and
// how long until its last result. Pure functions, used by rank.ts (and through it by the Offers
// pane, `vastdeck offers`, `up` and the whole-market search). docs/cost-model.md has the argument.
//
// What Vast bills (docs/vast-api.md §2.4): storage every second the instance exists (also while it
// loads or is stopped), the GPU only while it runs, and every GB downloaded at inet_down_cost —
// the image pull included. So a job on an offer costs (1 GB = 8000 Mbit, $ in USD):
//   pullSec        = imageGb × 8000 / inetDownMbps                 (loading: storage only)
//   modelSec       = modelGb × 8000 / inetDownMbps                 (running: GPU billed)
//   secPerGen      = referenceSecondsPerGeneration × speed(referenceGpu) / speed(offer's GPU)
//   gpuSec         = modelSec + bootSeconds + generations × secPerGen + idleTailSeconds
//   jobCostUsd     = storageDph × pullSec / 3600 + dphTotal × gpuSec / 3600
//                  + (imageGb + modelGb) × inetDownCostPerGb
//   lastResultSec  = pullSec + modelSec + bootSeconds + generations × secPerGen
//   perGeneration  = jobCostUsd / generations
// where storageDph = max(0, dphTotal − dphBase) (dph_total prices our disk in). With no bandwidth
// (inetDownMbps ≤ 0) the job never starts: its cost and times are Infinity.
//
// The original workflow's 10-minute rule stays as a sort key, priced honestly:
//   windowCostUsd = dphTotal × windowMinutes / 60 + (imageGb + modelGb) × inetDownCostPerGb
import type {WorkflowRequirements} from '../comfy/types.js';
import type {VastdeckSettings} from '../settings.js';
import type {Offer} from '../vast/types.js';
import {gpuSpeed} from './gpu-speed.js';
import type {CostInputs, JobCost} from './types.js';

const MBIT_PER_GB = 8000;
const SECONDS_PER_HOUR = 3600;
const MB_PER_GB = 1000;

/** The cost inputs for `settings.job` with its workflow's manifest requirements. */
export function costInputs(settings: Pick<VastdeckSettings, 'job' | 'cost'>, requirements: WorkflowRequirements): CostInputs {
  return {
    workflow: settings.job.workflow,
    generations: settings.job.generations,
    modelGb: requirements.modelGb,
    imageGb: settings.cost.imageGb,
    minVramGb: requirements.minVramGb,
    referenceSecondsPerGeneration: requirements.secondsPerGeneration,
    referenceGpu: requirements.referenceGpu,
    bootSeconds: settings.cost.bootSeconds,
    idleTailSeconds: settings.cost.idleTailSeconds,
    windowMinutes: settings.cost.windowMinutes,
  };
}

/** Seconds one generation takes on a GPU of `speedFactor` (relative to the reference GPU's table figure). */
export function secondsPerGeneration(inputs: CostInputs, speedFactor: number): number {
  return (inputs.referenceSecondsPerGeneration * gpuSpeed(inputs.referenceGpu).factor) / speedFactor;
}

export function jobCost(offer: Offer, inputs: CostInputs): JobCost {
  const speed = gpuSpeed(offer.gpuName, {dlperf: offer.dlperf, totalFlops: offer.totalFlops, numGpus: offer.numGpus});
  const secPerGen = secondsPerGeneration(inputs, speed.factor);
  const generationSec = inputs.generations * secPerGen;
  const downloadGb = inputs.imageGb + inputs.modelGb;
  const downloadUsd = downloadGb * offer.inetDownCostPerGb;
  const windowComputeUsd = (offer.dphTotal * inputs.windowMinutes) / 60;
  const window = {windowCostUsd: windowComputeUsd + downloadUsd, windowComputeUsd, windowDownloadUsd: downloadUsd};

  const pullSec = offer.inetDownMbps > 0 ? (inputs.imageGb * MBIT_PER_GB) / offer.inetDownMbps : Infinity;
  const modelSec = offer.inetDownMbps > 0 ? (inputs.modelGb * MBIT_PER_GB) / offer.inetDownMbps : Infinity;
  const gpuSec = modelSec + inputs.bootSeconds + generationSec + inputs.idleTailSeconds;
  const storageDph = Math.max(0, offer.dphTotal - offer.dphBase);
  const pullStorageUsd = storageDph > 0 ? (storageDph * pullSec) / SECONDS_PER_HOUR : 0;
  const gpuUsd = offer.inetDownMbps > 0 ? (offer.dphTotal * gpuSec) / SECONDS_PER_HOUR : Infinity;
  const jobCostUsd = pullStorageUsd + gpuUsd + downloadUsd;
  return {
    jobCostUsd,
    lastResultSec: pullSec + modelSec + inputs.bootSeconds + generationSec,
    perGenerationUsd: jobCostUsd / inputs.generations,
    secondsPerGeneration: secPerGen,
    speed,
    pullSec,
    modelSec,
    gpuSec,
    pullStorageUsd,
    gpuUsd,
    downloadUsd,
    etaReadySec: pullSec + modelSec + inputs.bootSeconds,
    ...window,
  };
}

/** Why the job cannot use this offer (one clause), or undefined when it can. */
export function exclusionReason(offer: Offer, inputs: CostInputs): string | undefined {
  if (offer.gpuRamMb >= inputs.minVramGb * MB_PER_GB) return undefined;
  return `${formatGb(offer.gpuRamMb / MB_PER_GB)} GB of VRAM per GPU, and ${inputs.workflow} needs ${formatGb(inputs.minVramGb)} GB`;
}

/** The VRAM requirement in the API's unit (MB per GPU), for the search query. */
export function minVramMb(inputs: CostInputs): number {
  return Math.round(inputs.minVramGb * MB_PER_GB);
}

/** "50 × img2img-sdxl" */
export function jobText(inputs: CostInputs): string {
  return `${inputs.generations} × ${inputs.workflow}`;
}

function formatGb(gb: number): string {
  return String(Math.round(gb * 10) / 10);
}
