// The account's credit balance for the status bar, refreshed slowly (once a minute): the
// balance changes by cents, and GET /users/current/ counts against the same rate limits.
import type {AccountSnapshot} from './deck-types.js';
import {toVastdeckError} from './errors.js';
import {Model} from './model.js';

export interface AccountSource {
  currentUser(): Promise<{email: string; balanceUsd: number}>;
}

export class AccountModel extends Model<AccountSnapshot> {
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly source: AccountSource,
    private readonly refreshMs = 60_000,
  ) {
    super({});
  }

  start(): void {
    if (this.#timer) return;
    void this.refresh();
    this.#timer = setInterval(() => void this.refresh(), this.refreshMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  async refresh(): Promise<void> {
    try {
      const user = await this.source.currentUser();
      this.update({balanceUsd: user.balanceUsd, email: user.email});
    } catch (error) {
      this.update(previous => ({...previous, error: toVastdeckError(error).message}));
    }
  }
}
