// The stage monitor's evidence table: each row is something a Vast ComfyUI instance prints (or Vast's
// status_msg says), the files it is expected in, and what it proves. stages.ts applies the rows; a
// new script's lines (our own provisioning log contract) are one more row. Formats: sim-data/boot/README.md.
import {contractPattern} from './log-contract.js';
import {DOWNLOAD_BATCH, TQDM_BAR, WGET_BAR} from './progress.js';

export type EvidenceSource = 'onstart' | 'provisioning' | 'comfyui' | 'api-wrapper' | 'supervisord' | 'vast-status';

export type EvidenceEffect =
  | 'boot' // INITIALIZING: the container is booting
  | 'provisioning' // PROVISIONING has begun
  | 'attempt-start' // the provisioner starts a run (again): PROVISIONING, earlier failures are history
  | 'download-batch' // DOWNLOADING: `Downloading N model(s) to <dir>...` ($1 files, $2 dir)
  | 'download-url' // DOWNLOADING: default.sh's `Downloading: <url>`; wget -q then draws a bar or nothing
  | 'download-file' // DOWNLOADING: a file announced by other scripts ($1)
  | 'download-done' // a file finished without a bar ($1)
  | 'transfer' // DOWNLOADING: a progress bar (progress.ts reads it)
  | 'provisioned' // STARTING_APP: provisioning finished well
  | 'app-starting' // STARTING_APP: ComfyUI's own output
  | 'app-listening' // ComfyUI says it listens: time to probe, not READY yet
  | 'cause' // an error worth quoting if provisioning fails; with a suggestion it is one we know how to fix
  | 'step-failed' // the script or a part of it failed; the provisioner may still retry
  | 'attempt-failed' // the provisioner retries: a warning, the stage stays
  | 'provisioning-failed' // provisioning is over and failed: FAILED, even if ComfyUI starts later
  | 'warning' // worth showing, proves nothing
  | 'fatal'; // FAILED at once

export interface EvidencePattern {
  pattern: RegExp;
  /** Where the line is expected; a line from an unknown file is matched against every log row. */
  sources: readonly EvidenceSource[];
  effect: EvidenceEffect;
  /** What happened, in the user's words; `$1`… are the pattern's groups. */
  reason?: string;
  /** What to do about it. */
  suggestion?: string;
}

export interface Evidence {
  effect: EvidenceEffect;
  groups: readonly string[];
  reason?: string;
  suggestion?: string;
}

const PROVISIONER: readonly EvidenceSource[] = ['provisioning', 'onstart'];
const SCRIPT: readonly EvidenceSource[] = ['provisioning', 'comfyui', 'onstart'];
const COMFYUI: readonly EvidenceSource[] = ['comfyui', 'onstart'];
const DOWNLOAD_HELP = 'Check the model URL, and that HF_TOKEN / CIVITAI_TOKEN are set for gated or private models; then destroy this instance and create a new one.';
const PICK_ANOTHER = 'Destroy it and pick another offer.';
/** Suggestions for vastdeck's own script (provisioning/provision.sh), by the step that failed. */
const MANIFEST_HELP = 'Fix the manifest (vastdeck checks it before create: its folders, URLs and fields) or VASTDECK_MANIFEST_URL; the provisioner runs the script again, else destroy this instance and create a new one.';
const NODES_HELP = "Check the custom node's git URL and pinned ref in the manifest, and its requirements.txt; then destroy this instance and create a new one.";
const PACKAGES_HELP = 'Check the apt/pip package names and versions in the manifest; then destroy this instance and create a new one.';
const WORKFLOWS_HELP = 'Check the workflow URL or path in the manifest (a path is relative to the manifest); then destroy this instance and create a new one.';
const SCRIPT_HELP = 'Read /var/log/portal/provisioning.log above the failure line; fix the manifest or the script, then destroy this instance and create a new one.';
const CONTRACT_PROVISIONING = ['stage-start', 'stage-done', 'gpu', 'sage-install', 'node', 'workflow', 'comfyui-args', 'info'] as const;

