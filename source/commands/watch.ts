// `vastdeck watch <ID>`: the original workflow's monitor_instance script. Reconciles, then watches an
// instance on the account until READY (exit 0) or FAILED (exit 1), printing the stage timeline or
// JSON events.
import {InputError} from '../core/errors.js';
import {findSshIdentity} from '../core/ssh/keys.js';
import {describeInstance} from '../core/ledger/ledger.js';
import {isOwnInstance} from '../core/usecases/clean-up.js';
import {reconcileAccount} from '../core/usecases/reconcile.js';
import {parseArgs} from './args.js';
import {withSession, type Io} from './command-io.js';
import {StagePrinter} from './stage-printer.js';
import {printReconcile, reportOutcome, watchCli} from './watching.js';

export async function runWatchCommand(argv: readonly string[], io: Io): Promise<number> {
  const {flags, positionals} = parseArgs('watch', argv, {json: {kind: 'boolean'}, 'show-token': {kind: 'boolean'}, demo: {kind: 'boolean'}, live: {kind: 'boolean'}});
  const id = Number(positionals[0]);
  if (positionals.length !== 1 || !Number.isInteger(id) || id <= 0) {
    throw new InputError('`vastdeck watch` needs one instance id, e.g. `vastdeck watch 31415926`.');
  }
  return withSession(io, flags, async ({ctx}, interrupt) => {
    const account = await reconcileAccount(ctx);
    printReconcile(io, account.messages);
    const instance = account.instances.find(candidate => candidate.id === id);
    if (!instance) throw new InputError(`Instance ${id} is not on this account (it may have been destroyed, or the id is wrong).`);
    // Another install's instance is watched, not adopted: this install never becomes its owner by looking.
    const entry = ctx.ledger.findByInstanceId(ctx.apiOrigin, id) ?? (isOwnInstance(ctx, instance) ? ctx.ledger.adopt(ctx.apiOrigin, instance, 'watched with vastdeck watch') : describeInstance(ctx.apiOrigin, instance));
    const printer = new StagePrinter(io.stdout, flags.json === true, entry.createdAtMs);
    const outcome = await watchCli(ctx, entry, await findSshIdentity(ctx.env), printer, io, interrupt.signal);
    const code = reportOutcome(outcome, entry, printer, io, flags['show-token'] === true);
    await outcome.watch.stop();
    return interrupt.signal.aborted ? 130 : code;
  });
}
