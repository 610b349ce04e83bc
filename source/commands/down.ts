// `vastdeck down <ID...> | --all [--any-install] [--force] [--json]`: reconciles, then for each
// instance runs the clean-up use case (outputs and logs home, verified, destroy, confirmed gone),
// printing every step. `--all` means this install's instances; another install's (same account,
// another laptop or teammate) are listed and left alone unless --any-install or named by id.
// Exit 0 when every one is gone, 1 when any is not, 2 for bad input, 130 when interrupted (rerun to resume).
import {tildePath} from '../core/credentials.js';
import {CleanupError, type CleanupStep} from '../core/cleanup/cleanup-state.js';
import type {CleanupResult} from '../core/cleanup/destroy.js';
import {InputError, toVastdeckError} from '../core/errors.js';
import {chooseCleanupTargets, cleanUpInstance, type CleanupTarget} from '../core/usecases/clean-up.js';
import type {DeckContext} from '../core/usecases/context.js';
import {reconcileAccount} from '../core/usecases/reconcile.js';
import {parseArgs} from './args.js';
import {withSession, type Io} from './command-io.js';
import {printReconcile} from './watching.js';

type Outcome = 'gone' | 'failed' | 'unknown' | 'interrupted';

export async function runDownCommand(argv: readonly string[], io: Io): Promise<number> {
  const {flags, positionals} = parseArgs('down', argv, {
    all: {kind: 'boolean'},
    'any-install': {kind: 'boolean'},
    force: {kind: 'boolean'},
    json: {kind: 'boolean'},
    demo: {kind: 'boolean'},
    live: {kind: 'boolean'},
  });
  const bad = positionals.find(text => !/^\d+$/.test(text) || !Number.isSafeInteger(Number(text)) || Number(text) === 0);
  if (bad !== undefined) throw new InputError(`\`vastdeck down\` takes instance ids (whole numbers), got '${bad}'.`);
  const ids = positionals.map(Number);
  if ((ids.length === 0) === (flags.all !== true)) throw new InputError('`vastdeck down` needs instance ids or --all (not both), e.g. `vastdeck down 31415926` or `vastdeck down --all`.');
  if (flags['any-install'] === true && flags.all !== true) throw new InputError('--any-install goes with --all (instances named by id are cleaned up whoever created them).');
  const json = flags.json === true;
  const force = flags.force === true;
  return withSession(io, flags, async ({ctx}, interrupt) => {
    const account = await reconcileAccount(ctx);
    printReconcile(io, account.messages.filter(message => !/another vastdeck install/.test(message.text)));
    const {targets, othersLeft} = chooseCleanupTargets(ctx, account.instances, flags.all === true ? 'all' : ids, {anyInstall: flags['any-install'] === true});
    if (othersLeft.length > 0) {
      const list = othersLeft.map(instance => `${instance.id} (${instance.label})`).join(', ');
      io.stderr.write(`vastdeck: left alone, another vastdeck install's: ${list}; they still bill this account — name them (\`vastdeck down ID\`) or add --any-install to clean them up too.\n`);
    }
    if (targets.length === 0) io.stderr.write("vastdeck: no instance of this install is on the account or in the ledger: nothing to destroy.\n");
    if (force && targets.length > 0) io.stderr.write('vastdeck: --force: destroying WITHOUT pulling outputs and logs home; whatever is not already saved is LOST.\n');
    const outcomes: Outcome[] = [];
    for (const target of targets) {
      if (interrupt.signal.aborted) break;
      outcomes.push(await downOne(ctx, target, {force, json, signal: interrupt.signal}, io));
    }
    if (outcomes.includes('interrupted') || interrupt.signal.aborted) return 130;
    if (outcomes.includes('failed')) return 1;
    return outcomes.includes('unknown') ? 2 : 0;
  });
}

async function downOne(ctx: DeckContext, target: CleanupTarget, options: {force: boolean; json: boolean; signal: AbortSignal}, io: Io): Promise<Outcome> {
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
    const result = await cleanUpInstance(ctx, {instanceId, ...(target.entry ? {entry: target.entry} : {})}, {
      force: options.force,
      signal: options.signal,
      onStep: (step: CleanupStep, message: string) => emit({event: 'step', step, message}, `  ${step.padEnd(16)}${message}`),
    });
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
