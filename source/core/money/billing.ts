// What an instance has cost, accounted the way Vast bills it (pure functions, on the cloud's clock):
//   storage   storage_total_cost $/h from start_date until the instance is destroyed, in every state
//             but offline — loading and stopped included;
//   GPU       (dph_total − storage) $/h only while running, each run measured from the API's own
//             uptime_mins (a run that began before vastdeck looked counts from its start);
//   bandwidth inet_down_cost $/GB for what the instance downloads: the image pull (by the offer's
//             bandwidth from when the pull began, all of it once the container ran) and the
//             provisioning downloads (the bytes of the transfer lines in its logs).
// vastdeck sees an instance only when it lists it, so a change between two looks (a run that
// ended, a pull that began) is placed halfway between them; a destroy vastdeck made itself ends
// the record at the moment the API accepted it. The fleet, the CLI front ends and `vastdeck spend`
// observe every instance they list and keep the record in the ledger (core/money/observe.ts).
import type {BillingRecord, Instance} from '../instances/types.js';

/** What renting bills, in two lines, for the rent dialog and the docs: the same rules as the code below. */
export const BILLING_SUMMARY: readonly [string, string] = [
  'Billing until destroyed: disk from creation, also loading or stopped;',
  'GPU only while running; every GB downloaded, the image pull too.',
];

/** States in which the GPU bills. */
const BILLED_GPU_STATES: ReadonlySet<string> = new Set(['running', 'frozen']);
/** States that prove the image is on the machine (the container was created or ran). */
const PULLED_STATES: ReadonlySet<string> = new Set(['created', 'exited', 'running', 'frozen']);
const MBIT_PER_GB = 8000;

export interface InstanceSpend {
  storageUsd: number;
  gpuUsd: number;
  bandwidthUsd: number;
  totalUsd: number;
  /** $/h it bills right now: storage until destroyed (not offline), GPU while running, the pull's bandwidth while pulling. */
  burnUsdPerHour: number;
  gpuSec: number;
  downloadedGb: number;
}

export interface Observation {
  instance: Instance;
  /** The cloud's "now" in epoch seconds (VastClient.cloudClock). */
  cloudNowSec: number;
  /** GB of the Docker image (settings cost.imageGb): what the pull downloads. */
  imageGb: number;
  /** Bytes the provisioning downloads moved so far, from the logs (undefined when not watched). */
  provisionedBytes?: number;
}

/** How a record ends: a destroy vastdeck made (its moment is known) or an instance found missing. */
export type BillingEnd = 'destroyed' | 'vanished';

/** The record brought up to date with one look at the instance on the account. */
export function observeBilling(previous: BillingRecord | undefined, observation: Observation): BillingRecord {
  const {instance} = observation;
  if (previous?.endedSec !== undefined) return previous;
  const t = Math.max(observation.cloudNowSec, previous?.seenSec ?? -Infinity);
  const status = instance.actualStatus;
  const startSec = instance.startDateSec ?? previous?.startSec ?? t;
  const imageGb = previous?.imageGb ?? observation.imageGb;
  const mbps = instance.inetDownMbps > 0 ? instance.inetDownMbps : (previous?.inetDownMbps ?? 0);
  /** Something that changed between the last look and this one happened, as far as we can tell, halfway. */
  const between = previous ? (previous.seenSec + t) / 2 : t;
  const running = BILLED_GPU_STATES.has(status ?? '');
  const record: BillingRecord = {
    startSec,
    storagePerHour: instance.storageCostPerHour,
    gpuPerHour: Math.max(0, instance.dphTotal - instance.storageCostPerHour),
    inetDownCostPerGb: instance.inetDownCostPerGb,
    inetDownMbps: mbps,
    closedGpuSec: previous?.closedGpuSec ?? 0,
    ran: (previous?.ran ?? false) || running || status === 'exited',
    imageGb,
    pulledGb: previous?.pulledGb ?? 0,
    provisionedGb: Math.max(previous?.provisionedGb ?? 0, (observation.provisionedBytes ?? 0) / 1e9),
    closedOfflineSec: previous?.closedOfflineSec ?? 0,
    seenSec: t,
    seenStatus: status,
  };
  if (previous?.pullStartSec !== undefined) record.pullStartSec = previous.pullStartSec;

  // GPU: one run per stretch of 'running'; the API's uptime_mins says when the current one began.
  const fromApi = running && instance.uptimeMins !== null && instance.uptimeMins >= 0 ? t - instance.uptimeMins * 60 : undefined;
  const open = previous?.runStartSec;
  if (running) {
    if (open !== undefined && fromApi !== undefined && fromApi > previous!.seenSec + 1) {
      // It stopped and started again between the two looks: the old run ended somewhere in that gap.
      record.closedGpuSec += Math.max(0, (previous!.seenSec + fromApi) / 2 - open);
      record.runStartSec = fromApi;
    } else if (open !== undefined) {
      // The API's figure is the truth, but a run cannot have begun before the instance existed.
      record.runStartSec = fromApi === undefined ? open : Math.max(fromApi, startSec);
    } else if (fromApi !== undefined) {
      record.runStartSec = previous ? Math.max(fromApi, Math.min(previous.seenSec, t)) : Math.max(fromApi, startSec);
    } else {
      // No uptime_mins: halfway since the last look, or (first look) when the image would have been pulled.
      record.runStartSec = previous ? between : Math.min(t, startSec + pullSeconds(imageGb, mbps));
    }
  } else if (open !== undefined) {
    record.closedGpuSec += Math.max(0, between - open);
  }

  // Storage is not billed while the machine is offline.
  if (status === 'offline') record.offlineSinceSec = previous?.offlineSinceSec ?? between;
  else if (previous?.offlineSinceSec !== undefined) record.closedOfflineSec += Math.max(0, between - previous.offlineSinceSec);

  // The image: pulled while 'loading' before the container first ran, at the offer's bandwidth.
  if (record.ran || PULLED_STATES.has(status ?? '')) {
    record.pulledGb = imageGb;
  } else if (status === 'loading') {
    if (previous?.seenStatus !== 'loading' || record.pullStartSec === undefined) {
      // The pull began (or resumed) since the last look; a first look while loading only knows the create.
      const rate = mbps / MBIT_PER_GB;
      record.pullStartSec = previous ? between - (rate > 0 ? record.pulledGb / rate : 0) : startSec;
    }
    record.pulledGb = Math.max(record.pulledGb, pulledBy(record, t));
  }
  return record;
}

