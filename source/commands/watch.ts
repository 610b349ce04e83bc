// `vastdeck watch <ID>`: the original workflow's monitor_instance script. Watches an instance on
// the account until READY (exit 0) or FAILED (exit 1), printing the stage timeline or JSON events.
import {InputError} from '../core/errors.js';
import type {InstanceWatch} from '../core/instances/instance-watch.js';
import type {StageState} from '../core/instances/stages.js';
import type {LedgerInstance} from '../core/instances/types.js';
import {watchUntilSettled} from '../core/instances/watch-until.js';
import {findSshIdentity} from '../core/ssh/keys.js';
import {listInstances} from '../core/vast/instances-api.js';
import {parseArgs} from './args.js';
import {onInterrupt, reportFailure} from './command-io.js';
import {openSession} from './session.js';
import {StagePrinter} from './stage-printer.js';

interface Io {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

export async function runWatchCommand(argv: readonly string[], io: Io): Promise<number> {
  const {flags, positionals} = parseArgs('watch', argv, {json: {kind: 'boolean'}, 'show-token': {kind: 'boolean'}, demo: {kind: 'boolean'}, live: {kind: 'boolean'}});
  const id = Number(positionals[0]);
  if (positionals.length !== 1 || !Number.isInteger(id) || id <= 0) {
    throw new InputError('`vastdeck watch` needs one instance id, e.g. `vastdeck watch 31415926`.');
  }
  const session = await openSession({demo: flags.demo === true, live: flags.live === true, stderr: io.stderr});
  const abort = onInterrupt();
  try {
    const instance = (await listInstances(session.client)).find(candidate => candidate.id === id);
    if (!instance) throw new InputError(`Instance ${id} is not on this account (it may have been destroyed, or the id is wrong).`);
    const entry = session.ledger.findByInstanceId(session.apiOrigin, id) ?? session.ledger.adopt(session.apiOrigin, instance, 'watched with vastdeck watch');
    const printer = new StagePrinter(io.stdout, flags.json === true, entry.createdAtMs);
    const outcome = await watchUntilSettled({
      client: session.client,
      entry,
      apiOrigin: session.apiOrigin,
      identity: await findSshIdentity(),
      knownHosts: session.knownHosts,
      onStage: state => printer.stage(state),
      onProgress: state => printer.progress(state),
      onWarning: text => io.stderr.write(`vastdeck: ${text}\n`),
      signal: abort.signal,
    });
    const code = reportOutcome(outcome, entry, printer, io, flags['show-token'] === true);
    await outcome.watch.stop();
    return abort.signal.aborted ? 130 : code;
  } catch (error) {
    return reportFailure(error, io.stderr);
  } finally {
    abort.dispose();
    await session.close();
  }
}

export function stillBillingNote(instanceId: number | undefined): string {
  return `Instance ${instanceId ?? '?'} keeps running and billing until you destroy it (dashboard, or the Vast.ai console).`;
}

/** Prints READY/FAILED and returns the exit code (0 ready, 1 failed or still booting). */
export function reportOutcome(outcome: {state: StageState; watch: InstanceWatch}, entry: LedgerInstance, printer: StagePrinter, io: Io, showToken: boolean): number {
  const {state, watch} = outcome;
  const instanceId = entry.instanceId ?? 0;
  if (state.stage === 'READY') {
    const portal = watch.portal();
    printer.emit({event: 'ready', instanceId, comfyui: portal.comfyui, instancePortal: portal.instancePortal, secondsToReady: Math.round((state.sinceMs - entry.createdAtMs) / 1000)});
    const token = watch.token();
    if (showToken && token) io.stdout.write(`token: ${token}\n`);
    return 0;
  }
  if (state.stage === 'FAILED' && state.failure) {
    printer.emit({event: 'failed', instanceId, ...state.failure});
    io.stderr.write(`vastdeck: ${stillBillingNote(instanceId)}\n`);
    return 1;
  }
  return 1;
}
