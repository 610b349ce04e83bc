// List selection that follows an item rather than a row number: the selected offer, instance or
// job stays selected when the list re-sorts or refreshes, and falls back to the same row position
// when the item leaves. Shared by the Offers, Instances and Queue panes.

export interface KeyedSelection<K> {
  key?: K;
  index: number;
}

/**
 * The row of the selected item, else the remembered position clamped to the list (-1 when empty).
 * `holds` says whether an item may keep the selection (a vanished offer may not).
 */
export function resolveIndex<T, K>(items: readonly T[], selection: KeyedSelection<K>, keyOf: (item: T) => K, holds: (item: T) => boolean = () => true): number {
  if (items.length === 0) return -1;
  const found = items.findIndex(item => keyOf(item) === selection.key);
  if (found >= 0 && holds(items[found]!)) return found;
  return Math.min(Math.max(0, selection.index), items.length - 1);
}

/** The selection after moving to `target(current index, count)`, clamped to the list. */
export function moveTo<T, K>(
  items: readonly T[],
  selection: KeyedSelection<K>,
  keyOf: (item: T) => K,
  target: (index: number, count: number) => number,
  holds?: (item: T) => boolean,
): KeyedSelection<K> {
  if (items.length === 0) return selection;
  const index = Math.min(Math.max(0, target(resolveIndex(items, selection, keyOf, holds), items.length)), items.length - 1);
  return {key: keyOf(items[index]!), index};
}
