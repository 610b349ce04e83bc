// The job-cost model: what one ComfyUI job costs on an offer, not just its $/h. Pure functions,
// used by rank.ts (and through it by the Offers pane and `vastdeck offers`).
//
// Why a fast-but-pricier offer can win: a job first pulls the image and downloads the models,
// and every GB of that is billed at the host's inet_down_cost, while the wait is billed by the
// hour. A $0.40/h host charging $0.02/GB at 100 Mbit/s loses to a $0.45/h host charging
// $0.001/GB at 1000 Mbit/s: the download part alone (7 GB × $0.02 = $0.14) is worth more than
// 10 minutes of the $0.05/h difference ($0.008), and the slow link adds ~23 minutes to the ETA
// ((12 + 7) GB × 8000 / 100 = 1520 s against 152 s).
//
// Formulas (1 GB = 8000 Mbit; $ amounts in USD):
//   windowComputeUsd  = dphTotal × windowMinutes / 60
//   windowDownloadUsd = modelGb × inetDownCostPerGb
//   windowCostUsd     = windowComputeUsd + windowDownloadUsd       (the original workflow's rule)
//   pullSec           = imageGb × 8000 / inetDownMbps              (image pull)
//   modelSec          = modelGb × 8000 / inetDownMbps              (provisioning downloads)
//   etaReadySec       = pullSec + modelSec + bootSeconds
//   firstResultUsd    = storageDph × pullSec / 3600                 (loading bills storage only)
//                     + dphTotal × (modelSec + bootSeconds + firstResultSeconds) / 3600
//                     + (imageGb + modelGb) × inetDownCostPerGb
// where storageDph = max(0, dphTotal − dphBase): Vast bills GPU time only once the instance is
// running, so during the image pull only the disk is paid. With no bandwidth (inetDownMbps ≤ 0)
// the job never gets ready: etaReadySec and firstResultUsd are Infinity.
import type {CostSettings} from '../settings.js';
import type {Offer} from '../vast/types.js';
import type {CostInputs, JobCost} from './types.js';

const MBIT_PER_GB = 8000;
const SECONDS_PER_HOUR = 3600;

export function costInputsFromSettings(cost: CostSettings): CostInputs {
  return {
    modelGb: cost.modelGb,
    imageGb: cost.imageGb,
    windowMinutes: cost.windowMinutes,
    bootSeconds: cost.bootSeconds,
    firstResultSeconds: cost.firstResultSeconds,
  };
}

export function jobCost(offer: Offer, inputs: CostInputs): JobCost {
  const windowComputeUsd = (offer.dphTotal * inputs.windowMinutes) / 60;
  const windowDownloadUsd = inputs.modelGb * offer.inetDownCostPerGb;
  const windowCostUsd = windowComputeUsd + windowDownloadUsd;

  if (offer.inetDownMbps <= 0) {
    return {windowCostUsd, windowComputeUsd, windowDownloadUsd, etaReadySec: Infinity, firstResultUsd: Infinity};
  }
  const pullSec = (inputs.imageGb * MBIT_PER_GB) / offer.inetDownMbps;
  const modelSec = (inputs.modelGb * MBIT_PER_GB) / offer.inetDownMbps;
  const storageDph = Math.max(0, offer.dphTotal - offer.dphBase);
  const firstResultUsd =
    (storageDph * pullSec) / SECONDS_PER_HOUR +
    (offer.dphTotal * (modelSec + inputs.bootSeconds + inputs.firstResultSeconds)) / SECONDS_PER_HOUR +
    (inputs.imageGb + inputs.modelGb) * offer.inetDownCostPerGb;

  return {
    windowCostUsd,
    windowComputeUsd,
    windowDownloadUsd,
    etaReadySec: pullSec + modelSec + inputs.bootSeconds,
    firstResultUsd,
  };
}
