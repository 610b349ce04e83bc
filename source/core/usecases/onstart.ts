// The OnStart method from vastdeck's side: binds the job locally, packs it (with the runner) into the
// create request, rents through the rent use case, waits for the done marker over SSH only, then
// collects and verifies the outputs into outputs/<job>/ with job.json. Called by `vastdeck run
// --onstart` and the dashboard's O key (core/onstart/onstart-controller.ts).
import {randomUUID} from 'node:crypto';
import {join, posix} from 'node:path';
import {getInstance} from '../vast/instances-api.js';
import {writePrivateFile} from '../credentials.js';
import type {JobSpec} from '../comfy/types.js';
import {bindJob, loadWorkflow} from '../comfy/workflow.js';
import {InputError, VastdeckError} from '../errors.js';
import {collectOutputs} from '../onstart/collect.js';
import {fetchedLine, type AutostopOverrides} from '../provisioning/autostop.js';
import {Heartbeat} from '../ssh/heartbeat.js';
import {encodeOnstartJob, ONSTART_JOB_VERSION, ONSTART_OUTPUTS_DIR, shippedOnstartCommand, type OnstartImage, type OnstartJob, type OnStartMarker} from '../onstart/job-env.js';
import {watchForMarker, type MarkerWatchEvent} from '../onstart/marker-watch.js';
import type {DeckContext} from './context.js';
import {rent, type OfferSource, type RentEvent} from './rent.js';
import {checkWritableFolder} from './validate.js';

/** A job whose input image is on the instance's side: a URL it fetches, or a shipped file. */
export interface OnstartSpec extends Omit<JobSpec, 'imagePath'> {
  image: OnstartImage;
}

export type OnstartEvent =
  | {kind: 'job'; jobId: string; message: string}
  | RentEvent
  | MarkerWatchEvent
  | {kind: 'marker'; status: OnStartMarker['status']; message: string}
  | {kind: 'collected'; file: string; bytes: number; path: string; message: string};

export interface OnstartRunOptions {
  spec: OnstartSpec;
  /** Where to rent: a search ranked by its sort key, or offers already ranked (the dashboard's selection first). */
  offers: OfferSource;
  /** Create ~/.ssh/vastdeck_ed25519 when no key is found. */
  createKey: boolean;
  /** Outputs go to <outputsRoot>/<job id>/. */
  outputsRoot: string;
  /** Between marker checks over SSH (3 s). */
  pollMs?: number;
  /** Between instance-list calls until the instance has an SSH address (5 s). */
  listPollMs?: number;
  /** The whole wait for the marker, boot included (90 min). */
  timeoutMs?: number;
  signal?: AbortSignal;
  onEvent: (event: OnstartEvent) => void;
  /** As soon as an instance exists (it bills from now on). */
  onCreated?: (instanceId: number) => void;
  /** The rent's last check before the create call (the spend cap). */
  beforeCreate?: () => void;
  /** `--no-autostop`, `--autostop-idle MIN`. */
  autostop?: AutostopOverrides;
}

export interface OnstartResult {
  jobId: string;
  instanceId: number;
  outputDir: string;
  /** Local paths, in the marker's order. */
  outputs: string[];
}

const DEFAULT_TIMEOUT_MS = 90 * 60_000;
/** Stands in for LoadImage's value until the runner puts the uploaded name there. */
const IMAGE_PLACEHOLDER = 'vastdeck-onstart-input.png';

/** The local checks of an OnStart job (workflow, fields, image address), before anything is rented. */
export async function checkOnstartJob(spec: OnstartSpec): Promise<void> {
  const loaded = await loadWorkflow(spec.workflow);
  if (!loaded.fields.image) throw new InputError(`Workflow "${loaded.name}" binds no input image, so the OnStart method has nothing to fetch: pick an image workflow.`);
  checkImage(spec.image);
  bindJob(loaded, {...spec, imagePath: ''}, IMAGE_PLACEHOLDER);
}

