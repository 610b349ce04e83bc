// `vastdeck run --workflow W --image F --prompt P [...] [--instance ID | --up] [--down]`: the seed's
// whole flow from the shell, through the same use cases the dashboard uses — validate the job (before
// anything is rented), rent and watch to READY (--up), run the jobs on the generation queue, and with
// --down bring outputs and logs home, verified, destroy the instance and its storage and confirm it
// is gone. Interrupted (Ctrl-C), --down still cleans up unless --keep-on-interrupt. With --onstart the
// job travels inside a new instance instead (usecases/onstart.ts). Progress goes to stderr, output
// paths to stdout (or one JSON event per line with --json).
import type {JobSpec} from '../core/comfy/types.js';
import {InputError, exitCodeFor, toVastdeckError} from '../core/errors.js';
import type {OnstartImage} from '../core/onstart/job-env.js';
import type {AutostopOverrides} from '../core/provisioning/autostop.js';
import {parseSortKey} from '../core/offers/rank.js';
import {buildOfferSearch} from '../core/offers/search.js';
import type {ReadyInstance} from '../core/queue/generation-queue.js';
import type {Job} from '../core/queue/job-store.js';
import type {DeckContext} from '../core/usecases/context.js';
import {cleanUpInstance} from '../core/usecases/clean-up.js';
import {runOnstartJob, type OnstartSpec} from '../core/usecases/onstart.js';
import {cloudSpeed} from '../core/usecases/pace.js';
import {reconcileAccount} from '../core/usecases/reconcile.js';
import {rentAndWatch, type Rented} from '../core/usecases/rent.js';
import {readyInstance, runJobsOn} from '../core/usecases/run-jobs.js';
import {CapGuard, sessionSpendOf} from '../core/usecases/spend-guard.js';
import {validateJob} from '../core/usecases/validate.js';
import {AUTOSTOP_FLAGS, autostopFromFlags, parseArgs} from './args.js';
import {stillBillingNote, withSession, type Interrupt, type Io} from './command-io.js';
import {StagePrinter} from './stage-printer.js';
import {printingWatcher, printReconcile, printRentEvent} from './watching.js';

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
  down: {kind: 'boolean'},
  'keep-on-interrupt': {kind: 'boolean'},
  'max-spend': {kind: 'number', min: 0},
  'create-key': {kind: 'boolean'},
  json: {kind: 'boolean'},
  demo: {kind: 'boolean'},
  live: {kind: 'boolean'},
  onstart: {kind: 'boolean'},
  'image-url': {kind: 'string'},
  'image-remote': {kind: 'string'},
  ...AUTOSTOP_FLAGS,
} as const;

type Flags = Record<string, string | number | boolean | undefined>;

export async function runRunCommand(argv: readonly string[], io: Io): Promise<number> {
  const {flags, positionals} = parseArgs('run', argv, FLAGS);
  const filter = positionals.join(' ');
  const autostop = autostopFromFlags(flags);
  if (autostop && flags.instance !== undefined) throw new InputError('--no-autostop and --autostop-idle apply to an instance vastdeck creates: drop them with --instance ID (its watchdog was set when it was created).');
  if (flags.onstart === true) return runOnstartCommand(flags, filter, io);
  if (flags['image-url'] !== undefined || flags['image-remote'] !== undefined) {
    throw new InputError('--image-url and --image-remote belong to the OnStart method: add --onstart, or pass a local file with --image.');
  }
  const spec = readSpec(flags);
  if (flags.instance !== undefined && flags.up === true) throw new InputError('Use either --instance ID or --up, not both.');
  if (flags['keep-on-interrupt'] === true && flags.down !== true) throw new InputError('--keep-on-interrupt goes with --down (without --down the instance is kept anyway).');
  const count = typeof flags.count === 'number' ? flags.count : 1;
  const json = flags.json === true;
  return withSession(io, flags, async ({ctx}, interrupt) => {
    // Everything that can be checked here is checked before anything is rented.
    const valid = await validateJob(spec, {outputsRoot: ctx.outputsRoot(), count});
    const rentNew = flags.instance === undefined && (flags.up === true || ctx.mode === 'demo');
    if (flags.instance === undefined && !rentNew) throw new InputError('Say where to run: --instance ID (a READY instance on your account) or --up (rent one first).');
    const search = rentNew ? buildOfferSearch(filter, ctx.settings()) : undefined;
    printReconcile(io, (await reconcileAccount(ctx)).messages);
    // The session starts once the account was looked at: instances already there count from now on.
    const capUsd = typeof flags['max-spend'] === 'number' ? flags['max-spend'] : ctx.settings().policies.spendCapUsd;
    ctx.spend.beginSession('run', capUsd);
    const printer = new StagePrinter(json ? io.stdout : io.stderr, json, ctx.clock.now());
    const mission = new Mission(ctx, io, interrupt, {json, down: flags.down === true, keepOnInterrupt: flags['keep-on-interrupt'] === true, capUsd, autostop});
    try {
      const target = search ? await mission.rentReady(search, printer, flags['create-key'] === true) : await readyInstance(ctx, Number(flags.instance));
      if (!search) mission.instanceId = target?.instanceId;
      if (!target || mission.signal.aborted) return await mission.end(1);
      const jobs = await runJobsOn(ctx, target, {spec: valid.spec, count, signal: mission.signal, onUpdate: list => mission.progress(list)});
      return await mission.end(mission.report(jobs));
    } catch (error) {
      if (mission.instanceId === undefined) throw error;
      mission.fail(error);
      return await mission.end(exitCodeFor(error));
    } finally {
      mission.cap.stop();
      ctx.spend.endSession();
    }
  });
}

