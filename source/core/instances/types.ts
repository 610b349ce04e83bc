// Our own type for a Vast instance (parsed once at the boundary from the instance JSON,
// docs/vast-api.md §4.2) and for what vastdeck records locally about the instances it creates.
import type {AutostopConfig} from '../provisioning/autostop.js';

export interface PortMapping {
  hostIp: string;
  /** External port on publicIp (Vast sends it as a string; parsed to a number). */
  hostPort: number;
}

export interface Instance {
  id: number;
  machineId: number;
  label: string | null;
  /** null → loading → running; also created, stopped, frozen, exited, rebooting, unknown, offline. */
  actualStatus: string | null;
  intendedStatus: string | null;
  curState: string | null;
  statusMsg: string | null;
  imageUuid: string | null;
  imageRuntype: string | null;
  gpuName: string;
  numGpus: number;
  /** $/h while running (GPU + storage). */
  dphTotal: number;
  /** $/h for storage alone (billed in every state but offline, until destroyed). */
  storageCostPerHour: number;
  diskGb: number;
  inetDownMbps: number;
  inetDownCostPerGb: number;
  geolocation: string;
  /** Trimmed; null until running. */
  publicIp: string | null;
  /** e.g. {"22/tcp": [...], "8188/tcp": [...]}; empty until running. */
  ports: Record<string, PortMapping[]>;
  sshHost: string | null;
  sshPort: number | null;
  /** Also the portal token when the instance was created with OPEN_BUTTON_TOKEN=1. */
  jupyterToken: string | null;
  /** epoch seconds on the cloud's clock: when the instance was created (storage bills from here). */
  startDateSec: number | null;
  /** Minutes the container has been running in its current run (null while not running, or when the API omits it). */
  uptimeMins: number | null;
  inetUpCostPerGb: number;
  computeCap: number;
  /** Its autostop watchdog's settings (from the create variables), when it has one (docs/autostop.md). */
  autostop?: AutostopConfig;
}

/** What the local ledger keeps about an instance vastdeck created (or adopted). */
export type LedgerState = 'creating' | 'active' | 'create-failed' | 'destroying' | 'destroyed' | 'gone';

export interface LedgerInstance {
  /** Our id, written before the create call so a crash mid-create is never forgotten. */
  localId: string;
  /** The `vastdeck:<...>` label sent with the create. */
  label: string;
  /** scheme://host:port of the API this instance lives on (demo simulators differ per run). */
  apiOrigin: string;
  offerId: number;
  machineId: number;
  gpuName: string;
  numGpus: number;
  dphTotal: number;
  state: LedgerState;
  instanceId?: number;
  /** Per-instance portal password (secret; the ledger file is 0600). */
  webPassword?: string;
  createdAtMs: number;
  updatedAtMs: number;
  /** Short human notes: "created", "create refused: ...", "destroyed", "not in the list any more". */
  events: Array<{atMs: number; what: string}>;
  /** The session (core/money/sessions.ts) that rented it; absent for adopted instances and older entries. */
  sessionId?: string;
  /** What the instance has cost, kept up to date from the API (core/money/billing.ts). */
  billing?: BillingRecord;
}

/** One instance's billing as vastdeck accounts it, on the cloud's clock (epoch seconds); see core/money/billing.ts. */
export interface BillingRecord {
  /** start_date: storage bills from here until the instance is destroyed. */
  startSec: number;
  storagePerHour: number;
  /** $/h of the GPUs while running (dph_total − storage). */
  gpuPerHour: number;
  inetDownCostPerGb: number;
  inetDownMbps: number;
  /** GPU seconds of runs that have ended. */
  closedGpuSec: number;
  /** The current run's start, while the instance runs. */
  runStartSec?: number;
  /** The container ran at least once (the image is on the machine). */
  ran: boolean;
  /** GB of the Docker image (cost.imageGb when first seen). */
  imageGb: number;
  /** When the image pull began (estimated from the looks around it). */
  pullStartSec?: number;
  /** GB of the image downloaded so far. */
  pulledGb: number;
  /** GB the provisioning downloaded (transfer lines in its logs), the most seen. */
  provisionedGb: number;
  /** Seconds offline that ended (storage does not bill offline). */
  closedOfflineSec: number;
  offlineSinceSec?: number;
  /** Cloud second of the last look, and the actual_status it showed. */
  seenSec: number;
  seenStatus: string | null;
  /** Destroyed or gone: every clock stops here. */
  endedSec?: number;
}
