// `vastdeck up [FILTER...]`: the original workflow's create_and_monitor script. Searches with the
// same ranking as the dashboard, rents the best offer still available (falling through taken
// ones), then watches it until READY (exit 0) or FAILED (exit 1), printing the stage timeline.
import {InputError, toVastdeckError} from '../core/errors.js';
import {createFromRanking} from '../core/instances/create.js';
import {watchUntilSettled} from '../core/instances/watch-until.js';
import {costInputsFromSettings} from '../core/offers/cost.js';
import {parseSortKey, rankOffers} from '../core/offers/rank.js';
import {buildOfferSearch} from '../core/offers/search.js';
import {createVastdeckKey, findSshIdentity, NO_SSH_KEY_MESSAGE} from '../core/ssh/keys.js';
import {parseArgs} from './args.js';
import {openSession} from './session.js';
import {StagePrinter} from './stage-printer.js';
import {reportOutcome, stillBillingNote} from './watch.js';

interface Io {
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
  const session = await openSession({demo: flags.demo === true, live: flags.live === true, stderr: io.stderr});
  const abort = new AbortController();
  const onSignal = (): void => abort.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const search = buildOfferSearch(positionals.join(' '), session.settings);
    let identity = await findSshIdentity();
    if (!identity && flags['create-key'] === true) identity = await createVastdeckKey();
    if (!identity) throw new InputError(NO_SSH_KEY_MESSAGE);

    const offers = await session.client.searchOffers(search.query);
    const ranked = rankOffers(offers, costInputsFromSettings(session.settings.cost), sortKey);
    if (ranked.length === 0) throw new InputError(`No offer matches ${search.filterText}: loosen the filter.`);
    const printer = new StagePrinter(io.stdout, flags.json === true, Date.now());
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
      signal: abort.signal,
    });
    const code = reportOutcome(outcome, created.ledgerEntry, printer, io, flags['show-token'] === true);
    await outcome.watch.stop();
    if (abort.signal.aborted) {
      io.stderr.write(`vastdeck: stopped watching. ${stillBillingNote(created.instanceId)}\n`);
      return 130;
    }
    if (session.connection.mode === 'demo') io.stderr.write('vastdeck: demo mode — the simulated instance ends with this command.\n');
    return code;
  } catch (error) {
    const failure = toVastdeckError(error);
    io.stderr.write(`vastdeck: ${failure.message}\n`);
    return failure.code === 'bad-input' || failure.code === 'config' ? 2 : 1;
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    await session.close();
  }
}
