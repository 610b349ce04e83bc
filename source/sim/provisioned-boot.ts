// The first boot of an instance created with vastdeck's shipped provisioning (a bundle of
// provision.sh, the manifest and its workflows in the create's variables, or a hosted manifest):
// the recorded image boot of sim-data/boot/happy with its provisioning-script part replaced by what
// provision.sh prints for this manifest (provisioning-run.ts), Vast's provisioner around it
// (3 attempts, 30 s apart), and everything after shifted to the new end. Used by instances.ts.
import {unpackBundle} from '../core/provisioning/bundle.js';
import {parseManifest, type ManifestCheck} from '../core/provisioning/manifest.js';
import {SHIPPED_SCRIPT_PATH} from '../core/provisioning/delivery.js';
import {readFileSync} from 'node:fs';
import {deriveMoments, FIXTURE_T0_MS, ONSTART_LOG, PROVISIONING_PORTAL_LOG, type BootScenario, type TimedWrite} from './boot-fixture.js';
import {COMFYUI_ARGS} from './instance-apps.js';
import type {SimOffer} from './market.js';
import {runProvisionScript, type ScriptRun, type TimedText} from './provisioning-run.js';

/** What the create request shipped, read the way the onstart and provision.sh read it. */
export interface ProvisioningPlan {
  files: Readonly<Record<string, string>>;
  scriptPath: string;
  script: string;
  env: ReadonlyMap<string, string>;
  offer: {computeCap: number; cpuArch: string; inetDownMbps: number};
}

export interface ProvisionedBoot {
  scenario: BootScenario;
  /** COMFYUI_ARGS ComfyUI starts with. */
  comfyuiArgs: string;
}

const CLEAN_PROVISIONING_LOG = '/var/log/provisioning.log';
const ATTEMPTS = 3;
const RETRY_SEC = 30;
const FIXTURE_SCRIPT_URL = 'https://raw.githubusercontent.com/example-org/vast-provisioning/main/comfyui-sdxl-kjnodes.sh';
const PAUSED = /startup paused until instance provisioning has completed/;

/** The plan when the create carries vastdeck's provision.sh (shipped, or hosted next to a shipped or hosted manifest); else undefined. */
export function planProvisionedBoot(env: ReadonlyArray<readonly [string, string]>, offer: SimOffer): ProvisioningPlan | undefined {
  const vars = new Map(env);
  const scriptPath = vars.get('PROVISIONING_SCRIPT');
  if (!scriptPath) return undefined;
  const files = unpackBundle(env) ?? {};
  const shipped = files[scriptPath];
  const hostedWithManifest = /^https?:\/\//.test(scriptPath) && (vars.has('VASTDECK_MANIFEST_URL') || (vars.get('VASTDECK_MANIFEST') ?? '') in files);
  if (shipped === undefined && !hostedWithManifest) return undefined;
  if (shipped !== undefined && !shipped.includes('[vastdeck] provisioning start')) return undefined;
  const script = shipped ?? readFileSync(SHIPPED_SCRIPT_PATH, 'utf8');
  return {files, scriptPath, script, env: vars, offer: {computeCap: Number(offer.compute_cap), cpuArch: String(offer.cpu_arch ?? 'amd64'), inetDownMbps: Number(offer.inet_down)}};
}

