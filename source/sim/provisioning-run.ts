// One run of vastdeck's provision.sh on a simulated instance, worked out ahead of time: the log
// contract lines it prints (provisioning/log-contract.json) with their times, and the files it leaves
// (models in their folders, custom nodes, workflows, $WORKSPACE/.env). Download times come from the
// offer's bandwidth shared by at most three parallel downloads; what a host answers comes from
// remote-files.ts. Called by provisioned-boot.ts once per provisioner attempt.
import {fileNameOf, type ManifestCheck, type ProvisioningManifest} from '../core/provisioning/manifest.js';
import {COMFY_ROOT} from './comfy/comfy-paths.js';
import {placeholderSafetensors} from './comfy/models.js';
import {remoteFile} from './remote-files.js';

export interface TimedText {
  /** Seconds since the script started. */
  atSec: number;
  text: string;
}

export interface TimedFile {
  atSec: number;
  path: string;
  bytes: Buffer;
}

export interface ScriptInput {
  /** The manifest as the script reads it, or why it could not be fetched. */
  manifest: ManifestCheck | {ok: false; fetchFailure: string};
  /** The begin line's manifest= (a URL without its query, or a path). */
  manifestShown: string;
  /** The shipped files (workflow contents). */
  files: Readonly<Record<string, string>>;
  /** The shipped script's text (for the trap line's line number). */
  script: string;
  tokens: {HF_TOKEN: boolean; CIVITAI_TOKEN: boolean};
  /** The instance's COMFYUI_ARGS. */
  comfyuiArgs: string;
  /** compute_cap × 100 (890 = 8.9) and the CPU architecture of the offer. */
  computeCap: number;
  cpuArch: string;
  inetDownMbps: number;
  /** What earlier attempts left: model paths and node names. */
  present: {models: Set<string>; nodes: Set<string>};
}

export interface ScriptRun {
  lines: TimedText[];
  files: TimedFile[];
  durationSec: number;
  ok: boolean;
  downloadedBytes: number;
  /** COMFYUI_ARGS as the args step wrote them (the input's when it never got there). */
  comfyuiArgs: string;
}

const SLOTS = 3;
const PROGRESS_SEC = 5;
/** Share of the link a wget stream gets. */
const LINK_EFFICIENCY = 0.9;
const SAGE_MIN_CC = 800;
const SAGEATTENTION = '1.0.6';
/** The Triton the image's torch ships with (kept as installed). */
const TRITON = '3.5.1';
const WORKFLOWS_DIR = `${COMFY_ROOT}/user/default/workflows`;

class ScriptFailed extends Error {
  constructor(
    readonly step: string,
    readonly reason: string,
    readonly failCall: string,
  ) {
    super(reason);
  }
}

/** The line of `needle` in the shipped script (1-based), as bash's BASH_LINENO reports a fail there. */
function lineOf(script: string, needle: string): number {
  const index = script.split('\n').findIndex((line) => line.includes(needle));
  return index < 0 ? 1 : index + 1;
}

class ScriptRecorder {
  readonly lines: TimedText[] = [];
  readonly files: TimedFile[] = [];
  atSec = 0;
  downloadedBytes = 0;

  say(text: string, afterSec = 0): void {
    this.atSec += afterSec;
    this.lines.push({atSec: this.atSec, text: `[vastdeck] ${text}`});
  }

  tool(text: string, afterSec = 0): void {
    this.atSec += afterSec;
    this.lines.push({atSec: this.atSec, text});
  }

  file(path: string, bytes: Buffer | string): void {
    this.files.push({atSec: this.atSec, path, bytes: typeof bytes === 'string' ? Buffer.from(bytes) : bytes});
  }

  step(name: string, body: () => void): void {
    const started = this.atSec;
    this.say(`stage=${name} start`);
    body();
    this.say(`stage=${name} done seconds=${Math.floor(this.atSec - started)}`, 0.01);
  }
}