/** One `vastdeck run`: the instance it rented or used, and the cleanup it owes at the end. */
class Mission {
  instanceId: number | undefined;
  rented: Rented | undefined;
  /** The session's spend cap (--max-spend, else policies.spendCapUsd): when it is due, the jobs stop and the instance is cleaned up. */
  readonly cap: CapGuard;
  /** Aborted by Ctrl-C or by the cap. */
  readonly signal: AbortSignal;
  readonly #stop = new AbortController();
  readonly #last = new Map<string, {line: string; atMs: number}>();

  constructor(
    readonly ctx: DeckContext,
    readonly io: Io,
    readonly interrupt: Interrupt,
    readonly options: {json: boolean; down: boolean; keepOnInterrupt: boolean; capUsd: number; autostop?: AutostopOverrides},
  ) {
    interrupt.onRepeat = () => io.stderr.write('vastdeck: still stopping and cleaning up so that nothing keeps billing; press Ctrl-C once more to stop at once (the instance then keeps billing).\n');
    this.signal = AbortSignal.any([interrupt.signal, this.#stop.signal]);
    this.cap = new CapGuard({
      capUsd: options.capUsd,
      spend: () => sessionSpendOf(ctx),
      onDue: reason => {
        this.say(`${reason}: stopping the jobs and cleaning up.`);
        if (options.json) io.stdout.write(`${JSON.stringify({event: 'spend-cap', capUsd: options.capUsd, message: reason})}\n`);
        this.#stop.abort();
      },
    });
    this.cap.start();
  }

  /** The rent use case with the stage timeline printed; undefined when the instance did not become READY. */
  async rentReady(search: ReturnType<typeof buildOfferSearch>, printer: StagePrinter, createKey: boolean): Promise<ReadyInstance | undefined> {
    const watcher = printingWatcher(this.ctx, printer, this.io);
    const {rented, state} = await rentAndWatch(
      this.ctx,
      {offers: {search, sortKey: parseSortKey('cost')}, createKey, autostop: this.options.autostop, signal: this.signal, onEvent: event => printRentEvent(printer, event), beforeCreate: () => this.cap.checkRent()},
      async (entry, identity, signal) => {
        this.instanceId = entry.instanceId;
        return watcher.watch(entry, identity, signal);
      },
    );
    this.rented = rented;
    const outcome = watcher.last();
    await outcome?.watch.stop();
    if (state.stage !== 'READY') {
      if (!this.signal.aborted) {
        const why = state.failure ? `${state.failure.reason} — ${state.failure.suggestion}` : state.stage;
        this.say(`instance ${rented.instanceId} did not become READY: nothing was run (${why}).`);
      }
      return undefined;
    }
    const token = outcome?.watch.token();
    const comfyui = outcome?.watch.portal().comfyui;
    if (!token || !comfyui) {
      this.say(`instance ${rented.instanceId} has no portal URL or token: nothing was run.`);
      return undefined;
    }
    return {key: rented.ledgerEntry.localId, instanceId: rented.instanceId, gpuName: rented.offer.gpuName, dphTotal: rented.offer.dphTotal, comfyui, token, billing: this.ctx.spend.jobBilling(rented.instanceId)};
  }

  /** Progress on stderr (throttled), or JSON progress events. */
  progress(jobs: readonly Job[]): void {
    const now = Date.now();
    for (const job of jobs) {
      const line = progressLine(job);
      const previous = this.#last.get(job.id);
      const stateChanged = previous?.line.split(':')[1]?.trim().split(' ')[0] !== job.state;
      if (line === previous?.line || (!stateChanged && now - (previous?.atMs ?? 0) <= 1000)) continue;
      this.#last.set(job.id, {line, atMs: now});
      if (this.options.json) this.io.stdout.write(`${JSON.stringify({event: 'progress', id: job.id, state: job.state, progress: job.progress})}\n`);
      else this.io.stderr.write(`${line}\n`);
    }
  }

  /** Prints each job's outcome; the exit code of the jobs alone. */
  report(jobs: readonly Job[]): number {
    for (const job of jobs) {
      if (this.options.json) this.io.stdout.write(`${JSON.stringify({event: 'job', id: job.id, state: job.state, seed: job.seed, outputs: job.outputs, error: job.error})}\n`);
      else if (job.state === 'done') for (const path of job.outputs) this.io.stdout.write(`${path}\n`);
      else this.io.stderr.write(`vastdeck: job ${job.id} ${job.state}: ${job.error ?? 'no reason given'}\n`);
    }
    if (this.interrupt.signal.aborted) return 130;
    return jobs.every(job => job.state === 'done') && !this.cap.fired ? 0 : 1;
  }

  fail(error: unknown): void {
    this.say(toVastdeckError(error).message);
  }

  /** The cleanup the mission owes (--down, also after an interrupt unless --keep-on-interrupt), then the exit code. */
  async end(code: number): Promise<number> {
    const id = this.instanceId;
    this.cap.stop();
    const capped = this.cap.fired;
    if (id === undefined) return this.interrupt.signal.aborted ? 130 : capped ? 1 : code;
    const interrupted = this.interrupt.signal.aborted;
    // The cap cleans up with or without --down: stopping what bills is the point of it.
    const cleanUp = capped !== undefined || (this.options.down && !(interrupted && this.options.keepOnInterrupt));
    if (!cleanUp) {
      if (this.ctx.mode === 'live') this.say(stillBillingNote(id));
      else if (this.rented) this.say('demo mode — the simulated instance ends with this command.');
      return interrupted ? 130 : code;
    }
    if (interrupted) this.say(`interrupted: cleaning up instance ${id} (outputs and logs home, then destroy) so that nothing keeps billing.`);
    try {
      const result = await cleanUpInstance(this.ctx, {instanceId: id, ...(this.rented ? {entry: this.rented.ledgerEntry} : {})}, {
        signal: this.interrupt.hard,
        destroyDeadHost: true,
        onStep: (step, message) => {
          if (this.options.json) this.io.stdout.write(`${JSON.stringify({event: 'cleanup', instanceId: id, step, message})}\n`);
          else this.io.stderr.write(`  ${step.padEnd(16)}${message}\n`);
        },
      });
      const where = result.runDir ? ` Outputs and logs: ${result.runDir}.` : '';
      if (this.options.json) this.io.stdout.write(`${JSON.stringify({event: result.outcome, instanceId: id, runDir: result.runDir, volumesDeleted: result.volumesDeleted})}\n`);
      else this.say(`instance ${id} destroyed and confirmed gone: nothing bills any more.${where}`);
      if (capped) {
        const spent = sessionSpendOf(this.ctx).spentUsd;
        this.say(`stopped at the spend cap of $${this.options.capUsd.toFixed(2)}: this session spent $${spent.toFixed(4)} (\`vastdeck spend\` itemises it).`);
        return interrupted ? 130 : 1;
      }
      return interrupted ? 130 : code;
    } catch (error) {
      this.say(toVastdeckError(error).message);
      this.say(`instance ${id} was NOT destroyed: ${stillBillingNote(id)}`);
      return interrupted ? 130 : 1;
    }
  }

  say(text: string): void {
    this.io.stderr.write(`vastdeck: ${text}\n`);
  }
}

/** `run --onstart`: a new instance runs the job at boot; vastdeck only waits for its marker over SSH and collects. */
async function runOnstartCommand(flags: Flags, filter: string, io: Io): Promise<number> {
  const spec = readOnstartSpec(flags);
  if (flags.instance !== undefined) throw new InputError('--onstart runs the job at the boot of a new instance: drop --instance.');
  if (typeof flags.count === 'number' && flags.count > 1) throw new InputError('--onstart runs one job per instance: drop --count, or run the command once per seed.');
  const json = flags.json === true;
  return withSession(io, flags, async ({ctx}, interrupt) => {
    let rentedId: number | undefined;
    printReconcile(io, (await reconcileAccount(ctx)).messages);
    const capUsd = typeof flags['max-spend'] === 'number' ? flags['max-spend'] : ctx.settings().policies.spendCapUsd;
    ctx.spend.beginSession('run', capUsd);
    const stop = new AbortController();
    const cap = new CapGuard({capUsd, spend: () => sessionSpendOf(ctx), onDue: reason => {
      io.stderr.write(`vastdeck: ${reason}: stopping the job and destroying its instance.\n`);
      stop.abort();
    }});
    cap.start();
    try {
      const result = await runOnstartJob(ctx, {
        spec,
        offers: {search: buildOfferSearch(filter, ctx.settings()), sortKey: parseSortKey('cost')},
        createKey: flags['create-key'] === true,
        autostop: autostopFromFlags(flags),
        outputsRoot: ctx.outputsRoot(),
        // The simulated cloud runs `speed` times faster; live, speed is 1.
        pollMs: Math.max(250, 3000 / cloudSpeed(ctx)),
        listPollMs: Math.max(500, 5000 / cloudSpeed(ctx)),
        signal: AbortSignal.any([interrupt.signal, stop.signal]),
        beforeCreate: () => cap.checkRent(),
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
      if (cap.fired && rentedId !== undefined && !interrupt.signal.aborted) {
        try {
          await cleanUpInstance(ctx, {instanceId: rentedId}, {signal: interrupt.hard});
          io.stderr.write(`vastdeck: stopped at the spend cap of $${capUsd.toFixed(2)}: instance ${rentedId} destroyed and confirmed gone; this session spent $${sessionSpendOf(ctx).spentUsd.toFixed(4)}.\n`);
          rentedId = undefined;
          return 1;
        } catch (cleanupError) {
          io.stderr.write(`vastdeck: ${toVastdeckError(cleanupError).message}\n`);
          return 1;
        }
      }
      io.stderr.write(`vastdeck: ${failure.message}\n`);
      return interrupt.signal.aborted ? 130 : exitCodeFor(failure);
    } finally {
      cap.stop();
      ctx.spend.endSession();
      if (rentedId !== undefined && ctx.mode === 'live') io.stderr.write(`vastdeck: ${stillBillingNote(rentedId)}\n`);
    }
  });
}

/** The image travels as a URL or as a path on the instance: a local file cannot fit in the instance's variables. */
function readOnstartSpec(flags: Flags): OnstartSpec {
  if (typeof flags.image === 'string') {
    throw new InputError("--onstart cannot ship a local --image (the job travels in the instance's variables): put the image at a URL and pass --image-url URL, or pass --image-remote /workspace/vastdeck/inputs/NAME for one shipped with the provisioning assets.");
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

function progressLine(job: Job): string {
  const progress = job.progress;
  const step = progress?.max ? ` ${progress.value ?? 0}/${progress.max}` : '';
  const node = progress?.nodeTitle ? ` ${progress.nodeTitle}` : '';
  const nodes = progress ? ` (node ${progress.nodesDone}/${progress.nodesTotal})` : '';
  return `job ${job.id}: ${job.state}${node}${step}${nodes}`;
}