/** Where provision.sh finds its manifest (first match wins), and the manifest as it reads it. */
async function manifestOf(plan: ProvisioningPlan): Promise<{shown: string; check: ScriptManifest}> {
  const url = plan.env.get('VASTDECK_MANIFEST_URL');
  if (url) return {shown: url.replace(/[?#].*$/, ''), check: await fetchManifest(url)};
  const dir = plan.scriptPath.includes('/') ? plan.scriptPath.slice(0, plan.scriptPath.lastIndexOf('/')) : '.';
  const path = plan.env.get('VASTDECK_MANIFEST') || ['/workspace/vastdeck/manifest.json', `${dir}/manifest.json`].find((candidate) => candidate in plan.files) || `${dir}/manifest.json`;
  const text = plan.files[path];
  if (text === undefined) return {shown: path, check: {ok: false, problems: [`no manifest at ${path}: set VASTDECK_MANIFEST_URL or VASTDECK_MANIFEST, or put manifest.json in /workspace/vastdeck`]}};
  return {shown: path, check: parseManifest(text)};
}

type ScriptManifest = ManifestCheck | {ok: false; fetchFailure: string};

/** The simulated cloud has no internet: only a manifest served on this machine's loopback can be fetched. */
async function fetchManifest(url: string): Promise<ScriptManifest> {
  const host = new URL(url).hostname;
  if (host !== '127.0.0.1' && host !== 'localhost' && host !== '[::1]') return {ok: false, fetchFailure: 'curl exit 6 after 5 attempts'};
  try {
    const answer = await fetch(url, {signal: AbortSignal.timeout(10_000)});
    if (!answer.ok) return {ok: false, fetchFailure: 'curl exit 22 after 5 attempts'};
    return parseManifest(await answer.text());
  } catch {
    return {ok: false, fetchFailure: 'curl exit 7 after 5 attempts'};
  }
}

/** The boot scenario for this plan, spliced into `base` (the happy first boot). */
export async function buildProvisionedBoot(plan: ProvisioningPlan, base: BootScenario): Promise<ProvisionedBoot> {
  const manifest = await manifestOf(plan);
  const tokens = {HF_TOKEN: Boolean(plan.env.get('HF_TOKEN')), CIVITAI_TOKEN: Boolean(plan.env.get('CIVITAI_TOKEN'))};
  const present = {models: new Set<string>(), nodes: new Set<string>()};
  const runs: ScriptRun[] = [];
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    const run = runProvisionScript({
      manifest: manifest.check,
      manifestShown: manifest.shown.replace(/ /g, '%20'),
      files: plan.files,
      script: plan.script,
      tokens,
      comfyuiArgs: plan.env.get('COMFYUI_ARGS') || COMFYUI_ARGS,
      computeCap: plan.offer.computeCap,
      cpuArch: plan.offer.cpuArch,
      inetDownMbps: plan.offer.inetDownMbps,
      present,
    });
    runs.push(run);
    if (run.ok) break;
  }
  const last = runs.at(-1)!;
  const scenario = splice(base, plan, runs, tokens.HF_TOKEN);
  return {scenario, comfyuiArgs: last.ok ? last.comfyuiArgs : plan.env.get('COMFYUI_ARGS') || COMFYUI_ARGS};
}

function stamp(tSec: number): string {
  return new Date(FIXTURE_T0_MS + tSec * 1000).toISOString().slice(0, 19).replace('T', ' ');
}

/** The provisioner's attempts: script output, its verdicts and retries; times from `startSec`. */
function provisionerLines(plan: ProvisioningPlan, runs: ScriptRun[], startSec: number): {script: TimedText[]; provisioner: TimedText[]; endSec: number} {
  const script: TimedText[] = [];
  const provisioner: TimedText[] = [];
  const say = (atSec: number, level: string, text: string): void => void provisioner.push({atSec, text: `${stamp(atSec)} [${level}] ${text}`});
  let at = startSec;
  runs.forEach((run, index) => {
    if (index > 0) {
      say(at, 'INFO', '--- Phase 9: Provisioning script ---');
      say(at + 0.01, 'INFO', `Running provisioning script: ${plan.scriptPath}`);
      at += 0.02;
    }
    for (const line of run.lines) script.push({atSec: at + line.atSec, text: line.text});
    at += run.durationSec + 0.03;
    if (run.ok) {
      say(at, 'DEBUG', "Marked stage 'provisioning_script' complete (hash=4210e98bd561)");
      say(at, 'INFO', 'Provisioning complete!');
      return;
    }
    say(at, 'ERROR', 'Provisioning script failed (exit 1)');
    if (index + 1 < ATTEMPTS) {
      say(at, 'WARNING', `Attempt ${index + 1}/${ATTEMPTS} failed, retrying in ${RETRY_SEC}s...`);
      at += RETRY_SEC;
    } else {
      say(at, 'ERROR', `All ${ATTEMPTS} attempts exhausted`);
      say(at + 0.01, 'INFO', 'on_failure=continue: returning exit code 1');
    }
  });
  return {script, provisioner, endSec: at};
}

function textOf(write: TimedWrite): string {
  return write.bytes.toString('utf8').replace(/\r?\n$/, '').replace(/\r$/, '');
}

function line(tSec: number, path: string, text: string, crlf = false): TimedWrite {
  return {tMs: Math.round(tSec * 1000), path, bytes: Buffer.from(`${text}${crlf ? '\r\n' : '\n'}`)};
}

function splice(base: BootScenario, plan: ProvisioningPlan, runs: ScriptRun[], hfToken: boolean): BootScenario {
  const find = (path: string, test: (text: string) => boolean): TimedWrite => {
    const write = base.writes.find((candidate) => candidate.path === path && test(textOf(candidate)));
    if (!write) throw new Error(`the happy boot fixture has no ${path} line the provisioned boot needs`);
    return write;
  };
  const runMs = find(PROVISIONING_PORTAL_LOG, (text) => text.includes('Running provisioning script:')).tMs;
  const endMs = find(PROVISIONING_PORTAL_LOG, (text) => text.endsWith('[INFO] Provisioning complete!')).tMs;
  const {script, provisioner, endSec} = provisionerLines(plan, runs, runMs / 1000 + 0.012);
  const newEndMs = Math.round(endSec * 1000);
  const deltaMs = newEndMs - endMs;
  const ok = runs.at(-1)!.ok;
  const scriptBytes = Buffer.byteLength(plan.script);

  // The script's own output in the window, so its clean copy can be told apart in onstart.log.
  const scriptTexts = new Map<string, number>();
  for (const write of base.writes) {
    if (write.path === CLEAN_PROVISIONING_LOG && write.tMs > runMs && write.tMs <= endMs) scriptTexts.set(textOf(write), (scriptTexts.get(textOf(write)) ?? 0) + 1);
  }
  const writes: TimedWrite[] = [];
  const pausedLast = new Map<string, {write: TimedWrite; periodMs: number}>();
  for (const original of base.writes) {
    const write = personalize(original, plan, scriptBytes, hfToken);
    const inWindow = write.tMs > runMs && write.tMs <= endMs;
    if (!inWindow) {
      if (write.tMs <= runMs) writes.push(write);
      else if (write.path === ONSTART_LOG && textOf(write) === 'Provisioning complete!' && !ok) writes.push(line((write.tMs + deltaMs) / 1000, ONSTART_LOG, 'Note: Provisioning encountered issues but instance startup will continue'));
      else writes.push({...write, tMs: write.tMs + deltaMs});
      continue;
    }
    if (write.path === PROVISIONING_PORTAL_LOG || write.path === CLEAN_PROVISIONING_LOG) continue;
    const text = textOf(write);
    const left = scriptTexts.get(text) ?? 0;
    if (write.path === ONSTART_LOG && left > 0) {
      scriptTexts.set(text, left - 1);
      continue;
    }
    if (PAUSED.test(text)) {
      const key = `${write.path}\n${text}`;
      const previous = pausedLast.get(key);
      if (write.tMs <= newEndMs) {
        pausedLast.set(key, {write, periodMs: previous ? write.tMs - previous.write.tMs : 5000});
        writes.push(write);
      }
      continue;
    }
    writes.push({...write, tMs: Math.min(write.tMs, newEndMs - 1)});
  }
  // A longer provisioning: the waiting programs go on printing their "startup paused" line.
  for (const {write, periodMs} of pausedLast.values()) {
    for (let tMs = write.tMs + periodMs; tMs < newEndMs; tMs += periodMs) writes.push({...write, tMs});
  }
  for (const entry of script) {
    writes.push(line(entry.atSec, PROVISIONING_PORTAL_LOG, entry.text, true), line(entry.atSec, CLEAN_PROVISIONING_LOG, entry.text), line(entry.atSec, ONSTART_LOG, entry.text));
  }
  for (const entry of provisioner) {
    for (const path of [PROVISIONING_PORTAL_LOG, CLEAN_PROVISIONING_LOG, ONSTART_LOG]) writes.push(line(entry.atSec, path, entry.text));
  }
  let fileOffsetSec = runMs / 1000 + 0.012;
  for (const run of runs) {
    for (const file of run.files) writes.push({tMs: Math.round((fileOffsetSec + file.atSec) * 1000), path: file.path, bytes: file.bytes});
    fileOffsetSec += run.durationSec + 0.03 + RETRY_SEC + 0.02;
  }
  writes.sort((a, b) => a.tMs - b.tMs);
  const comfyLogRotationMs = base.moments.comfyLogRotationMs + deltaMs;
  return {name: base.name, writes, moments: deriveMoments(writes, comfyLogRotationMs, 'the provisioned boot')};
}

/** The fixture's script URL, its size and the token check become this instance's. */
function personalize(write: TimedWrite, plan: ProvisioningPlan, scriptBytes: number, hfToken: boolean): TimedWrite {
  const text = write.bytes.toString('latin1');
  if (!text.includes(FIXTURE_SCRIPT_URL) && !text.includes('Script saved to') && !text.includes('HuggingFace token is valid')) return write;
  const replaced = text
    .replaceAll(FIXTURE_SCRIPT_URL, plan.scriptPath)
    .replace(/Script saved to \/provisioning\.sh \(\d+ bytes\)/, `Script saved to /provisioning.sh (${scriptBytes} bytes)`)
    .replace('HuggingFace token is valid', hfToken ? 'HuggingFace token is valid' : 'No HuggingFace token found ($HF_TOKEN not set)');
  return {...write, bytes: Buffer.from(replaced, 'latin1')};
}
