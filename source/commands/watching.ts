// How the subcommands watch an instance boot: the standalone watch (core/instances/watch-until.ts)
// printing the stage timeline through a StagePrinter, and the READY/FAILED report with its exit
// code. Used by `up`, `watch` and `run --up`.
import type {StageState} from '../core/instances/stages.js';
import type {LedgerInstance} from '../core/instances/types.js';
import {watchUntilSettled, type WatchOutcome} from '../core/instances/watch-until.js';
import type {SshIdentity} from '../core/ssh/keys.js';
import {heartbeatPace} from '../core/ssh/heartbeat.js';
import type {DeckContext} from '../core/usecases/context.js';
import {cloudSpeed} from '../core/usecases/pace.js';
import type {InstanceWatcher, RentEvent} from '../core/usecases/rent.js';
import {stillBillingNote, type Io} from './command-io.js';
import type {StagePrinter} from './stage-printer.js';

/** A watcher for the rent use case that prints each stage; `last` keeps the outcome for the report. */
export function printingWatcher(ctx: DeckContext, printer: StagePrinter, io: Io): {watch: InstanceWatcher; last: () => WatchOutcome | undefined} {
  let last: WatchOutcome | undefined;
  const watch = async (entry: LedgerInstance, identity: SshIdentity | undefined, signal?: AbortSignal): Promise<StageState> => {
    last = await watchCli(ctx, entry, identity, printer, io, signal);
    return last.state;
  };
  return {watch, last: () => last};
}

export async function watchCli(ctx: DeckContext, entry: LedgerInstance, identity: SshIdentity | undefined, printer: StagePrinter, io: Io, signal?: AbortSignal): Promise<WatchOutcome> {
  const outcome = await watchUntilSettled({
    client: ctx.client,
    entry,
    apiOrigin: ctx.apiOrigin,
    identity,
    knownHosts: ctx.knownHosts,
    pollMs: Math.max(250, 5000 / cloudSpeed(ctx)),
    heartbeatMs: heartbeatPace(ctx),
    now: () => ctx.clock.now(),
    onStage: state => printer.stage(state),
    onProgress: state => printer.progress(state),
    onWarning: text => io.stderr.write(`vastdeck: ${text}\n`),
    onList: (instances, provisionedBytes) => ctx.spend.observe(instances, id => (id === entry.instanceId && provisionedBytes > 0 ? provisionedBytes : undefined)),
    signal,
  });
  // Downloads the logs showed after the last list still count.
  if (entry.instanceId !== undefined) ctx.spend.noteProvisioned(entry.instanceId, outcome.watch.tracker.downloadedBytes);
  return outcome;
}

/** The rent use case's events as printed events. */
export function printRentEvent(printer: StagePrinter, event: RentEvent): void {
  if (event.kind === 'searching' || event.kind === 'ranked') return;
  printer.emit({event: event.kind, message: event.message, offerId: event.offerId, instanceId: event.instanceId});
}

/** Prints READY/FAILED and returns the exit code (0 ready, 1 failed or still booting). */
export function reportOutcome(outcome: WatchOutcome, entry: LedgerInstance, printer: StagePrinter, io: Io, showToken: boolean): number {
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

/** Reconcile notes on stderr (lost creates found, forgotten instances adopted, other installs). */
export function printReconcile(io: Io, messages: ReadonlyArray<{text: string}>): void {
  for (const message of messages) io.stderr.write(`vastdeck: ${message.text}\n`);
}
