// `vastdeck up [FILTER...]`: the original workflow's create_and_monitor script. Reconciles, then
// runs the rent use case (checks → search → rank → create with fall-through → watch) and prints the
// stage timeline until READY (exit 0) or FAILED (exit 1).
import {parseSortKey} from '../core/offers/rank.js';
import {buildOfferSearch} from '../core/offers/search.js';
import {reconcileAccount} from '../core/usecases/reconcile.js';
import {rentAndWatch} from '../core/usecases/rent.js';
import {AUTOSTOP_FLAGS, autostopFromFlags, parseArgs} from './args.js';
import {stillBillingNote, withSession, type Io} from './command-io.js';
import {StagePrinter} from './stage-printer.js';
import {printingWatcher, printReconcile, printRentEvent, reportOutcome} from './watching.js';

export async function runUpCommand(argv: readonly string[], io: Io): Promise<number> {
  const {flags, positionals} = parseArgs('up', argv, {
    json: {kind: 'boolean'},
    sort: {kind: 'string', short: 's'},
    'create-key': {kind: 'boolean'},
    'show-token': {kind: 'boolean'},
    demo: {kind: 'boolean'},
    live: {kind: 'boolean'},
    ...AUTOSTOP_FLAGS,
  });
  const autostop = autostopFromFlags(flags);
  const sortKey = parseSortKey(typeof flags.sort === 'string' ? flags.sort : 'cost');
  return withSession(io, flags, async ({ctx}, interrupt) => {
    const search = buildOfferSearch(positionals.join(' '), ctx.settings());
    printReconcile(io, (await reconcileAccount(ctx)).messages);
    const printer = new StagePrinter(io.stdout, flags.json === true, ctx.clock.now());
    const watcher = printingWatcher(ctx, printer, io);
    const {rented} = await rentAndWatch(ctx, {offers: {search, sortKey}, createKey: flags['create-key'] === true, autostop, signal: interrupt.signal, onEvent: event => printRentEvent(printer, event)}, watcher.watch);
    const outcome = watcher.last()!;
    const code = reportOutcome(outcome, rented.ledgerEntry, printer, io, flags['show-token'] === true);
    await outcome.watch.stop();
    if (interrupt.signal.aborted) {
      io.stderr.write(`vastdeck: stopped watching. ${stillBillingNote(rented.instanceId)}\n`);
      return 130;
    }
    if (ctx.mode === 'demo') io.stderr.write('vastdeck: demo mode — the simulated instance ends with this command.\n');
    return code;
  });
}
