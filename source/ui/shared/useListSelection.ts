// List navigation, written once for the Offers, Instances and Queue lists: the selection follows
// an item (keyed-selection.ts), keys move it through `ListControls` (reading the latest list and
// selection, so "jjj" in one read moves three rows), and LIST_KEYS is the key table part that
// every list view includes.
import {useMemo, useRef} from 'react';
import type {KeyAction} from '../keys/key-table.js';
import {moveTo, resolveIndex, type KeyedSelection} from './keyed-selection.js';
import {useStateRef} from './useStateRef.js';

export interface ListControls {
  /** Move by `delta` rows (clamped to the list). */
  move(delta: number): void;
  /** Move by whole pages of the visible rows. */
  page(direction: 1 | -1): void;
  top(): void;
  bottom(): void;
}

export interface ListSelection<T> {
  selectedIndex: number;
  selected: T | undefined;
  controls: ListControls;
  /** The selected item as keys see it: the latest list and selection, before React re-renders. */
  current(): T | undefined;
  /** Select the first row (after a sort, the top of the new order). */
  reset(): void;
  /** Remember the item under the selection after the list moved (see useRememberSelection). */
  remember(): void;
}

interface ListOptions<T, K> {
  /** The list as drawn. */
  items: readonly T[];
  /** The latest list (the model's snapshot), read when a key arrives. */
  latest(): readonly T[];
  keyOf(item: T): K;
  /** Whether an item may keep the selection (a vanished offer may not). */
  holds?(item: T): boolean;
  /** Rows a page moves. */
  pageRows?: number;
  /** Called after every move (the Instances pane hides the portal secret). */
  onMove?(): void;
}

export function useListSelection<T, K>(options: ListOptions<T, K>): ListSelection<T> {
  const [selection, setSelection, selectionRef] = useStateRef<KeyedSelection<K>>({index: 0});
  const {items, keyOf, holds} = options;
  const selectedIndex = resolveIndex(items, selection, keyOf, holds);
  const selected = items[selectedIndex];
  const latestRef = useRef(options);
  latestRef.current = options;

  const controls = useMemo<ListControls>(() => {
    const go = (target: (index: number, count: number) => number) => {
      const {latest, keyOf: key, holds: keeps, onMove} = latestRef.current;
      setSelection(moveTo(latest(), selectionRef.current, key, target, keeps));
      onMove?.();
    };
    return {
      move: delta => go(index => index + delta),
      page: direction => go(index => index + direction * Math.max(1, latestRef.current.pageRows ?? 10)),
      top: () => go(() => 0),
      bottom: () => go((_index, count) => count - 1),
    };
  }, [setSelection, selectionRef]);

  return {
    selectedIndex,
    selected,
    controls,
    current: () => {
      const list = latestRef.current.latest();
      return list[resolveIndex(list, selectionRef.current, keyOf, holds)];
    },
    reset: () => {
      const first = latestRef.current.latest()[0];
      setSelection(first === undefined ? {index: 0} : {key: keyOf(first), index: 0});
    },
    remember: () => {
      const item = items[selectedIndex];
      // Keys that moved the selection after this render win: their render comes next.
      if (item === undefined || selectionRef.current !== selection) return;
      const key = keyOf(item);
      if (key !== selectionRef.current.key || selectedIndex !== selectionRef.current.index) setSelection({key, index: selectedIndex});
    },
  };
}

/** What a list view gives the list keys. */
export interface ListContext {
  list: ListControls;
}

/** The navigation keys of a list of `nouns` ('offers', 'instances', 'jobs'). */
export function listKeys(noun: string, nouns: string, options: {paging?: boolean} = {}): Array<KeyAction<ListContext>> {
  return [
    {keys: ['j', 'down'], label: 'move', hintKeys: 'j/k', help: `Select the next ${noun}`, run: context => context.list.move(1)},
    {keys: ['k', 'up'], help: `Select the previous ${noun}`, run: context => context.list.move(-1)},
    ...(options.paging
      ? [
          {keys: ['pagedown'], help: 'Page down', run: (context: ListContext) => context.list.page(1)},
          {keys: ['pageup'], help: 'Page up', run: (context: ListContext) => context.list.page(-1)},
        ]
      : []),
    {keys: ['g', 'home'], help: `Select the first of the ${nouns}`, run: context => context.list.top()},
    {keys: ['G', 'end'], help: `Select the last of the ${nouns}`, run: context => context.list.bottom()},
  ];
}
