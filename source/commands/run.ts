// `vastdeck run --workflow W --image F --prompt P [...] [--instance ID | --up]`: one generation
// job (or --count N seeds) end to end from the shell, through the same queue the dashboard uses;
// with --onstart the job travels inside a new instance instead (core/onstart/onstart-run.ts).
// Progress goes to stderr, output paths to stdout (or one JSON event per line with --json).
import {InputError, toVastdeckError} from '../core/errors.js';
import type {JobSpec} from '../core/comfy/types.js';
import {portalUrls} from '../core/instances/endpoints.js';
import {probeComfy} from '../core/instances/probe.js';
import type {OnstartImage} from '../core/onstart/job-env.js';
import {runOnstartJob, type OnstartSpec} from '../core/onstart/onstart-run.js';
import {parseSortKey} from '../core/offers/rank.js';
import {buildOfferSearch} from '../core/offers/search.js';
import {GenerationQueue, type ReadyInstance} from '../core/queue/generation-queue.js';
import {JobStore, type Job} from '../core/queue/job-store.js';
import {outputsRoot} from '../core/queue/paths.js';
import {listInstances} from '../core/vast/instances-api.js';
import {parseArgs} from './args.js';
import {onInterrupt, reportFailure} from './command-io.js';
import {openSession, type Session} from './session.js';
import {StagePrinter} from './stage-printer.js';
import {rentAndWatch, type Io} from './up.js';
import {stillBillingNote} from './watch.js';

const FLAGS = {
  workflow: {kind: 'string', short: 'w'},
  image: {kind: 'string', short: 'i'},
  prompt: {kind: 'string', short: 'p'},
  negative: {kind: 'string'},
  seed: {kind: 'integer', min: 0, max: Number.MAX_SAFE_INTEGER},
  steps: {kind: 'integer'},
  cfg: {kind: 'number'},
  denoise: {kind: 'number'},
  width: {kind: 'integer'},
  height: {kind: 'integer'},
  frames: {kind: 'integer'},
  count: {kind: 'integer', short: 'n', min: 1, max: 1000},
  instance: {kind: 'integer', min: 1},
  up: {kind: 'boolean'},
  'create-key': {kind: 'boolean'},
  json: {kind: 'boolean'},
  demo: {kind: 'boolean'},
  live: {kind: 'boolean'},
  onstart: {kind: 'boolean'},
  'image-url': {kind: 'string'},
  'image-remote': {kind: 'string'},
} as const;

export async function runRunCommand(argv: readonly string[], io: Io): Promise<number> {
  const {flags, positionals} = parseArgs('run', argv, FLAGS);
  const filter = positionals.join(' ');
  if (flags.onstart === true) return runOnstartCommand(flags, filter, io);
  if (flags['image-url'] !== undefined || flags['image-remote'] !== undefined) {
    throw new InputError('--image-url and --image-remote belong to the OnStart method: add --onstart, or pass a local file with --image.');
  }
  const spec = readSpec(flags);
  if (flags.instance !== undefined && flags.up === true) throw new InputError('Use either --instance ID or --up, not both.');
  const session = await openSession({demo: flags.demo === true, live: flags.live === true, stderr: io.stderr});
  const json = flags.json === true;
  const abort = onInterrupt();
  let queue: GenerationQueue | undefined;
  let rentedId: number | undefined;
  try {
    const printer = new StagePrinter(json ? io.stdout : io.stderr, json, Date.now());
    let target: ReadyInstance;
    if (flags.instance !== undefined) {
      target = await readyInstance(session, Number(flags.instance));
    } else if (flags.up === true || session.connection.mode === 'demo') {
      const search = buildOfferSearch(filter, session.settings);
      const rented = await rentAndWatch(session, {search, sortKey: parseSortKey('cost'), createKey: flags['create-key'] === true, printer, io, signal: abort.signal});
      rentedId = rented.entry.instanceId;
      const {watch, state} = rented.outcome;
      if (state.stage !== 'READY') throw new InputError(`The instance did not become READY (${state.failure?.reason ?? state.stage}): nothing was run.`);
      const token = watch.token();
      const comfyui = watch.portal().comfyui;
      await watch.stop();
      if (!token || !comfyui) throw new InputError('The rented instance has no portal URL or token: nothing was run.');
      target = {key: rented.entry.localId, instanceId: rentedId, gpuName: rented.entry.gpuName, dphTotal: rented.entry.dphTotal, comfyui, token};
    } else {
      throw new InputError('Say where to run: --instance ID (a READY instance on your account) or --up (rent one first).');
    }

    queue = new GenerationQueue({store: new JobStore(), instances: () => [target], outputsRoot: outputsRoot(session.settings), dispatchMs: 500});
    const jobs = await queue.add(spec, {count: typeof flags.count === 'number' ? flags.count : 1});
    const finished = await followJobs(queue, jobs.map(job => job.id), io, json, abort.signal);
    const failed = finished.filter(job => job.state !== 'done');
    for (const job of finished) {
      if (json) io.stdout.write(`${JSON.stringify({event: 'job', id: job.id, state: job.state, seed: job.seed, outputs: job.outputs, error: job.error})}\n`);
      else if (job.state === 'done') for (const path of job.outputs) io.stdout.write(`${path}\n`);
      else io.stderr.write(`vastdeck: job ${job.id} ${job.state}: ${job.error ?? ''}\n`);
    }
    return abort.signal.aborted ? 130 : failed.length > 0 ? 1 : 0;
  } catch (error) {
    return reportFailure(error, io.stderr);
  } finally {
    abort.dispose();
    await queue?.stop();
    if (rentedId !== undefined && session.connection.mode === 'live') io.stderr.write(`vastdeck: ${stillBillingNote(rentedId)}\n`);
    await session.close();
  }
}

