// What an instance has cost, accounted the way Vast bills it (pure functions, cloud clock):
//   storage   storage_total_cost $/h from start_date until the instance is destroyed — in every
//             state, stopped included;
//   GPU       (dph_total − storage) $/h only while running, each run measured from the API's own
//             uptime_mins (so a run that began before vastdeck looked is counted from its start);
//   bandwidth inet_down_cost $/GB for what the instance downloads: the image pull (its share of
//             the image, by the offer's bandwidth, until the container runs) and the provisioning
//             downloads (the bytes of the transfer lines in its logs).
// The fleet (and `vastdeck spend`) observe each instance on every list call and keep the record in
// the ledger, so destroyed instances and runs that ended still count.
import type {BillingRecord, Instance} from '../instances/types.js';

const BILLED_GPU_STATES: ReadonlySet<string> = new Set(['running', 'frozen']);
const MBIT_PER_GB = 8000;

export interface InstanceSpend {
  storageUsd: number;
  gpuUsd: number;
  bandwidthUsd: number;
  totalUsd: number;
  /** $/h it bills right now (storage always until destroyed, GPU while running). */
  burnUsdPerHour: number;
  gpuSec: number;
}

export interface Observation {
  instance: Instance;
  /** The cloud's "now" in epoch seconds (VastClient.cloudClock). */
  cloudNowSec: number;
  /** GB of the Docker image (settings cost.imageGb): what the pull downloads. */
  imageGb: number;
  /** Bytes the provisioning downloads moved, from the logs (0 when unknown). */
  provisionedBytes?: number;
}

/** The record brought up to date with one observation of the instance on the account. */
export function observeBilling(previous: BillingRecord | undefined, observation: Observation): BillingRecord {
  const {instance, cloudNowSec} = observation;
  const startSec = instance.startDateSec ?? previous?.startSec ?? cloudNowSec;
  const storagePerHour = instance.storageCostPerHour;
  const record: BillingRecord = {
    startSec,
    storagePerHour,
    gpuPerHour: Math.max(0, instance.dphTotal - storagePerHour),
    inetDownCostPerGb: instance.inetDownCostPerGb,
    closedGpuSec: previous?.closedGpuSec ?? 0,
    downloadedGb: Math.max(previous?.downloadedGb ?? 0, downloadedGb(previous, observation)),
    seenSec: cloudNowSec,
  };
  const running = BILLED_GPU_STATES.has(instance.actualStatus ?? '');
  const open = previous?.runStartSec;
  if (running) {
    const fromApi = instance.uptimeMins !== null && instance.uptimeMins >= 0 ? cloudNowSec - instance.uptimeMins * 60 : undefined;
    // A run that started after the last look at the previous one: the instance stopped and started in between.
    if (open !== undefined && fromApi !== undefined && previous && fromApi > previous.seenSec + 1) {
      record.closedGpuSec += Math.max(0, previous.seenSec - open);
      record.runStartSec = fromApi;
    } else record.runStartSec = fromApi ?? open ?? cloudNowSec;
  } else if (open !== undefined && previous) {
    // The run ended between the last look and this one; the last look is the nearest known moment.
    record.closedGpuSec += Math.max(0, previous.seenSec - open);
  }
  return record;
}

/** The instance is destroyed or gone: its clocks stop at `cloudSec`. */
export function endBilling(record: BillingRecord, cloudSec: number): BillingRecord {
  if (record.endedSec !== undefined) return record;
  const closedGpuSec = record.runStartSec === undefined ? record.closedGpuSec : record.closedGpuSec + Math.max(0, Math.min(cloudSec, record.seenSec) - record.runStartSec);
  const {runStartSec: _closed, ...rest} = record;
  return {...rest, closedGpuSec, endedSec: Math.max(record.seenSec, Math.min(cloudSec, Number.MAX_SAFE_INTEGER))};
}

/** Spend so far at `cloudNowSec` (or at the end, once ended). */
export function spendOf(record: BillingRecord, cloudNowSec: number): InstanceSpend {
  const endSec = record.endedSec ?? Math.max(cloudNowSec, record.seenSec);
  const storageUsd = (record.storagePerHour * Math.max(0, endSec - record.startSec)) / 3600;
  const gpuSec = record.closedGpuSec + (record.runStartSec === undefined ? 0 : Math.max(0, endSec - record.runStartSec));
  const gpuUsd = (record.gpuPerHour * gpuSec) / 3600;
  const bandwidthUsd = record.inetDownCostPerGb * record.downloadedGb;
  const burnUsdPerHour = record.endedSec !== undefined ? 0 : record.storagePerHour + (record.runStartSec === undefined ? 0 : record.gpuPerHour);
  return {storageUsd, gpuUsd, bandwidthUsd, totalUsd: storageUsd + gpuUsd + bandwidthUsd, burnUsdPerHour, gpuSec};
}

/** GB downloaded by now: the image's share by elapsed pull time (all of it once running), plus provisioning bytes. */
function downloadedGb(previous: BillingRecord | undefined, observation: Observation): number {
  const {instance, cloudNowSec, imageGb} = observation;
  const ran = BILLED_GPU_STATES.has(instance.actualStatus ?? '') || previous?.runStartSec !== undefined || (previous?.closedGpuSec ?? 0) > 0;
  let image = imageGb;
  if (!ran) {
    const pullSec = instance.inetDownMbps > 0 ? (imageGb * MBIT_PER_GB) / instance.inetDownMbps : Infinity;
    const elapsed = Math.max(0, cloudNowSec - (instance.startDateSec ?? cloudNowSec));
    image = instance.actualStatus === null || instance.actualStatus === 'loading' || instance.actualStatus === 'created' ? imageGb * Math.min(1, elapsed / pullSec) : 0;
  }
  return image + (observation.provisionedBytes ?? 0) / 1e9;
}
