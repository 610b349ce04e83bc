// The OnStart contract on vastdeck's side (provisioning/ONSTART.md): the job packed into VASTDECK_JOB_n
// instance variables, the onstart line that unpacks and starts provisioning/onstart-runner.py before
// Vast's normal boot, and the done marker the runner writes. Used by onstart-run.ts and the tests.
import {readFileSync} from 'node:fs';
import {fileURLToPath} from 'node:url';
import {gunzipSync, gzipSync} from 'node:zlib';
import type {ApiWorkflow} from '../comfy/types.js';
import {InputError, VastdeckError} from '../errors.js';
import {isRecord} from '../vast/parse.js';

export const ONSTART_JOB_VERSION = 1;
export const DONE_MARKER_PATH = '/workspace/vastdeck/done.json';
export const ONSTART_LOG_PATH = '/var/log/portal/vastdeck-onstart.log';
/** The runner copies a job's outputs to <this>/<job id>. */
export const ONSTART_OUTPUTS_DIR = '/workspace/vastdeck/outputs';
/** Images shipped with the provisioning assets live here (--image-remote). */
export const SHIPPED_INPUTS_DIR = '/workspace/vastdeck/inputs';
export const JOB_ENV_PREFIX = 'VASTDECK_JOB_';
export const RUNNER_ENV_PREFIX = 'VASTDECK_RUNNER_B64_';
/** The runner's text, found from this file so it works from source/ and dist/. */
export const RUNNER_PATH = fileURLToPath(new URL('../../../provisioning/onstart-runner.py', import.meta.url));

const MAX_ENV_ENTRY_CHARS = 256;
const MAX_ENV_TOTAL_CHARS = 32_768;
const MAX_ONSTART_CHARS = 4048;
/** What buildCreateBody's own variables (ports, portal, tokens, PROVISIONING_SCRIPT) may take. */
const BASE_ENV_RESERVE_CHARS = 2048;
/** What the runner's chunks may take; the runner is ~6 KB gzipped and base64-encoded. */
const RUNNER_ENV_RESERVE_CHARS = 8192;
export const JOB_ENV_BUDGET_CHARS = MAX_ENV_TOTAL_CHARS - BASE_ENV_RESERVE_CHARS - RUNNER_ENV_RESERVE_CHARS;
const RUNNER_DIR = '/opt/vastdeck';
const PLAIN_FILE = /^(?!\.\.?$)[^/\\\u0000-\u001f]{1,200}$/;

export type OnstartImage = {url: string} | {path: string};

/** The JSON inside the VASTDECK_JOB_n variables. */
export interface OnstartJob {
  version: typeof ONSTART_JOB_VERSION;
  id: string;
  /** Everything bound except the LoadImage input, which the runner fills with the uploaded name. */
  workflow: ApiWorkflow;
  imageNode: string;
  imageInput: string;
  image: OnstartImage;
  outputsDir: string;
}

export interface OnStartOutput {
  /** A plain file name inside the job's outputsDir. */
  file: string;
  bytes: number;
  sha256: string;
}

/** /workspace/vastdeck/done.json. */
export interface OnStartMarker {
  id: string;
  status: 'success' | 'error';
  outputs: OnStartOutput[];
  /** One sentence, when status is 'error'. */
  error?: string;
  finishedAt: string;
}

export interface OnstartCommand {
  /** The create body's onstart: unpack and start the runner, then Vast's boot (entrypoint.sh). */
  onstart: string;
  /** The runner's VASTDECK_RUNNER_B64_n chunks. */
  env: Record<string, string>;
}

/** The job as VASTDECK_JOB_0, _1, … chunks of base64(gzip(JSON)), within Vast.ai's env limits. */
export function encodeOnstartJob(job: OnstartJob, budgetChars = JOB_ENV_BUDGET_CHARS): Record<string, string> {
  const payload = pack(JSON.stringify(job));
  // Checked on the payload first, so a huge workflow is never cut into thousands of chunks.
  const env = payload.length > budgetChars ? undefined : chunked(JOB_ENV_PREFIX, payload);
  const chars = env ? envChars(env) : payload.length;
  if (!env || chars > budgetChars) {
    throw new InputError(
      `The workflow of job ${job.id} is too big for the OnStart method: packed (gzip and base64) it takes ${chars} characters of instance variables, over the ${budgetChars} left of Vast.ai's ${MAX_ENV_TOTAL_CHARS}; run it with the API method (without --onstart), or trim the workflow.`,
    );
  }
  return env;
}