type Flags = Record<string, string | number | boolean | undefined>;

/** `run --onstart`: a new instance runs the job at boot; vastdeck only waits for its marker over SSH and collects. */
async function runOnstartCommand(flags: Flags, filter: string, io: Io): Promise<number> {
  const spec = readOnstartSpec(flags);
  if (flags.instance !== undefined) throw new InputError('--onstart runs the job at the boot of a new instance: drop --instance.');
  if (typeof flags.count === 'number' && flags.count > 1) throw new InputError('--onstart runs one job per instance: drop --count, or run the command once per seed.');
  const session = await openSession({demo: flags.demo === true, live: flags.live === true, stderr: io.stderr});
  const json = flags.json === true;
  const abort = onInterrupt();
  let rentedId: number | undefined;
  try {
    const {speed} = session.connection;
    const result = await runOnstartJob(session, {
      spec,
      search: buildOfferSearch(filter, session.settings),
      sortKey: parseSortKey('cost'),
      createKey: flags['create-key'] === true,
      outputsRoot: outputsRoot(session.settings),
      // The simulated cloud runs `speed` times faster; live, speed is 1.
      pollMs: Math.max(250, 3000 / speed),
      listPollMs: Math.max(500, 5000 / speed),
      signal: abort.signal,
      onCreated: id => (rentedId = id),
      onEvent: event => {
        if (json) {
          const {kind, ...fields} = event;
          io.stdout.write(`${JSON.stringify({event: kind, ...fields})}\n`);
        } else io.stderr.write(`${event.message}\n`);
      },
    });
    if (json) io.stdout.write(`${JSON.stringify({event: 'job', id: result.jobId, state: 'done', method: 'onstart', instanceId: result.instanceId, outputs: result.outputs})}\n`);
    else for (const path of result.outputs) io.stdout.write(`${path}\n`);
    return 0;
  } catch (error) {
    const failure = toVastdeckError(error);
    if (json) io.stdout.write(`${JSON.stringify({event: 'job', state: 'failed', method: 'onstart', instanceId: rentedId, error: failure.message})}\n`);
    io.stderr.write(`vastdeck: ${failure.message}\n`);
    if (abort.signal.aborted) return 130;
    return failure.code === 'bad-input' || failure.code === 'config' ? 2 : 1;
  } finally {
    abort.dispose();
    if (rentedId !== undefined && session.connection.mode === 'live') io.stderr.write(`vastdeck: ${stillBillingNote(rentedId)}\n`);
    await session.close();
  }
}

/** The image travels as a URL or as a path on the instance: a local file cannot fit in the instance's variables. */
function readOnstartSpec(flags: Flags): OnstartSpec {
  if (typeof flags.image === 'string') {
    throw new InputError('--onstart cannot ship a local --image (the job travels in the instance\'s variables): put the image at a URL and pass --image-url URL, or pass --image-remote /workspace/vastdeck/inputs/NAME for one shipped with the provisioning assets.');
  }
  const url = flags['image-url'];
  const remote = flags['image-remote'];
  if ((url === undefined) === (remote === undefined)) {
    throw new InputError('--onstart needs exactly one of --image-url URL (fetched by the instance) or --image-remote /workspace/vastdeck/inputs/NAME (shipped with the provisioning assets).');
  }
  const missing = (['workflow', 'prompt'] as const).filter(name => typeof flags[name] !== 'string' || flags[name] === '');
  if (missing.length > 0) {
    throw new InputError(`\`vastdeck run --onstart\` needs ${missing.map(name => `--${name}`).join(', ')}, e.g. vastdeck run --onstart --workflow img2img-sdxl --image-url https://example.org/cat.png --prompt 'a watercolor cat'.`);
  }
  const image: OnstartImage = typeof url === 'string' ? {url} : {path: String(remote)};
  // readSpec checks the settings; its local image path has no meaning here.
  const {imagePath: _unused, ...spec} = readSpec({...flags, image: '-'});
  return {...spec, image};
}

