// `vastdeck up [FILTER...]`: the original workflow's create_and_monitor script. Reconciles, then
// runs the rent use case (checks → search → rank → create with fall-through → watch) and prints the
// stage timeline until READY (exit 0) or FAILED (exit 1). `up` is a session (core/money/sessions.ts):
// with a spend cap (--max-spend, else policies.spendCapUsd) that would be reached before the boot
// ends, it destroys the instance and exits 1.
import {parseSortKey} from '../core/offers/rank.js';
import {buildOfferSearch} from '../core/offers/search.js';
import {cleanUpInstance} from '../core/usecases/clean-up.js';
import {reconcileAccount} from '../core/usecases/reconcile.js';
import {rentAndWatch} from '../core/usecases/rent.js';
import {CapGuard, sessionSpendOf} from '../core/usecases/spend-guard.js';
import {toVastdeckError} from '../core/errors.js';
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
    'max-spend': {kind: 'number', min: 0},
    demo: {kind: 'boolean'},
    live: {kind: 'boolean'},
    ...AUTOSTOP_FLAGS,
  });
  const autostop = autostopFromFlags(flags);
  const sortKey = parseSortKey(typeof flags.sort === 'string' ? flags.sort : 'cost');
  return withSession(io, flags, async ({ctx}, interrupt) => {
    const search = buildOfferSearch(positionals.join(' '), ctx.settings());
    printReconcile(io, (await reconcileAccount(ctx)).messages);
    const capUsd = typeof flags['max-spend'] === 'number' ? flags['max-spend'] : ctx.settings().policies.spendCapUsd;
    ctx.spend.beginSession('up', capUsd);
    const stop = new AbortController();
    const cap = new CapGuard({capUsd, spend: () => sessionSpendOf(ctx), onDue: reason => {
      io.stderr.write(`vastdeck: ${reason}: destroying the instance.\n`);
      stop.abort();
    }});
    cap.start();
    const signal = AbortSignal.any([interrupt.signal, stop.signal]);
    const printer = new StagePrinter(io.stdout, flags.json === true, ctx.clock.now());
    const watcher = printingWatcher(ctx, printer, io);
    let rented;
    try {
      ({rented} = await rentAndWatch(ctx, {offers: {search, sortKey}, createKey: flags['create-key'] === true, autostop, signal, onEvent: event => printRentEvent(printer, event), beforeCreate: () => cap.checkRent()}, watcher.watch));
    } finally {
      cap.stop();
      ctx.spend.endSession();
    }
    const outcome = watcher.last()!;
    if (cap.fired && !interrupt.signal.aborted) {
      await outcome.watch.stop();
      try {
        await cleanUpInstance(ctx, {instanceId: rented.instanceId, entry: rented.ledgerEntry}, {signal: interrupt.hard});
      } catch (error) {
        io.stderr.write(`vastdeck: ${toVastdeckError(error).message}\nvastdeck: ${stillBillingNote(rented.instanceId)}\n`);
        return 1;
      }
      io.stderr.write(`vastdeck: stopped at the spend cap of $${capUsd.toFixed(2)}: instance ${rented.instanceId} destroyed and confirmed gone; this session spent $${sessionSpendOf(ctx).spentUsd.toFixed(4)}.\n`);
      return 1;
    }
    const code = reportOutcome(outcome, rented.ledgerEntry, printer, io, flags['show-token'] === true);
    await outcome.watch.stop();
    if (capUsd > 0 && code === 0 && ctx.mode === 'live') io.stderr.write(`vastdeck: the spend cap of $${capUsd.toFixed(2)} held while \`up\` ran; from now on the dashboard (policies.spendCapUsd) or \`vastdeck run --max-spend\` enforce a cap, nothing does while no vastdeck runs.\n`);
    if (interrupt.signal.aborted) {
      io.stderr.write(`vastdeck: stopped watching. ${stillBillingNote(rented.instanceId)}\n`);
      return 130;
    }
    if (ctx.mode === 'demo') io.stderr.write('vastdeck: demo mode — the simulated instance ends with this command.\n');
    return code;
  });
}
