// What the dashboard (source/ui) sees of the service layer. The UI reads these models through
// useSyncExternalStore and calls their actions; it never touches got, ssh2, ws or fs.
import type {OffersSnapshot, SortKey} from './offers/types.js';

export interface ModelView<T> {
  subscribe(listener: () => void): () => void;
  getSnapshot(): T;
}

export interface OffersController extends ModelView<OffersSnapshot> {
  /** Apply a filter expression; returns one user-facing sentence if it is invalid (nothing changes then). */
  setFilter(text: string): string | undefined;
  /** Move to the next sort key and return it. */
  cycleSort(): SortKey;
  setSort(key: SortKey): void;
  /** Refresh now instead of waiting for the interval. */
  refreshNow(): void;
}

export interface AccountSnapshot {
  /** Credit balance in $ when known. */
  balanceUsd?: number;
  email?: string;
  error?: string;
}

export type MessageLevel = 'info' | 'warn' | 'error';

export interface MessageSnapshot {
  /** Latest message for the status line; undefined when there is none. */
  current?: {text: string; level: MessageLevel; atMs: number};
}

export interface DeckView {
  mode: 'demo' | 'live';
  /** One line saying where we are connected, e.g. "simulated Vast.ai cloud on 127.0.0.1:40123". */
  modeDetail: string;
  offers: OffersController;
  account: ModelView<AccountSnapshot>;
  messages: ModelView<MessageSnapshot>;
  notify(text: string, level?: MessageLevel): void;
}