export function runProvisionScript(input: ScriptInput): ScriptRun {
  const run = new ScriptRecorder();
  let args = input.comfyuiArgs;
  run.say(`provisioning start version=1 manifest=${input.manifestShown}`);
  try {
    run.step('setup', () => run.say('info python packages install with uv pip into /venv/main', 0.2));
    let manifest: ProvisioningManifest = {};
    run.step('manifest', () => {
      run.atSec += 0.3;
      if ('fetchFailure' in input.manifest) throw new ScriptFailed('manifest', `could not fetch the manifest from ${input.manifestShown} (${input.manifest.fetchFailure})`, 'fail manifest "could not fetch');
      if (!input.manifest.ok) {
        const [first = 'the manifest is not valid', ...rest] = input.manifest.problems;
        throw new ScriptFailed('manifest', rest.length > 0 ? `${first} (and ${rest.length} more problems)` : first, 'fail manifest "$first"');
      }
      manifest = input.manifest.manifest;
      const count = (list: unknown[] | undefined): number => list?.length ?? 0;
      run.say(`info manifest: ${count(manifest.nodes)} nodes, ${count(manifest.models)} models, ${count(manifest.workflows)} workflows, ${count(manifest.pip)} pip and ${count(manifest.apt)} apt packages`);
    });
    run.step('apt', () => {
      const apt = manifest.apt ?? [];
      if (apt.length === 0) return run.say('info no apt packages in the manifest');
      run.tool('Reading package lists...', 3);
      for (const name of apt) run.tool(`Setting up ${name} ...`, 2);
    });
    let sageOk = false;
    run.step('sage', () => {
      const cc = input.computeCap > 0 ? (input.computeCap / 100).toFixed(1) : 'none';
      const arch = input.cpuArch === 'arm64' ? 'aarch64' : 'x86_64';
      run.say(`gpu cc=${cc} arch=${arch}`, 0.5);
      if (arch !== 'x86_64') return run.say(`sage fallback reason=the CPU is ${arch} and SageAttention wheels are amd64-only; ComfyUI uses PyTorch attention`);
      if (cc === 'none') return run.say('sage fallback reason=no GPU compute capability found (nvidia-smi); ComfyUI uses PyTorch attention');
      if (input.computeCap < SAGE_MIN_CC) return run.say(`sage fallback reason=compute capability ${cc} is below 8.0; ComfyUI uses PyTorch attention`);
      run.tool(`Installed 1 package in 2.31s`, 8);
      run.say(`sage install triton=${TRITON} sageattention=${SAGEATTENTION}`);
      sageOk = true;
    });
    run.step('pip', () => {
      const pip = manifest.pip ?? [];
      if (pip.length === 0) return run.say('info no pip packages in the manifest');
      run.tool(`Installed ${pip.length} packages in ${(1.2 * pip.length).toFixed(2)}s`, 3 + 2 * pip.length);
    });
    run.step('nodes', () => nodesStep(run, manifest, input));
    run.step('models', () => modelsStep(run, manifest, input));
    run.step('workflows', () => workflowsStep(run, manifest, input));
    run.step('args', () => {
      const current = input.comfyuiArgs.split(/\s+/).filter(Boolean);
      const kept = current.filter((word) => word !== '--use-sage-attention');
      if (sageOk) kept.push('--use-sage-attention');
      kept.push(...(manifest.comfyuiArgs ?? '').split(/\s+/).filter(Boolean));
      args = kept.join(' ');
      run.file('/workspace/.env', `# >>> vastdeck provision.sh (rewritten on every run)\nCOMFYUI_ARGS='${args}'\n# <<< vastdeck\n`);
      run.say(`comfyui args=${args}`, 0.3);
      if (args !== current.join(' ')) run.say('info restarted the waiting comfyui program so it starts with these arguments', 0.2);
    });
    run.say(`provisioning complete seconds=${Math.floor(run.atSec)}`, 0.01);
    return {lines: run.lines, files: run.files, durationSec: run.atSec, ok: true, downloadedBytes: run.downloadedBytes, comfyuiArgs: args};
  } catch (error) {
    if (!(error instanceof ScriptFailed)) throw error;
    run.say(`provisioning failed step=${error.step} reason=${error.reason}`, 0.01);
    run.tool(`[ERROR] Provisioning Script failed at line ${lineOf(input.script, error.failCall)} with exit code 1`);
    return {lines: run.lines, files: run.files, durationSec: run.atSec, ok: false, downloadedBytes: run.downloadedBytes, comfyuiArgs: input.comfyuiArgs};
  }
}

function nodesStep(run: ScriptRecorder, manifest: ProvisioningManifest, input: ScriptInput): void {
  for (const node of manifest.nodes ?? []) {
    const name = fileNameOf(node.url).replace(/\.git$/, '');
    const ref = node.ref ?? '-';
    if (input.present.nodes.has(name)) {
      run.say(manifest.autoUpdateNodes === false ? `node keep name=${name} ref=${ref}` : `node update name=${name} ref=${ref}`);
      if (manifest.autoUpdateNodes !== false) run.tool('Already up to date.', 1.5);
      continue;
    }
    run.say(`node clone name=${name} ref=${ref}`);
    run.tool(`Cloning into '${COMFY_ROOT}/custom_nodes/${name}'...`, 0.1);
    run.atSec += 4;
    run.file(`${COMFY_ROOT}/custom_nodes/${name}/__init__.py`, `# ${name}, cloned by the simulated provision.sh from ${node.url}\n`);
    input.present.nodes.add(name);
    run.tool(`Installed 3 packages in 1.84s`, 6);
  }
}

interface Download {
  name: string;
  folder: string;
  path: string;
  total: number;
  got: number;
  startSec: number;
  lastReportBytes: number;
}