function readSpec(flags: Flags): JobSpec {
  const missing = (['workflow', 'image', 'prompt'] as const).filter(name => typeof flags[name] !== 'string' || flags[name] === '');
  if (missing.length > 0) {
    throw new InputError(`\`vastdeck run\` needs ${missing.map(name => `--${name}`).join(', ')}, e.g. vastdeck run --workflow img2img-sdxl --image cat.png --prompt 'a watercolor cat'.`);
  }
  const number = (name: string): number | undefined => (typeof flags[name] === 'number' ? (flags[name] as number) : undefined);
  return {
    workflow: String(flags.workflow),
    imagePath: String(flags.image),
    prompt: String(flags.prompt),
    negative: typeof flags.negative === 'string' ? flags.negative : undefined,
    seed: number('seed'),
    steps: number('steps'),
    cfg: number('cfg'),
    denoise: number('denoise'),
    width: number('width'),
    height: number('height'),
    frames: number('frames'),
  };
}

/** A running instance on the account whose ComfyUI answers, with its token (ours, or the platform's). */
async function readyInstance(session: Session, id: number): Promise<ReadyInstance> {
  const instance = (await listInstances(session.client)).find(candidate => candidate.id === id);
  if (!instance) throw new InputError(`Instance ${id} is not on this account (it may have been destroyed, or the id is wrong).`);
  const entry = session.ledger.findByInstanceId(session.apiOrigin, id);
  const token = entry?.webPassword ?? instance.jupyterToken ?? undefined;
  const comfyui = portalUrls(instance).comfyui;
  if (!comfyui || !token) throw new InputError(`Instance ${id} has no ComfyUI portal (or no token) yet: wait for it with \`vastdeck watch ${id}\`.`);
  const probe = await probeComfy(comfyui, token);
  if (!probe.ok) throw new InputError(`Instance ${id} is not READY (ComfyUI answered ${probe.status ?? 'nothing'}): wait for it with \`vastdeck watch ${id}\`.`);
  return {key: entry?.localId ?? `instance-${id}`, instanceId: id, gpuName: instance.gpuName, dphTotal: instance.dphTotal, comfyui, token};
}

/** Resolves when every job has ended; prints progress (stderr, throttled) or JSON progress events. */
function followJobs(queue: GenerationQueue, ids: string[], io: Io, json: boolean, signal: AbortSignal): Promise<Job[]> {
  return new Promise(resolve => {
    const last = new Map<string, {line: string; atMs: number}>();
    const check = (): void => {
      const jobs = queue.getSnapshot().jobs.filter(job => ids.includes(job.id));
      for (const job of jobs) {
        const line = progressLine(job);
        const previous = last.get(job.id);
        const stateChanged = previous?.line.split(':')[1]?.trim().split(' ')[0] !== job.state;
        if (line !== previous?.line && (stateChanged || Date.now() - (previous?.atMs ?? 0) > 1000)) {
          last.set(job.id, {line, atMs: Date.now()});
          if (json) io.stdout.write(`${JSON.stringify({event: 'progress', id: job.id, state: job.state, progress: job.progress})}\n`);
          else io.stderr.write(`${line}\n`);
        }
      }
      if (jobs.every(job => ['done', 'failed', 'cancelled'].includes(job.state))) {
        unsubscribe();
        resolve(jobs);
      }
    };
    const unsubscribe = queue.subscribe(check);
    signal.addEventListener('abort', () => ids.forEach(id => queue.cancel(id)), {once: true});
    check();
  });
}

function progressLine(job: Job): string {
  const progress = job.progress;
  const step = progress?.max ? ` ${progress.value ?? 0}/${progress.max}` : '';
  const node = progress?.nodeTitle ? ` ${progress.nodeTitle}` : '';
  const nodes = progress ? ` (node ${progress.nodesDone}/${progress.nodesTotal})` : '';
  return `job ${job.id}: ${job.state}${node}${step}${nodes}`;
}

