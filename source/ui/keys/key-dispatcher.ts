// Dispatches each key once, in order, to the key tables the mounted views registered:
//   1. the global table's `everywhere` actions (Ctrl-C, F1, X while an auto-destroy counts down);
//   2. else the top modal layer (a dialog, form, editor or overlay), which takes every other key;
//   3. else the active views, the latest registered first (the focused pane or its open detail);
//   4. else the rest of the global table (q, Tab, 1–3, ?, m …).
// After an action that opens or closes a view (`switchesView`), the keys behind it wait until a
// view registers or leaves (or a short timeout), so one read like "cy" or "/gpu=RTX\r" lands where
// the user meant. An action that throws is reported (onError), never a crash. No React here.
import type {KeyPress} from './key-parser.js';
import {findAction, hintsOf, type Hint, type KeyAction, type KeyTable} from './key-table.js';

export type LayerKind = 'global' | 'view' | 'modal';

export interface KeyLayer {
  table: KeyTable<unknown>;
  /** Read at dispatch time: the view's latest context. */
  context: {current: unknown};
  kind: LayerKind;
}

/** How long keys wait for a view that an action may not have opened after all. */
export const SWITCH_WAIT_MS = 150;

export class KeyDispatcher {
  #layers: KeyLayer[] = [];
  #queue: KeyPress[] = [];
  #waiting: NodeJS.Timeout | undefined;
  readonly #onError: (error: unknown) => void;
  readonly #onLayersChanged: () => void;

  constructor(options: {onError(error: unknown): void; onLayersChanged?(): void}) {
    this.#onError = options.onError;
    this.#onLayersChanged = options.onLayersChanged ?? (() => {});
  }

  register(layer: KeyLayer): () => void {
    this.#layers = [...this.#layers, layer];
    this.#changed();
    return () => {
      this.#layers = this.#layers.filter(entry => entry !== layer);
      this.#changed();
    };
  }

  push(keys: readonly KeyPress[]): void {
    this.#queue.push(...keys);
    this.#drain();
  }

  /**
   * The hints of whatever has the keyboard now, most specific first, one per label: a modal's own
   * and the global `everywhere` keys, else the active views' and the global keys.
   */
  hints(): Hint[] {
    const modal = this.#layers.findLast(layer => layer.kind === 'modal');
    const global = this.#layers.filter(layer => layer.kind === 'global');
    const hints = modal
      ? [...hintsOf(modal.table, modal.context.current), ...global.flatMap(layer => hintsOf(layer.table, layer.context.current, action => action.everywhere === true))]
      : [...this.#layers.filter(layer => layer.kind === 'view').reverse(), ...global].flatMap(layer => hintsOf(layer.table, layer.context.current));
    const seen = new Set<string>();
    return hints.filter(hint => !seen.has(hint.label) && Boolean(seen.add(hint.label)));
  }

  stop(): void {
    if (this.#waiting) clearTimeout(this.#waiting);
    this.#waiting = undefined;
    this.#queue = [];
  }

  #changed(): void {
    this.#onLayersChanged();
    this.#resume();
  }

  #resume(): void {
    if (!this.#waiting) return;
    clearTimeout(this.#waiting);
    this.#waiting = undefined;
    // Let the rest of the commit register its layers before the held keys go on.
    queueMicrotask(() => this.#drain());
  }

  #drain(): void {
    while (this.#queue.length > 0 && !this.#waiting) this.#dispatch(this.#queue.shift()!);
  }

  #run(action: KeyAction<unknown>, layer: KeyLayer, key: KeyPress): void {
    try {
      action.run(layer.context.current, key);
    } catch (error) {
      this.#onError(error);
    }
    if (action.switchesView && !this.#waiting) {
      this.#waiting = setTimeout(() => {
        this.#waiting = undefined;
        this.#drain();
      }, SWITCH_WAIT_MS);
      this.#waiting.unref?.();
    }
  }

  #dispatch(key: KeyPress): void {
    const layers = this.#layers;
    const global = layers.find(layer => layer.kind === 'global');
    const everywhere = global && findAction(global.table, global.context.current, key, action => action.everywhere === true);
    if (global && everywhere) return this.#run(everywhere, global, key);
    const modal = layers.findLast(layer => layer.kind === 'modal');
    if (modal) {
      const action = findAction(modal.table, modal.context.current, key);
      if (action) this.#run(action, modal, key);
      return;
    }
    for (const view of layers.filter(layer => layer.kind === 'view').reverse()) {
      const action = findAction(view.table, view.context.current, key);
      if (action) return this.#run(action, view, key);
    }
    const rest = global && findAction(global.table, global.context.current, key, action => !action.everywhere);
    if (global && rest) this.#run(rest, global, key);
  }
}
