// `vastdeck up [FILTER...]`: the original workflow's create_and_monitor script. Searches with the
// same ranking as the dashboard, rents the best offer still available (falling through taken
// ones), then watches it until READY (exit 0) or FAILED (exit 1), printing the stage timeline.
import {InputError} from '../core/errors.js';
import {createFromRanking} from '../core/instances/create.js';
import type {LedgerInstance} from '../core/instances/types.js';
import {watchUntilSettled, type WatchOutcome} from '../core/instances/watch-until.js';
import {openSettings} from '../core/config.js';
import type {SortKey} from '../core/offers/types.js';
import {jobCostInputs} from '../core/offers/job-inputs.js';
import {searchMarket} from '../core/offers/market-search.js';
import {parseSortKey} from '../core/offers/rank.js';
import {buildOfferSearch, type OfferSearch} from '../core/offers/search.js';
import {requireSshIdentity} from '../core/ssh/keys.js';
import {parseArgs} from './args.js';
import {onInterrupt, reportFailure} from './command-io.js';
import {openSession, type Session} from './session.js';
import {StagePrinter} from './stage-printer.js';
import {reportOutcome, stillBillingNote} from './watch.js';

export interface Io {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

export async function runUpCommand(argv: readonly string[], io: Io): Promise<number> {
  const {flags, positionals} = parseArgs('up', argv, {
    json: {kind: 'boolean'},
    sort: {kind: 'string', short: 's'},
    'create-key': {kind: 'boolean'},
    'show-token': {kind: 'boolean'},
    demo: {kind: 'boolean'},
    live: {kind: 'boolean'},
  });
  const sortKey = parseSortKey(typeof flags.sort === 'string' ? flags.sort : 'cost');
  const search = buildOfferSearch(positionals.join(' '), openSettings().all());
  const session = await openSession({demo: flags.demo === true, live: flags.live === true, stderr: io.stderr});
  const abort = onInterrupt();
  try {
    const printer = new StagePrinter(io.stdout, flags.json === true, Date.now());
    const rented = await rentAndWatch(session, {search, sortKey, createKey: flags['create-key'] === true, printer, io, signal: abort.signal});
    const code = reportOutcome(rented.outcome, rented.entry, printer, io, flags['show-token'] === true);
    await rented.outcome.watch.stop();
    if (abort.signal.aborted) {
      io.stderr.write(`vastdeck: stopped watching. ${stillBillingNote(rented.entry.instanceId)}\n`);
      return 130;
    }
    if (session.connection.mode === 'demo') io.stderr.write('vastdeck: demo mode — the simulated instance ends with this command.\n');
    return code;
  } catch (error) {
    return reportFailure(error, io.stderr);
  } finally {
    abort.dispose();
    await session.close();
  }
}

export interface RentOptions {
  search: OfferSearch;
  sortKey: SortKey;
  createKey: boolean;
  printer: StagePrinter;
  io: Io;
  signal: AbortSignal;
}

/** Search, rent the best offer still available, and watch it until READY or FAILED (also used by `vastdeck run --up`). */
export async function rentAndWatch(session: Session, options: RentOptions): Promise<{entry: LedgerInstance; outcome: WatchOutcome}> {
  const {printer, io} = options;
  const identity = await requireSshIdentity({createKey: options.createKey === true});
  const inputs = await jobCostInputs(session.settings);
  const {rows: ranked} = await searchMarket({search: query => session.client.searchOffers(query), query: options.search.query, inputs, sortKey: options.sortKey, limit: session.settings.searchLimit});
  if (ranked.length === 0) throw new InputError(`No offer matches ${options.search.filterText}: loosen the filter.`);
  const created = await createFromRanking(
    {
      client: session.client,
      ledger: session.ledger,
      settings: session.settings,
      apiOrigin: session.apiOrigin,
      identity,
      onEvent: event => printer.emit({event: event.kind, message: event.message, offerId: event.offerId, instanceId: event.instanceId}),
    },
    ranked.map(row => row.offer),
  );
  const outcome = await watchUntilSettled({
    client: session.client,
    entry: created.ledgerEntry,
    apiOrigin: session.apiOrigin,
    identity,
    knownHosts: session.knownHosts,
    onStage: state => printer.stage(state),
    onProgress: state => printer.progress(state),
    onWarning: text => io.stderr.write(`vastdeck: ${text}\n`),
    signal: options.signal,
  });
  return {entry: created.ledgerEntry, outcome};
}
