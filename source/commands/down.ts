// `vastdeck down <ID...> | --all [--force] [--json]`: for each instance, pull its outputs and logs
// home, verify them, destroy it and confirm it is gone (core/cleanup), printing every step. Exit 0
// when every one is gone, 1 when any is not, 2 for bad input, 130 when interrupted (rerun to resume).
import {tildePath} from '../core/credentials.js';
import {CleanupError, type CleanupStep} from '../core/cleanup/cleanup-state.js';
import {cleanUp, type CleanupResult} from '../core/cleanup/destroy.js';
import {InputError, toVastdeckError} from '../core/errors.js';
import {LABEL_PREFIX} from '../core/instances/create-body.js';
import type {LedgerInstance} from '../core/instances/types.js';
import {outputsRoot} from '../core/queue/paths.js';
import {listInstances} from '../core/vast/instances-api.js';
import {parseArgs} from './args.js';
import {onInterrupt, reportFailure} from './command-io.js';
import {openSession, type Session} from './session.js';

interface Io {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

type Outcome = 'gone' | 'failed' | 'unknown' | 'interrupted';

/** Ledger states whose instance may still exist (and bill). */
const MAYBE_BILLING = new Set(['creating', 'active', 'destroying']);

export async function runDownCommand(argv: readonly string[], io: Io): Promise<number> {
  const {flags, positionals} = parseArgs('down', argv, {all: {kind: 'boolean'}, force: {kind: 'boolean'}, json: {kind: 'boolean'}, demo: {kind: 'boolean'}, live: {kind: 'boolean'}});
  const bad = positionals.find(text => !/^\d+$/.test(text) || !Number.isSafeInteger(Number(text)) || Number(text) === 0);
  if (bad !== undefined) throw new InputError(`\`vastdeck down\` takes instance ids (whole numbers), got '${bad}'.`);
  const ids = positionals.map(Number);
  if ((ids.length === 0) === (flags.all !== true)) throw new InputError('`vastdeck down` needs instance ids or --all (not both), e.g. `vastdeck down 31415926` or `vastdeck down --all`.');
  const json = flags.json === true;
  const force = flags.force === true;
  const session = await openSession({demo: flags.demo === true, live: flags.live === true, stderr: io.stderr});
  const abort = onInterrupt();
  try {
    const targets = await chooseTargets(session, flags.all === true ? 'all' : ids);
    if (targets.length === 0) io.stderr.write('vastdeck: no vastdeck instance is on this account or in the ledger: nothing to destroy.\n');
    if (force && targets.length > 0) io.stderr.write('vastdeck: --force: destroying WITHOUT pulling outputs and logs home; whatever is not already saved is LOST.\n');
    const outcomes: Outcome[] = [];
    for (const target of targets) {
      if (abort.signal.aborted) break;
      outcomes.push(await downOne(session, target, {force, json, signal: abort.signal}, io));
    }
    if (outcomes.includes('interrupted') || abort.signal.aborted) return 130;
    if (outcomes.includes('failed')) return 1;
    return outcomes.includes('unknown') ? 2 : 0;
  } catch (error) {
    return reportFailure(error, io.stderr);
  } finally {
    abort.dispose();
    await session.close();
  }
}

interface Target {
  instanceId: number;
  entry?: LedgerInstance;
  /** False for an id neither the account nor the ledger knows. */
  known: boolean;
}

/** The given ids, or every vastdeck-labelled instance on the account plus ledger entries that may still bill. */
async function chooseTargets(session: Session, wanted: number[] | 'all'): Promise<Target[]> {
  const instances = await listInstances(session.client);
  const entries = session.ledger.forOrigin(session.apiOrigin);
  const entryOf = (instanceId: number): LedgerInstance | undefined => entries.find(entry => entry.instanceId === instanceId);
  if (wanted !== 'all') {
    return [...new Set(wanted)].map(instanceId => {
      const entry = entryOf(instanceId);
      return {instanceId, ...(entry ? {entry} : {}), known: entry !== undefined || instances.some(instance => instance.id === instanceId)};
    });
  }
  const ids = new Set([
    ...instances.filter(instance => instance.label?.startsWith(LABEL_PREFIX)).map(instance => instance.id),
    ...entries.filter(entry => MAYBE_BILLING.has(entry.state) && entry.instanceId !== undefined).map(entry => entry.instanceId!),
  ]);
  return [...ids].map(instanceId => {
    const entry = entryOf(instanceId);
    return {instanceId, ...(entry ? {entry} : {}), known: true};
  });
}

async function downOne(session: Session, target: Target, options: {force: boolean; json: boolean; signal: AbortSignal}, io: Io): Promise<Outcome> {
  const {instanceId} = target;
  const emit = (event: Record<string, unknown>, text: string): void => {
    io.stdout.write(options.json ? `${JSON.stringify({instanceId, ...event})}\n` : `${text}\n`);
  };
  if (!target.known) {
    const message = `Instance ${instanceId} is not on this account and vastdeck has no record of it: check the id in the dashboard or the Vast console (nothing was destroyed).`;
    if (options.json) emit({event: 'unknown', message}, message);
    io.stderr.write(`vastdeck: ${message}\n`);
    return 'unknown';
  }
  if (!options.json) io.stdout.write(`Instance ${instanceId}${target.entry ? ` (${target.entry.label})` : ''}:\n`);
  try {
    const result = await cleanUp(
      {
        client: session.client,
        ledger: session.ledger,
        apiOrigin: session.apiOrigin,
        knownHosts: session.knownHosts,
        outputsDir: outputsRoot(session.settings),
        onStep: (step: CleanupStep, message: string) => emit({event: 'step', step, message}, `  ${step.padEnd(16)}${message}`),
      },
      {instanceId, ...(target.entry ? {entry: target.entry} : {})},
      {force: options.force, signal: options.signal},
    );
    for (const warning of result.warnings) io.stderr.write(`vastdeck: ${warning}\n`);
    emit(resultEvent(result), resultText(result, options.force));
    return 'gone';
  } catch (error) {
    const failure = toVastdeckError(error);
    const reason = failure instanceof CleanupError ? failure.reason : failure.code;
    if (options.json) emit({event: 'failed', reason, message: failure.message}, failure.message);
    io.stderr.write(`vastdeck: ${failure.message}\n`);
    return reason === 'interrupted' ? 'interrupted' : 'failed';
  }
}

function resultEvent(result: CleanupResult): Record<string, unknown> {
  return {
    event: result.outcome,
    runDir: result.runDir,
    extracted: result.extracted,
    outputs: result.outputs,
    logs: result.logs,
    fetched: result.fetched.length,
    check: result.check,
    volumesDeleted: result.volumesDeleted,
    wasStopped: result.wasStopped,
  };
}

function resultText(result: CleanupResult, force: boolean): string {
  const where = result.runDir ? tildePath(result.runDir) : undefined;
  const stopped = result.wasStopped ? ' (it was stopped, billing storage until now)' : '';
  if (result.outcome === 'already-gone') return `Instance ${result.instanceId} was already gone: nothing bills.${where ? ` Files pulled earlier are in ${where}.` : ''}`;
  const files = result.extracted
    ? `${result.outputs.verified} output file${result.outputs.verified === 1 ? '' : 's'} verified in ${where}, ${result.outputs.safe} already home from the queue, ${result.logs} log${result.logs === 1 ? '' : 's'}`
    : force
      ? 'nothing was pulled home (--force)'
      : `its files were pulled home by an earlier run${where ? ` into ${where}` : ''}`;
  return `Instance ${result.instanceId} destroyed and confirmed gone${stopped}; ${files}.`;
}
