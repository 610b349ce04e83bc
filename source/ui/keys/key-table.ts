// Keys next to their actions (k9s' bindKeys/Hints model): each view declares one table of
// {keys, label, when, run}. The same table dispatches the keys, writes the status-bar hints (the
// actions with a label whose `when` holds) and the `?` help (every action), so what the screen
// says a key does is what it does. `run` gets the view's context: functions that read and change
// the view's state through refs, so several keys in one read each see the state the last one left.
import type {KeyPress} from './key-parser.js';

/** A key name as KeyPress.name has it, or 'text': any key that types something (letters, a paste). */
export type KeyName = string;

export interface KeyAction<C> {
  keys: readonly KeyName[];
  /** The status-bar hint ('move', 'sort'); actions without one appear only in the help. */
  label?: string;
  /** The keys the hint shows when not the first key's name ('j/k' for a pair of actions). */
  hintKeys?: string;
  /** What the help says it does. */
  help: string;
  /** The action exists only while this holds (checked at dispatch, for the hints and nowhere else). */
  when?: (context: C) => boolean;
  run: (context: C, key: KeyPress) => void;
  /** Destroys or loses something (it always asks first); the help marks it. */
  dangerous?: true;
  /** Works over every view, dialog and form (global table only): Ctrl-C, F1, X while counting down. */
  everywhere?: true;
  /**
   * It opens or closes a view, dialog or editor: keys that came in the same read wait until that
   * view has taken the keyboard, so "/gpu=RTX\r" types into the filter it opened.
   */
  switchesView?: true;
}

export interface KeyTable<C> {
  /** The help's heading for this table. */
  title: string;
  actions: ReadonlyArray<KeyAction<C>>;
}

const DISPLAY: Readonly<Record<string, string>> = {
  up: '↑',
  down: '↓',
  left: '←',
  right: '→',
  enter: 'Enter',
  escape: 'Esc',
  tab: 'Tab',
  backtab: 'Shift-Tab',
  backspace: 'Backspace',
  delete: 'Del',
  pageup: 'PgUp',
  pagedown: 'PgDn',
  home: 'Home',
  end: 'End',
  space: 'Space',
  text: 'text',
  f1: 'F1',
};

/** How a key name is written for people: 'Esc', '↓', 'Ctrl-C', 'j'. */
export function keyLabel(name: KeyName): string {
  const known = DISPLAY[name];
  if (known) return known;
  const modified = /^(ctrl|meta|shift)-(.+)$/.exec(name);
  if (modified) return `${modified[1]![0]!.toUpperCase()}${modified[1]!.slice(1)}-${keyLabel(modified[2]!)}`.replace(/^Ctrl-(\w)$/, (_whole, letter: string) => `Ctrl-${letter.toUpperCase()}`);
  return name;
}

/** The keys of an action as the help writes them: 'j/↓', 'Esc, ?, q'. */
export function keysLabel(keys: readonly KeyName[]): string {
  return keys.map(keyLabel).join('/');
}

export function matches(action: KeyAction<unknown>, key: KeyPress): boolean {
  if (action.keys.includes(key.name)) return true;
  return action.keys.includes('text') && key.text !== '';
}

/** The action `key` triggers in `table` for `context`, if any. */
export function findAction<C>(table: KeyTable<C>, context: C, key: KeyPress, filter: (action: KeyAction<C>) => boolean = () => true): KeyAction<C> | undefined {
  return table.actions.find(action => filter(action) && matches(action as KeyAction<unknown>, key) && (action.when?.(context) ?? true));
}

export interface Hint {
  keys: string;
  label: string;
}

/** The status-bar hints of `table` right now: labelled actions whose `when` holds. */
export function hintsOf<C>(table: KeyTable<C>, context: C, filter: (action: KeyAction<C>) => boolean = () => true): Hint[] {
  return table.actions.flatMap(action => (action.label && filter(action) && (action.when?.(context) ?? true) ? [{keys: action.hintKeys ?? keyLabel(action.keys[0] ?? ''), label: action.label}] : []));
}
