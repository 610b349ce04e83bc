// The live offer list behind the Offers pane: searches the whole market on an interval with the
// user's filter and sort key (market-search.ts), ranks by the whole-job cost by default (rank.ts),
// and marks what changed since the last refresh (new, changed, vanished) so the pane can show the
// market moving. Created by the deck facade; read by the UI.
import {toVastdeckError} from '../errors.js';
import {Model} from '../model.js';
import type {OffersController} from '../deck-types.js';
import type {VastdeckSettings} from '../settings.js';
import type {Offer} from '../vast/types.js';
import {parseFilterExpression, settingsToExpression, toVastQuery} from '../vast/query.js';
import {jobText} from './cost.js';
import {jobCostInputs} from './job-inputs.js';
import {searchMarket} from './market-search.js';
import {SORT_KEYS, sortRankedOffers} from './rank.js';
import type {CostInputs, OffersSnapshot, RankedOffer, RowChange, SortKey} from './types.js';

export interface OffersModelOptions {
  search: (query: Record<string, unknown>) => Promise<Offer[]>;
  /** Read on every refresh, so config changes apply at the next one. */
  settings: () => VastdeckSettings;
  refreshMs: number;
  /** One user-facing sentence for a failed search; defaults to toVastdeckError(error).message. */
  describeError?: (error: unknown) => string;
  /** The job the offers are priced for; defaults to config job.* with its workflow's manifest. */
  costInputs?: (settings: VastdeckSettings) => Promise<CostInputs>;
}

export class OffersModel extends Model<OffersSnapshot> implements OffersController {
  readonly #options: OffersModelOptions;
  #timer: NodeJS.Timeout | undefined;
  #inFlight: Promise<void> | undefined;
  /** Bumped by setFilter: an answer for an older filter is thrown away. */
  #filterGeneration = 0;
  /** False until the first good load, and again after a filter change: no marks then. */
  #markChanges = false;
  #everLoaded = false;

  constructor(options: OffersModelOptions) {
    super({
      status: 'loading',
      rows: [],
      sortKey: 'cost',
      filterText: settingsToExpression(options.settings().filters),
      refreshing: false,
    });
    this.#options = options;
  }

  /** Refresh now, then every refreshMs (the timer does not keep the process alive). */
  start(): void {
    if (this.#timer) return;
    void this.refreshNow();
    this.#timer = setInterval(() => void this.refreshNow(), this.#options.refreshMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /**
   * Start a refresh unless one is already running (then this call joins it). The promise settles
   * when the list matches the current filter; it never rejects (failures land in the snapshot).
   */
  refreshNow(): Promise<void> {
    this.#inFlight ??= this.#refreshUntilCurrent().finally(() => {
      this.#inFlight = undefined;
    });
    return this.#inFlight;
  }

  setFilter(text: string): string | undefined {
    try {
      parseFilterExpression(text);
    } catch (error) {
      return toVastdeckError(error).message;
    }
    this.#filterGeneration++;
    this.#markChanges = false;
    this.update(snapshot => ({...snapshot, filterText: text.trim()}));
    void this.refreshNow();
    return undefined;
  }

  cycleSort(): SortKey {
    const index = SORT_KEYS.findIndex(entry => entry.key === this.getSnapshot().sortKey);
    const next = SORT_KEYS[(index + 1) % SORT_KEYS.length]!.key;
    this.setSort(next);
    return next;
  }

  /**
   * Re-sorts the rows on screen at once, then searches again: the best offers by another key may
   * lie outside what the last search fetched. The new answer comes without change marks.
   */
  setSort(key: SortKey): void {
    this.update(snapshot => {
      const live = snapshot.rows.filter(row => row.change !== 'vanished');
      return {...snapshot, sortKey: key, rows: sortRankedOffers(live, key), exactRows: 0};
    });
    this.#filterGeneration++;
    this.#markChanges = false;
    void this.refreshNow();
  }

  async #refreshUntilCurrent(): Promise<void> {
    let generation: number;
    do {
      generation = this.#filterGeneration;
      await this.#refreshOnce(generation);
    } while (generation !== this.#filterGeneration);
  }

  async #refreshOnce(generation: number): Promise<void> {
    this.update(snapshot => ({...snapshot, refreshing: true}));
    const settings = this.#options.settings();
    try {
      const clauses = parseFilterExpression(this.getSnapshot().filterText);
      const query = toVastQuery(clauses, {limit: settings.searchLimit, allocatedStorageGb: settings.instance.diskGb});
      const inputs = await (this.#options.costInputs ?? jobCostInputs)(settings);
      const sortKey = this.getSnapshot().sortKey;
      const found = await searchMarket({search: this.#options.search, query, inputs, sortKey, limit: settings.searchLimit});
      if (generation !== this.#filterGeneration) return;
      this.update(snapshot => {
        const rows = this.#markChanges ? markChanges(snapshot.rows, found.rows) : found.rows;
        return {
          ...snapshot,
          status: 'ok',
          rows,
          error: undefined,
          updatedAtMs: Date.now(),
          refreshing: false,
          exactRows: found.exactRows,
          searchCalls: found.calls,
          jobText: jobText(inputs),
        };
      });
      this.#markChanges = true;
      this.#everLoaded = true;
    } catch (error) {
      if (generation !== this.#filterGeneration) return;
      const message = (this.#options.describeError ?? defaultDescribe)(error);
      this.update(snapshot => ({...snapshot, status: this.#everLoaded ? snapshot.status : 'error', error: message, refreshing: false}));
    }
  }
}

function defaultDescribe(error: unknown): string {
  return toVastdeckError(error).message;
}

const WATCHED_FIELDS = ['dphTotal', 'inetDownMbps', 'inetDownCostPerGb', 'reliability'] as const;

/**
 * Compare the new ranking with the rows on screen: unseen ids are 'new', ids whose price,
 * bandwidth, bandwidth price or reliability moved are 'changed', and rows that disappeared stay
 * one more refresh as 'vanished' (after the live rows, with the rank they last had).
 */
function markChanges(previous: readonly RankedOffer[], ranked: readonly RankedOffer[]): RankedOffer[] {
  const before = new Map(previous.filter(row => row.change !== 'vanished').map(row => [row.offer.id, row]));
  const liveIds = new Set(ranked.map(row => row.offer.id));
  const live = ranked.map(row => ({...row, change: changeOf(before.get(row.offer.id)?.offer, row.offer)}));
  const vanished = [...before.values()]
    .filter(row => !liveIds.has(row.offer.id))
    .sort((a, b) => a.rank - b.rank)
    .map(row => ({...row, change: 'vanished' as const}));
  return [...live, ...vanished];
}

function changeOf(old: Offer | undefined, current: Offer): RowChange {
  if (!old) return 'new';
  return WATCHED_FIELDS.some(field => old[field] !== current[field]) ? 'changed' : 'same';
}