/** First match wins, so failures come before the stage rows they would otherwise look like. */
export const EVIDENCE: readonly EvidencePattern[] = [
  // Failures and their causes.
  // vastdeck's script (provisioning/log-contract.json): a failed run; the provisioner may run it again.
  {pattern: contractPattern('download-failed'), sources: PROVISIONER, effect: 'cause', reason: 'Downloading $1 failed after $2 attempts: $3', suggestion: DOWNLOAD_HELP},
  {pattern: contractPattern('failed', {step: 'models'}), sources: PROVISIONER, effect: 'step-failed', reason: 'Provisioning step $1 failed: $2', suggestion: DOWNLOAD_HELP},
  {pattern: contractPattern('failed', {step: 'manifest'}), sources: PROVISIONER, effect: 'step-failed', reason: 'Provisioning step $1 failed: $2', suggestion: MANIFEST_HELP},
  {pattern: contractPattern('failed', {step: 'nodes'}), sources: PROVISIONER, effect: 'step-failed', reason: 'Provisioning step $1 failed: $2', suggestion: NODES_HELP},
  {pattern: contractPattern('failed', {step: 'apt|pip|sage'}), sources: PROVISIONER, effect: 'step-failed', reason: 'Provisioning step $1 failed: $2', suggestion: PACKAGES_HELP},
  {pattern: contractPattern('failed', {step: 'workflows'}), sources: PROVISIONER, effect: 'step-failed', reason: 'Provisioning step $1 failed: $2', suggestion: WORKFLOWS_HELP},
  {pattern: contractPattern('failed'), sources: PROVISIONER, effect: 'step-failed', reason: 'Provisioning step $1 failed: $2', suggestion: SCRIPT_HELP},
  {pattern: contractPattern('download-retry'), sources: PROVISIONER, effect: 'warning', reason: 'Downloading $1 failed (attempt $2/$3); retrying in $4 s: $5'},
  {pattern: contractPattern('sage-fallback'), sources: PROVISIONER, effect: 'warning', reason: 'SageAttention is off on this instance: $1'},
  {pattern: /MetadataIncompleteBuffer/, sources: COMFYUI, effect: 'fatal', reason: 'A model file is truncated (safetensors: MetadataIncompleteBuffer)', suggestion: 'An interrupted download left a partial file: delete it on the instance and download it again, or destroy the instance and create a new one.'},
  {pattern: /^All (\d+) attempts exhausted$/, sources: PROVISIONER, effect: 'provisioning-failed', reason: 'Provisioning failed: the provisioner gave up after $1 attempts'},
  {pattern: /^Note: Provisioning encountered issues but instance startup will continue/, sources: ['onstart'], effect: 'provisioning-failed', reason: 'Provisioning failed; the instance starts ComfyUI anyway'},
  {pattern: /^Attempt (\d+)\/(\d+) failed, retrying in (\d+)s/, sources: PROVISIONER, effect: 'attempt-failed', reason: 'Provisioning attempt $1/$2 failed; the provisioner retries in $3 s'},
  {pattern: /^\[ERROR\] Provisioning Script failed at line (\d+) with exit code (\d+)/, sources: SCRIPT, effect: 'step-failed', reason: 'The provisioning script failed at line $1 (exit code $2)'},
  {pattern: /^Provisioning script failed \(exit (\d+)\)$/, sources: PROVISIONER, effect: 'step-failed', reason: 'The provisioning script exited with code $1'},
  {pattern: /^(?:\[ERROR\]|ERROR:) Failed to download (.+?) after (\d+) attempts/, sources: SCRIPT, effect: 'step-failed', reason: 'Downloading $1 failed $2 times', suggestion: DOWNLOAD_HELP},
  {pattern: /^\[ERROR\] (?:One or more downloads failed|Download process \d+ failed)/, sources: SCRIPT, effect: 'step-failed', reason: 'A model download failed', suggestion: DOWNLOAD_HELP},
  {pattern: /^Error: Access denied\. This repository requires approval\./, sources: SCRIPT, effect: 'cause', reason: 'Hugging Face refused the download: the model repository is gated', suggestion: "Accept the model's licence on its huggingface.co page, set HF_TOKEN to a token of that account (vastdeck passes it to the instance), then destroy this instance and create a new one."},
  {pattern: /^Error: (.+)/, sources: SCRIPT, effect: 'cause', reason: '$1'},
  {pattern: /^(\w+(?:Error|Exception)): (.+)/, sources: SCRIPT, effect: 'cause', reason: '$1: $2'},
  {pattern: /^HuggingFace token is invalid/, sources: PROVISIONER, effect: 'warning', reason: 'HF_TOKEN is invalid: downloads of gated models will fail'},
  {pattern: /✗ Download failed \(attempt (\d+)\/(\d+)\)/, sources: SCRIPT, effect: 'warning', reason: 'A model download failed (attempt $1/$2); the script retries'},
  {pattern: /^Cannot import (.+?) module for custom nodes: (.+)/, sources: COMFYUI, effect: 'warning', reason: 'A custom node failed to import: $1 ($2)'},
  {pattern: /^exited: comfyui \(exit status (\d+); not expected\)/, sources: ['supervisord', 'onstart'], effect: 'warning', reason: 'ComfyUI exited with status $1; supervisor restarts it'},
  {pattern: /(BACKENDS_READY_TIMEOUT|BACKEND_UNRECOVERABLE|Application startup failed)/, sources: ['api-wrapper', 'onstart'], effect: 'warning', reason: 'The ComfyUI API wrapper reports $1'},

  // The app side: STARTING_APP, and ComfyUI saying it listens.
  {pattern: /^To see the GUI go to: /, sources: COMFYUI, effect: 'app-listening'},
  {pattern: /\bBACKENDS_READY: \d+ backend/, sources: ['api-wrapper', 'onstart'], effect: 'app-listening'},
  {pattern: /^(?:\[START\] Security scan$|Starting server$|Total VRAM \d+ MB)/, sources: COMFYUI, effect: 'app-starting'},
  {pattern: /^Provisioning complete!$/, sources: PROVISIONER, effect: 'provisioned'},
  {pattern: contractPattern('complete'), sources: PROVISIONER, effect: 'provisioned'},

  // DOWNLOADING.
  {pattern: contractPattern('download-progress'), sources: PROVISIONER, effect: 'transfer'},
  {pattern: contractPattern('download-done'), sources: PROVISIONER, effect: 'transfer'},
  {pattern: contractPattern('download-batch'), sources: PROVISIONER, effect: 'download-batch'},
  {pattern: contractPattern('download-start'), sources: PROVISIONER, effect: 'download-file'},
  {pattern: WGET_BAR, sources: PROVISIONER, effect: 'transfer'},
  {pattern: TQDM_BAR, sources: PROVISIONER, effect: 'transfer'},
  {pattern: DOWNLOAD_BATCH, sources: PROVISIONER, effect: 'download-batch'},
  {pattern: /^Downloading: (\S+)$/, sources: PROVISIONER, effect: 'download-url'},
  {pattern: /^Downloading (.+) \(attempt \d+\/\d+\)\.\.\.$/, sources: PROVISIONER, effect: 'download-file'},
  {pattern: /^Downloading (\S+)\.\.\.$/, sources: SCRIPT, effect: 'download-file'},
  {pattern: /^(?:Successfully downloaded|File already exists): (.+?)(?: \(skipping\))?$/, sources: PROVISIONER, effect: 'download-done'},

  // PROVISIONING and INITIALIZING.
  {pattern: contractPattern('begin'), sources: PROVISIONER, effect: 'attempt-start'},
  ...CONTRACT_PROVISIONING.map((kind): EvidencePattern => ({pattern: contractPattern(kind), sources: PROVISIONER, effect: 'provisioning'})),
  {pattern: /^Provisioner starting \(version \d+\)$/, sources: PROVISIONER, effect: 'attempt-start'},
  {pattern: /^(?:\* Provisioning instance with |Running provisioning script: |#\s+Provisioning container\s+#$)/, sources: PROVISIONER, effect: 'provisioning'},
  {pattern: /startup paused until instance provisioning has completed/, sources: ['comfyui', 'api-wrapper', 'onstart'], effect: 'provisioning'},
  {pattern: /^(?:CUDA [\d.]+ selected \(|Updating Vast\.ai CLI tool$|Portal (?:is up to date|target version)|### Entrypoint setup ###$|SSH key propagation complete\.$|Generating certificates$|Instance certificate signed by the Vast console$)/, sources: ['onstart'], effect: 'boot'},

  // Vast's status_msg while the container is not running (vast-api.md §4.3–4.4).
  {pattern: /oci runtime create failed|container failed to start/i, sources: ['vast-status'], effect: 'fatal', reason: 'The container failed to start on this host', suggestion: `${PICK_ANOTHER} This is usually a driver or container-runtime problem on the host.`},
  {pattern: /manifest unknown|manifest for \S+ not found/i, sources: ['vast-status'], effect: 'fatal', reason: 'The image tag does not exist', suggestion: 'Check the image name and tag, then create a new instance.'},
  {pattern: /pull access denied|unauthorized/i, sources: ['vast-status'], effect: 'fatal', reason: 'The registry refused to pull the image', suggestion: 'Check the image name; a private image needs registry credentials in the template.'},
  {pattern: /no space left on device/i, sources: ['vast-status'], effect: 'fatal', reason: 'The host ran out of disk space', suggestion: `${PICK_ANOTHER} Prefer one with more free disk.`},
  {pattern: /failed to pull image|unexpected eof|error response from daemon/i, sources: ['vast-status'], effect: 'fatal', reason: 'The host could not pull or start the image', suggestion: `${PICK_ANOTHER} If it happens on several hosts, check the image name.`},
];

/** Provisioner `… [INFO] `, supervisord `…,123 INFO `, script log() `[…] ` and Manager `[….123] ` prefixes. */
const PREFIX = /^(?:\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:,\d{3})? (?:\[(?:DEBUG|INFO|WARNING|ERROR|CRITICAL)\]|INFO|WARN|CRIT|ERRO|DEBG) |\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d{3})?\] )/;

/** Which kind of log a path is: `/var/log/portal/comfyui.log`, `/var/log/comfyui.log`, `…comfyui.log.old`. */
export function logSourceOf(file: string): EvidenceSource | undefined {
  const name = file.split('/').pop() ?? '';
  if (/provisioning\.log$/.test(name)) return 'provisioning';
  if (/comfyui(?:_\d+)?(?:\.old)?\.log(?:\.old)?$/.test(name)) return 'comfyui';
  if (/api-wrapper\.log$/.test(name)) return 'api-wrapper';
  if (/onstart\.log$/.test(name)) return 'onstart';
  if (/supervisord\.log$/.test(name)) return 'supervisord';
  return undefined;
}

/** The evidence in one log line of `file` (`''` when the stream does not say which file). */
export function matchLogLine(file: string, text: string): Evidence | undefined {
  const source = logSourceOf(file);
  if (source === undefined && file !== '') return undefined;
  return match(text.trim().replace(PREFIX, ''), row => (source === undefined ? !row.sources.includes('vast-status') : row.sources.includes(source)));
}

/** The evidence in Vast's `status_msg`. */
export function matchStatusMessage(statusMsg: string): Evidence | undefined {
  return match(statusMsg, row => row.sources.includes('vast-status'));
}

function match(message: string, applies: (row: EvidencePattern) => boolean): Evidence | undefined {
  for (const row of EVIDENCE) {
    if (!applies(row)) continue;
    const found = row.pattern.exec(message);
    if (!found) continue;
    const groups = found.slice(1).map(group => group ?? '');
    const fill = (template: string): string => template.replace(/\$(\d)/g, (_, n: string) => groups[Number(n) - 1] ?? '');
    return {
      effect: row.effect,
      groups,
      ...(row.reason === undefined ? {} : {reason: fill(row.reason)}),
      ...(row.suggestion === undefined ? {} : {suggestion: row.suggestion}),
    };
  }
  return undefined;
}
