// Rent: the one implementation of "check → search → rank → create with fall-through → watch to
// READY/FAILED", used by the dashboard's rent key, `vastdeck up`, `vastdeck run --up` and the
// OnStart method. Everything that can be checked locally is checked before the first API call
// that could cost money; every attempt is in the ledger before its create call leaves.
import {createFromRanking, type CreateEvent, type CreatedFromRanking} from '../instances/create.js';
import type {StageState} from '../instances/stages.js';
import type {LedgerInstance} from '../instances/types.js';
import {jobCostInputs} from '../offers/job-inputs.js';
import {searchMarket} from '../offers/market-search.js';
import type {OfferSearch} from '../offers/search.js';
import type {RankedOffer, SortKey} from '../offers/types.js';
import {InputError, VastdeckError} from '../errors.js';
import {withAutostopOverrides, type AutostopOverrides} from '../provisioning/autostop.js';
import type {SshIdentity} from '../ssh/keys.js';
import type {Offer} from '../vast/types.js';
import type {DeckContext} from './context.js';
import {checkRentReadiness} from './validate.js';

/** Where to rent: offers already ranked (the dashboard's selection first), or a search to run and rank. */
export type OfferSource = {candidates: readonly Offer[]} | {search: OfferSearch; sortKey: SortKey};

export type RentEvent = CreateEvent | {kind: 'searching'; message: string} | {kind: 'ranked'; message: string; offers: number};

export interface RentRequest {
  offers: OfferSource;
  /** Create ~/.ssh/vastdeck_ed25519 when the user has no key. */
  createKey?: boolean;
  /** The OnStart method's onstart and job variables. */
  body?: {onstart?: string; extraEnv?: Record<string, string>};
  /** An interrupt before the create call rents nothing; after it, the instance is returned (it bills). */
  signal?: AbortSignal;
  onEvent?: (event: RentEvent) => void;
  /** Runs after every local check passed and before the first create call (e.g. the spend cap). */
  beforeCreate?: () => void;
  /** `--no-autostop`, `--autostop-idle MIN`: this rent's watchdog differs from the settings. */
  autostop?: AutostopOverrides;
}

export interface Rented extends CreatedFromRanking {
  identity: SshIdentity;
}

/** Watches a created instance until READY or FAILED (the dashboard's fleet, or a standalone watch). */
export type InstanceWatcher = (entry: LedgerInstance, identity: SshIdentity, signal?: AbortSignal) => Promise<StageState>;

/** check → search → rank → create with fall-through. Resolves once the instance exists (it bills from then on). */
export async function rent(ctx: DeckContext, request: RentRequest): Promise<Rented> {
  const stored = ctx.settings();
  const settings = {...stored, autostop: withAutostopOverrides(stored.autostop, request.autostop)};
  const readiness = await checkRentReadiness(settings, {createKey: request.createKey, env: ctx.env, apiBase: ctx.client.baseUrl});
  const candidates = 'candidates' in request.offers ? request.offers.candidates : (await findOffers(ctx, request.offers.search, request.offers.sortKey, request.onEvent)).map(row => row.offer);
  if (candidates.length === 0) {
    throw new InputError('search' in request.offers ? `No offer matches ${request.offers.search.filterText}: loosen the filter.` : 'No offer is left to rent: pick one that is still on the market.');
  }
  request.beforeCreate?.();
  if (request.signal?.aborted) throw new VastdeckError('interrupted', 'Interrupted before renting: nothing was created.');
  const created = await createFromRanking(
    {
      client: ctx.client,
      ledger: ctx.ledger,
      settings,
      apiOrigin: ctx.apiOrigin,
      identity: readiness.identity,
      provisioning: readiness.provisioning,
      env: ctx.env,
      body: request.body,
      signal: request.signal,
      onEvent: request.onEvent,
    },
    candidates,
  );
  return {...created, identity: readiness.identity};
}

/** rent(), then the watcher until READY or FAILED (or the signal). */
export async function rentAndWatch(ctx: DeckContext, request: RentRequest, watcher: InstanceWatcher): Promise<{rented: Rented; state: StageState}> {
  const rented = await rent(ctx, request);
  const state = await watcher(rented.ledgerEntry, rented.identity, request.signal);
  return {rented, state};
}

/** The whole-market search and the ranking the Offers pane shows, best first. */
export async function findOffers(ctx: DeckContext, search: OfferSearch, sortKey: SortKey, onEvent?: RentRequest['onEvent']): Promise<RankedOffer[]> {
  onEvent?.({kind: 'searching', message: `Searching offers: ${search.filterText}`});
  const settings = ctx.settings();
  const found = await searchMarket({search: query => ctx.client.searchOffers(query), query: search.query, inputs: await jobCostInputs(settings), sortKey, limit: settings.searchLimit});
  const ranked = found.rows;
  onEvent?.({kind: 'ranked', message: `${ranked.length} offers match; renting the best one still available.`, offers: ranked.length});
  return ranked;
}