/** The instance is destroyed (at `cloudSec`, the API accepted it) or found missing (noticed at `cloudSec`): its clocks stop. */
export function endBilling(record: BillingRecord, cloudSec: number, how: BillingEnd = 'destroyed'): BillingRecord {
  if (record.endedSec !== undefined) return record;
  const noticed = Math.max(record.seenSec, cloudSec);
  const end = how === 'destroyed' ? noticed : (record.seenSec + noticed) / 2;
  const {runStartSec, offlineSinceSec, ...rest} = record;
  const ended: BillingRecord = {...rest, endedSec: end};
  if (runStartSec !== undefined) ended.closedGpuSec += Math.max(0, end - runStartSec);
  if (offlineSinceSec !== undefined) ended.closedOfflineSec += Math.max(0, end - offlineSinceSec);
  if (pulling(record)) ended.pulledGb = Math.max(record.pulledGb, pulledBy(record, end));
  return ended;
}

/** Spend so far at `cloudNowSec` (the state of the last look assumed to hold since), or at the end once ended. */
export function spendOf(record: BillingRecord, cloudNowSec: number): InstanceSpend {
  const ended = record.endedSec !== undefined;
  const end = record.endedSec ?? Math.max(cloudNowSec, record.seenSec);
  const offlineSec = record.closedOfflineSec + (record.offlineSinceSec === undefined ? 0 : Math.max(0, end - record.offlineSinceSec));
  const storageSec = Math.max(0, end - record.startSec - offlineSec);
  const gpuSec = record.closedGpuSec + (record.runStartSec === undefined ? 0 : Math.max(0, end - record.runStartSec));
  const pulledGb = !ended && pulling(record) ? Math.max(record.pulledGb, pulledBy(record, end)) : record.pulledGb;
  const downloadedGb = pulledGb + record.provisionedGb;
  const storageUsd = (record.storagePerHour * storageSec) / 3600;
  const gpuUsd = (record.gpuPerHour * gpuSec) / 3600;
  const bandwidthUsd = record.inetDownCostPerGb * downloadedGb;
  let burnUsdPerHour = 0;
  if (!ended) {
    if (record.offlineSinceSec === undefined) burnUsdPerHour += record.storagePerHour;
    if (record.runStartSec !== undefined) burnUsdPerHour += record.gpuPerHour;
    if (pulling(record) && pulledGb < record.imageGb) burnUsdPerHour += ((record.inetDownMbps / MBIT_PER_GB) * 3600 * record.inetDownCostPerGb);
  }
  return {storageUsd, gpuUsd, bandwidthUsd, totalUsd: storageUsd + gpuUsd + bandwidthUsd, burnUsdPerHour, gpuSec, downloadedGb};
}

/** The spend an instance's API record alone implies at `cloudNowSec` (another install's instance, or one never seen before). */
export function spendFromApi(instance: Instance, cloudNowSec: number, imageGb: number): InstanceSpend {
  return spendOf(observeBilling(undefined, {instance, cloudNowSec, imageGb}), cloudNowSec);
}

/** Seconds to pull `imageGb` at `mbps`. */
export function pullSeconds(imageGb: number, mbps: number): number {
  return mbps > 0 ? (imageGb * MBIT_PER_GB) / mbps : 0;
}

function pulling(record: BillingRecord): boolean {
  return !record.ran && record.seenStatus === 'loading' && record.pullStartSec !== undefined;
}

function pulledBy(record: BillingRecord, atSec: number): number {
  if (record.pullStartSec === undefined) return record.pulledGb;
  return Math.min(record.imageGb, (Math.max(0, atSec - record.pullStartSec) * record.inetDownMbps) / MBIT_PER_GB);
}
