// The dashboard's money line: what the account burns per hour (every instance on it), what this
// session has spent (core/money/sessions.ts) against its cap, what this install's ledger has spent
// all time, the account's own balance as the ground truth beside them, and how long that balance
// lasts at the current burn. Re-evaluated once a second from the spend book (billing records kept
// up to date by every instance list), on the cloud's clock.
import type {AccountSnapshot, ModelView} from '../deck-types.js';
import {alignedInterval} from '../clock.js';
import {Model} from '../model.js';
import type {SpendBook} from './spend-book.js';

export interface MoneySnapshot {
  /** $/h the whole account bills now. */
  burnUsdPerHour: number;
  /** This session's spend and what its instances bill per hour. */
  sessionUsd: number;
  sessionBurnUsdPerHour: number;
  /** policies.spendCapUsd; 0 = no cap. */
  capUsd: number;
  /** Every instance in this install's ledger (this API). */
  allTimeUsd: number;
  /** The account's credit balance, when known. */
  balanceUsd?: number;
  /** Hours until the balance is used up at the current burn (undefined without a balance or a burn). */
  runwayHours?: number;
  /** False until the account's instances were listed once. */
  known: boolean;
}

export interface MoneyDeps {
  spend: SpendBook;
  account: ModelView<AccountSnapshot>;
  capUsd: () => number;
  /** Evaluation interval (1 s); tests call tick() themselves. */
  tickMs?: number;
}

export class MoneyModel extends Model<MoneySnapshot> {
  readonly #deps: MoneyDeps;
  #stopTimer: (() => void) | undefined;

  constructor(deps: MoneyDeps) {
    super({burnUsdPerHour: 0, sessionUsd: 0, sessionBurnUsdPerHour: 0, capUsd: deps.capUsd(), allTimeUsd: 0, known: false});
    this.#deps = deps;
  }

  start(): void {
    if (this.#stopTimer) return;
    this.tick();
    this.#stopTimer = alignedInterval(this.#deps.tickMs ?? 1000, () => this.tick());
  }

  stop(): void {
    this.#stopTimer?.();
    this.#stopTimer = undefined;
  }

  tick(): void {
    const summary = this.#deps.spend.summary();
    const balanceUsd = this.#deps.account.getSnapshot().balanceUsd;
    const round = (usd: number): number => Math.round(usd * 1_000_000) / 1_000_000;
    const next: MoneySnapshot = {
      burnUsdPerHour: round(summary.burnUsdPerHour),
      sessionUsd: round(summary.session?.spentUsd ?? 0),
      sessionBurnUsdPerHour: round(summary.session?.burnUsdPerHour ?? 0),
      capUsd: this.#deps.capUsd(),
      allTimeUsd: round(summary.allTimeUsd),
      ...(balanceUsd === undefined ? {} : {balanceUsd}),
      ...(balanceUsd !== undefined && summary.burnUsdPerHour > 0 ? {runwayHours: Math.round((Math.max(0, balanceUsd) / summary.burnUsdPerHour) * 100) / 100} : {}),
      known: summary.listed,
    };
    if (JSON.stringify(next) !== JSON.stringify(this.getSnapshot())) this.update(next);
  }
}
