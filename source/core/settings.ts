// The shape of vastdeck's settings (stored by config.ts with conf 15 + a JSON schema).
// Kept separate from config.ts so pure modules (ranking, query building) can use the type
// without loading conf.

export interface FilterSettings {
  /** Vast spellings, e.g. ["RTX 4090", "RTX 5090"]; empty = any GPU. */
  gpuNames: string[];
  /** Exact GPU count; 0 = any. */
  numGpus: number;
  /** Max $/h (dph_total); 0 = no limit. */
  maxDphTotal: number;
  /** Min download speed in Mbit/s. */
  minInetDownMbps: number;
  /** Max $ per GB downloaded; 0 = no limit. */
  maxInetDownCostPerGb: number;
  /** 0..1 */
  minReliability: number;
  /** Min disk space in GB. */
  minDiskGb: number;
  /** Min CUDA version (cuda_max_good), e.g. 12.4; 0 = any. */
  minCuda: number;
  /** Two-letter country codes to keep; empty = anywhere. */
  regionsIn: string[];
  /** Two-letter country codes to drop. */
  regionsOut: string[];
  verifiedOnly: boolean;
}

/** What a job costs beyond the workflow's own figures (its manifest's "requirements"). */
export interface CostSettings {
  /** GB of Docker image each new instance pulls (billed per GB, and storage while it loads). */
  imageGb: number;
  /** Seconds from "models on disk" to ComfyUI answering. */
  bootSeconds: number;
  /** Seconds an instance stays up after the last result until it is destroyed. */
  idleTailSeconds: number;
  /** The original workflow's rule: the cost of the first N minutes plus the downloads. */
  windowMinutes: number;
}

/** The job the offers are priced for: a workflow and how many generations of it. */
export interface JobSettings {
  /** Workflow name (workflows/<name>.manifest.json or the user's own). */
  workflow: string;
  generations: number;
}

export interface InstanceSettings {
  image: string;
  diskGb: number;
  /** http(s) URL of a bash script each new instance runs at boot (PROVISIONING_SCRIPT); '' = none. */
  provisioningScriptUrl: string;
  /** Manifest for provisioning/provision.sh: an http(s) URL, or a local file sent inline; '' = none. */
  provisioningManifest: string;
  /** A local provisioning script sent inline in onstart when it fits (and no script URL is set); '' = none. */
  provisioningScriptFile: string;
}

export interface PolicySettings {
  /** Destroy instances once the generation queue has drained. */
  destroyWhenDrained: boolean;
  /** Destroy an instance that sat READY with no job this many minutes; 0 = off. */
  idleMinutes: number;
  /** Destroy everything when the session's instances have cost this many $; 0 = off. */
  spendCapUsd: number;
  /** Seconds of visible countdown before an automatic destroy (a key cancels it). */
  countdownSeconds: number;
}

/**
 * The watchdog vastdeck installs on the instances it creates (docs/autostop.md): the instance stops
 * or destroys itself, with its own scoped key, when vastdeck has not been heard from for a while.
 */
export interface AutostopSettings {
  /** Install the watchdog on instances vastdeck creates. */
  enabled: boolean;
  /** Minutes without a heartbeat from vastdeck and without a ComfyUI job before the instance acts. */
  idleMinutes: number;
  /** Hours a container may run at most, whatever it does; 0 = no limit. */
  maxHours: number;
  /** What the instance does: destroy (only when every output was fetched; else it stops) or stop. */
  action: 'destroy' | 'stop';
}

export interface VastdeckSettings {
  filters: FilterSettings;
  job: JobSettings;
  cost: CostSettings;
  instance: InstanceSettings;
  policies: PolicySettings;
  autostop: AutostopSettings;
  /** Offer list refresh interval in the dashboard, seconds. */
  refreshSeconds: number;
  /** How many offers one search call asks for (a search makes a few calls to cover the market). */
  searchLimit: number;
  /** Where generated outputs go (outputs/<job>/); relative to the folder vastdeck runs in. */
  outputsDir: string;
}

export const DEFAULT_SETTINGS: VastdeckSettings = {
  filters: {
    gpuNames: [],
    numGpus: 1,
    maxDphTotal: 0,
    minInetDownMbps: 100,
    maxInetDownCostPerGb: 0,
    minReliability: 0.95,
    minDiskGb: 50,
    minCuda: 12.1,
    regionsIn: [],
    regionsOut: [],
    verifiedOnly: true,
  },
  job: {
    workflow: 'img2img-sdxl',
    generations: 50,
  },
  cost: {
    imageGb: 12,
    bootSeconds: 60,
    idleTailSeconds: 120,
    windowMinutes: 10,
  },
  instance: {
    image: 'vastai/comfyui:@vastai-automatic-tag',
    diskGb: 60,
    provisioningScriptUrl: '',
    provisioningManifest: '',
    provisioningScriptFile: '',
  },
  policies: {
    destroyWhenDrained: false,
    idleMinutes: 0,
    spendCapUsd: 0,
    countdownSeconds: 60,
  },
  autostop: {
    enabled: true,
    idleMinutes: 30,
    maxHours: 0,
    action: 'destroy',
  },
  refreshSeconds: 15,
  searchLimit: 400,
  outputsDir: 'outputs',
};