export async function runOnstartJob(ctx: DeckContext, options: OnstartRunOptions): Promise<OnstartResult> {
  const {spec, onEvent} = options;
  const startedAtMs = Date.now();
  await checkOnstartJob(spec);
  await checkWritableFolder(options.outputsRoot);
  const loaded = await loadWorkflow(spec.workflow);
  const imageBinding = loaded.fields.image!;
  const jobId = newJobId();
  const bound = bindJob(loaded, {...spec, imagePath: ''}, IMAGE_PLACEHOLDER);
  const job: OnstartJob = {
    version: ONSTART_JOB_VERSION,
    id: jobId,
    workflow: bound.workflow,
    imageNode: imageBinding.node,
    imageInput: imageBinding.input,
    image: spec.image,
    outputsDir: `${ONSTART_OUTPUTS_DIR}/${jobId}`,
  };
  const jobEnv = encodeOnstartJob(job);
  const runner = shippedOnstartCommand();
  onEvent({kind: 'job', jobId, message: `Job ${jobId}: packed into ${Object.keys(jobEnv).length} instance variables; the instance runs it at boot.`});

  const created = await rent(ctx, {
    offers: options.offers,
    createKey: options.createKey,
    autostop: options.autostop,
    body: {onstart: runner.onstart, extraEnv: {...runner.env, ...jobEnv}},
    signal: options.signal,
    onEvent,
    beforeCreate: options.beforeCreate,
  });
  const {instanceId, offer, identity} = created;
  options.onCreated?.(instanceId);

  const {marker, ssh} = await watchForMarker({
    client: ctx.client,
    instanceId,
    jobId,
    apiOrigin: ctx.apiOrigin,
    identity,
    knownHosts: ctx.knownHosts,
    pollMs: options.pollMs ?? 3000,
    listPollMs: options.listPollMs ?? 5000,
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    signal: options.signal,
    onEvent,
  });
  try {
    const markerAtMs = Date.now();
    if (marker.status === 'error') {
      onEvent({kind: 'marker', status: 'error', message: `Instance ${instanceId} finished job ${jobId} with an error.`});
      throw new VastdeckError('api-refused', `Job ${jobId} failed on instance ${instanceId}: ${marker.error ?? 'the runner gave no reason; read /var/log/portal/vastdeck-onstart.log there.'}`);
    }
    onEvent({kind: 'marker', status: 'success', message: `Instance ${instanceId} finished job ${jobId}: ${marker.outputs.length} file(s) to collect.`});
    const outputDir = join(options.outputsRoot, jobId);
    const outputs = await collectOutputs(ssh, job.outputsDir, marker.outputs, outputDir, (output, path) =>
      onEvent({kind: 'collected', file: output.file, bytes: output.bytes, path, message: `Collected ${output.file} (${output.bytes} bytes, sha256 verified).`}),
    );
    const record = {
      id: jobId,
      method: 'onstart',
      inputs: {...spec},
      workflow: spec.workflow,
      seed: bound.seed,
      settings: {...bound.settings, image: 'url' in spec.image ? spec.image.url : spec.image.path},
      instance: {id: instanceId, offerId: offer.id, gpu: offer.gpuName, dphTotal: offer.dphTotal},
      timings: {
        startedAt: new Date(startedAtMs).toISOString(),
        runnerFinishedAt: marker.finishedAt,
        markerSeenAt: new Date(markerAtMs).toISOString(),
        collectedAt: new Date().toISOString(),
        totalSeconds: (Date.now() - startedAtMs) / 1000,
      },
      outputs: marker.outputs,
    };
    // The instance ran this one job: its whole spend so far is the job's (storage, GPU, downloads).
    const cost = await instanceCost(ctx, instanceId);
    writePrivateFile(join(outputDir, 'job.json'), `${JSON.stringify({...record, ...(cost ? {cost, costShareUsd: cost.totalUsd} : {})}, null, 2)}\n`);
    // The outputs are home: the instance's autostop may destroy it instead of only stopping it.
    const heartbeat = new Heartbeat({client: () => ssh});
    heartbeat.markLines(marker.outputs.map(output => fetchedLine(output.sha256, output.file)));
    await heartbeat.flush();
    return {jobId, instanceId, outputDir, outputs};
  } finally {
    ssh.end();
  }
}

/** What the instance has cost so far, after one fresh look at it; undefined when it cannot be read. */
async function instanceCost(ctx: DeckContext, instanceId: number): Promise<{storageUsd: number; gpuUsd: number; downloadsUsd: number; totalUsd: number} | undefined> {
  try {
    const instance = await getInstance(ctx.client, instanceId);
    if (instance) ctx.spend.observe([instance], undefined, {partial: true});
  } catch {
    // The record of the last look still prices it.
  }
  const spend = ctx.spend.instanceSpend(instanceId);
  return spend && {storageUsd: spend.storageUsd, gpuUsd: spend.gpuUsd, downloadsUsd: spend.bandwidthUsd, totalUsd: spend.totalUsd};
}

/** An http(s) URL, or an absolute path on the instance (normally under /workspace/vastdeck/inputs). */
function checkImage(image: OnstartImage): void {
  if ('url' in image) {
    let url: URL | undefined;
    try {
      url = new URL(image.url);
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) throw new InputError(`--image-url needs an http(s) URL the instance can fetch, got "${image.url}".`);
  } else if (!image.path.startsWith('/') || posix.normalize(image.path) !== image.path) {
    throw new InputError(`--image-remote needs an absolute path on the instance such as /workspace/vastdeck/inputs/cat.png, got "${image.path}".`);
  }
}

/** Same shape as the queue's ids: 20260101120000-1a2b3c. */
function newJobId(): string {
  const stamp = new Date().toISOString().slice(0, 19).replace(/[-:T]/g, '');
  return `${stamp}-${randomUUID().slice(0, 6)}`;
}