/** The parallel downloads (at most SLOTS at a time, sharing the link), one contract line per event. */
function modelsStep(run: ScriptRecorder, manifest: ProvisioningManifest, input: ScriptInput): void {
  const models = manifest.models ?? [];
  if (models.length === 0) return run.say('info no models in the manifest');
  for (const model of models) {
    const host = new URL(model.url).hostname.toLowerCase();
    const name = model.filename ?? fileNameOf(model.url);
    if (/(^|\.)(huggingface|hf)\.co$/.test(host) && !input.tokens.HF_TOKEN) run.say(`info HF_TOKEN is not set: gated Hugging Face models (e.g. ${name}) answer 401`);
    if (/(^|\.)civitai\.com$/.test(host) && !input.tokens.CIVITAI_TOKEN) run.say(`info CIVITAI_TOKEN is not set: many CivitAI downloads (e.g. ${name}) answer 401`);
  }
  run.say(`download batch files=${models.length} dir=${COMFY_ROOT}/models slots=${SLOTS}`);
  const bytesPerSec = (Math.max(1, input.inetDownMbps) * 1_000_000 * LINK_EFFICIENCY) / 8;
  const waiting = models.map((model) => ({model, name: model.filename ?? fileNameOf(model.url)}));
  const active: Download[] = [];
  const failed: string[] = [];
  const start = (): void => {
    while (active.length < SLOTS && waiting.length > 0) {
      const {model, name} = waiting.shift()!;
      const path = `${COMFY_ROOT}/models/${model.folder}/${name}`;
      if (input.present.models.has(path)) {
        run.say(`info models/${model.folder}/${name} is already there; not downloading it again`);
        run.say(`download done file=${name} bytes=${sizeOf(model.url, model.folder, input)} seconds=0`);
        continue;
      }
      run.say(`download start file=${name} folder=${model.folder} host=${new URL(model.url).hostname.toLowerCase()}`);
      const answer = remoteFile(model.url, model.folder, input.tokens);
      if (answer.status !== 200) {
        run.atSec += 0.4;
        const reason = answer.status === 404 ? 'wget exit 8 (ERROR 404: Not Found.)' : 'wget exit 6 (ERROR 401: Unauthorized.)';
        run.say(`download failed file=${name} attempts=1 reason=${reason}`);
        failed.push(name);
        continue;
      }
      active.push({name, folder: model.folder, path, total: answer.bytes, got: 0, startSec: run.atSec, lastReportBytes: 0});
    }
  };
  start();
  let nextReport = run.atSec + PROGRESS_SEC;
  while (active.length > 0) {
    const share = bytesPerSec / active.length;
    const finishIn = Math.min(...active.map((download) => (download.total - download.got) / share));
    const stepSec = Math.min(finishIn, nextReport - run.atSec);
    for (const download of active) download.got = Math.min(download.total, download.got + share * stepSec);
    run.atSec += stepSec;
    run.downloadedBytes += share * stepSec * active.length;
    if (run.atSec >= nextReport - 1e-9) {
      for (const download of active) {
        const bytes = Math.floor(download.got);
        run.say(`download file=${download.name} bytes=${bytes} total=${download.total} pct=${Math.floor((bytes * 100) / download.total)} rate=${Math.floor((bytes - download.lastReportBytes) / PROGRESS_SEC)}`);
        download.lastReportBytes = bytes;
      }
      nextReport += PROGRESS_SEC;
    }
    for (const done of active.filter((download) => download.got >= download.total - 0.5)) {
      active.splice(active.indexOf(done), 1);
      run.file(done.path, placeholderSafetensors(done.name));
      input.present.models.add(done.path);
      run.say(`download done file=${done.name} bytes=${done.total} seconds=${Math.floor(run.atSec - done.startSec)}`);
    }
    start();
  }
  if (failed.length > 0) throw new ScriptFailed('models', `${failed.length} of ${models.length} downloads failed: ${failed.join(' ')}`, 'fail models "${#failed[@]}');
}

function sizeOf(url: string, folder: string, input: ScriptInput): number {
  const answer = remoteFile(url, folder, input.tokens);
  return answer.status === 200 ? answer.bytes : 0;
}

function workflowsStep(run: ScriptRecorder, manifest: ProvisioningManifest, input: ScriptInput): void {
  const workflows = manifest.workflows ?? [];
  if (workflows.length === 0) return run.say('info no workflows in the manifest');
  for (const workflow of workflows) {
    const source = 'url' in workflow ? workflow.url : workflow.path;
    const name = fileNameOf(source);
    run.atSec += 0.2;
    let text: string | undefined;
    if ('path' in workflow) {
      text = input.files[workflow.path];
      if (text === undefined) throw new ScriptFailed('workflows', `no workflow file at ${workflow.path}`, 'fail workflows "no workflow file');
    } else {
      // The simulated internet serves any workflow URL as an empty API workflow.
      text = '{}\n';
    }
    try {
      JSON.parse(text);
    } catch {
      throw new ScriptFailed('workflows', `${name} is not valid JSON`, 'fail workflows "${name} is not valid JSON"');
    }
    run.file(`${WORKFLOWS_DIR}/${name}`, text);
    run.say(`workflow file=${name}`);
  }
}
