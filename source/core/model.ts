// Base for the framework-free models the UI reads through useSyncExternalStore.
// A model keeps an immutable snapshot; `update` replaces it and schedules one notification.
// Notifications are batched: listeners hear at most `maxHz` times a second (10 by default),
// however often the model changes, so a burst of log lines or offer updates costs one render.

export type Listener = () => void;

export class Model<T> {
  #snapshot: T;
  #listeners = new Set<Listener>();
  #timer: NodeJS.Timeout | undefined;
  #lastNotifyMs = 0;
  readonly #minIntervalMs: number;

  constructor(initial: T, options: {maxHz?: number} = {}) {
    this.#snapshot = initial;
    this.#minIntervalMs = 1000 / (options.maxHz ?? 10);
  }

  subscribe = (listener: Listener): (() => void) => {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  };

  getSnapshot = (): T => this.#snapshot;

  /** Replaces the snapshot; the same snapshot again is no change, and notifies nobody. */
  protected update(next: T | ((previous: T) => T)): void {
    const snapshot = typeof next === 'function' ? (next as (previous: T) => T)(this.#snapshot) : next;
    if (snapshot === this.#snapshot) return;
    this.#snapshot = snapshot;
    this.#schedule();
  }

  /** Deliver any pending notification now (tests, shutdown). */
  flush(): void {
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    this.#notify();
  }

  #schedule(): void {
    if (this.#timer) return;
    const wait = Math.max(0, this.#lastNotifyMs + this.#minIntervalMs - Date.now());
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#notify();
    }, wait);
    this.#timer.unref?.();
  }

  #notify(): void {
    this.#lastNotifyMs = Date.now();
    for (const listener of [...this.#listeners]) listener();
  }
}