/** Reads the job back exactly as the runner does (base64 → gunzip → JSON); an InputError when it cannot. */
export function decodeOnstartJob(env: Readonly<Record<string, string | undefined>>): OnstartJob {
  const chunks: string[] = [];
  for (let index = 0; env[`${JOB_ENV_PREFIX}${index}`] !== undefined; index++) chunks.push(env[`${JOB_ENV_PREFIX}${index}`]!);
  let job: unknown;
  try {
    job = JSON.parse(gunzipSync(Buffer.from(chunks.join(''), 'base64')).toString('utf8'));
  } catch {
    throw new InputError(`The ${JOB_ENV_PREFIX}n variables do not hold a packed job (${chunks.length} chunks): create the instance again with vastdeck run --onstart.`);
  }
  const fields = ['id', 'workflow', 'imageNode', 'imageInput', 'image', 'outputsDir'];
  if (!isRecord(job) || job.version !== ONSTART_JOB_VERSION || fields.some(field => !(field in job))) {
    throw new InputError(`The packed job is not an OnStart job of version ${ONSTART_JOB_VERSION}: create the instance again with vastdeck run --onstart.`);
  }
  return job as unknown as OnstartJob;
}

/** The onstart line for `runnerText` (provisioning/onstart-runner.py) and its env chunks; ≤ 4048 characters, checked. */
export function onstartCommand(runnerText: string): OnstartCommand {
  const env = chunked(RUNNER_ENV_PREFIX, pack(runnerText));
  const envTotal = envChars(env);
  if (envTotal > RUNNER_ENV_RESERVE_CHARS) {
    throw new InputError(`The OnStart runner takes ${envTotal} characters of instance variables packed, over the ${RUNNER_ENV_RESERVE_CHARS} vastdeck reserves for it: shorten provisioning/onstart-runner.py.`);
  }
  const unpack = [
    'import os,base64,gzip,sys',
    `c=sorted((int(k[${RUNNER_ENV_PREFIX.length}:]),v) for k,v in os.environ.items() if k.startswith("${RUNNER_ENV_PREFIX}"))`,
    'sys.stdout.buffer.write(gzip.decompress(base64.b64decode("".join(v for _,v in c))))',
  ].join(';');
  const runner = `${RUNNER_DIR}/onstart-runner.py`;
  // `;` before the boot: the instance starts even if unpacking failed (vastdeck's watch then times out).
  const onstart = `mkdir -p ${RUNNER_DIR} && python3 -c '${unpack}' > ${runner} && (nohup python3 ${runner} >>/var/log/vastdeck-onstart-runner.out 2>&1 &); exec entrypoint.sh`;
  if (onstart.length > MAX_ONSTART_CHARS) throw new InputError(`The OnStart onstart line is ${onstart.length} characters, over Vast.ai's ${MAX_ONSTART_CHARS}: shorten it in job-env.ts.`);
  return {onstart, env};
}

/** The onstart line and chunks for the shipped runner. */
export function shippedOnstartCommand(): OnstartCommand {
  return onstartCommand(readFileSync(RUNNER_PATH, 'utf8'));
}

/** done.json as the runner writes it; anything else is a VastdeckError ('bad-answer'). */
export function parseMarker(json: string): OnStartMarker {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    throw badMarker('it is not JSON');
  }
  if (!isRecord(value) || typeof value.id !== 'string' || (value.status !== 'success' && value.status !== 'error') || !Array.isArray(value.outputs)) {
    throw badMarker('it lacks id, status or outputs');
  }
  const outputs = value.outputs.map((entry): OnStartOutput => {
    if (!isRecord(entry) || typeof entry.file !== 'string' || !PLAIN_FILE.test(entry.file) || !Number.isSafeInteger(entry.bytes) || typeof entry.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(entry.sha256)) {
      throw badMarker('an output is not a plain file name with bytes and sha256');
    }
    return {file: entry.file, bytes: entry.bytes as number, sha256: entry.sha256};
  });
  const marker: OnStartMarker = {id: value.id, status: value.status, outputs, finishedAt: typeof value.finishedAt === 'string' ? value.finishedAt : ''};
  if (typeof value.error === 'string') marker.error = value.error;
  return marker;
}

function badMarker(why: string): VastdeckError {
  return new VastdeckError('bad-answer', `The instance's ${DONE_MARKER_PATH} cannot be read (${why}): the OnStart runner may be a different version, so check the instance's ${ONSTART_LOG_PATH}.`);
}

function pack(text: string): string {
  return gzipSync(Buffer.from(text, 'utf8'), {level: 9}).toString('base64');
}

/** KEY_0, KEY_1, … each `KEY_n=value` within 256 characters (room left for a three-digit n; the budgets keep n lower). */
function chunked(prefix: string, payload: string): Record<string, string> {
  const size = MAX_ENV_ENTRY_CHARS - (prefix.length + 3) - 1;
  const count = Math.ceil(payload.length / size);
  const env: Record<string, string> = {};
  for (let index = 0; index < count; index++) env[`${prefix}${index}`] = payload.slice(index * size, (index + 1) * size);
  return env;
}

/** Vast counts each entry as KEY=value. */
function envChars(env: Record<string, string>): number {
  return Object.entries(env).reduce((total, [name, value]) => total + name.length + 1 + value.length, 0);
}
