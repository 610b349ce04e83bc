// The one table of key bindings. App's single input handler looks keys up here and dispatches the
// named command; the `?` help overlay and the status-bar hints are generated from the same rows,
// so what the screen says a key does is always what it does.
import type {Key} from 'ink';

export type Scope = 'global' | 'offers' | 'instances' | 'queue' | 'filter' | 'help';

export type Command =
  | 'app.quit'
  | 'pane.next'
  | 'pane.previous'
  | 'pane.offers'
  | 'pane.instances'
  | 'pane.queue'
  | 'help.open'
  | 'help.close'
  | 'help.down'
  | 'help.up'
  | 'offers.down'
  | 'offers.up'
  | 'offers.pageDown'
  | 'offers.pageUp'
  | 'offers.top'
  | 'offers.bottom'
  | 'offers.sort'
  | 'offers.filter'
  | 'offers.refresh'
  | 'filter.submit'
  | 'filter.cancel'
  | 'filter.left'
  | 'filter.right'
  | 'filter.home'
  | 'filter.end'
  | 'filter.backspace'
  | 'filter.clear'
  | 'filter.insert';

export interface Binding {
  /** How the keys are written in help, e.g. 'j/↓'. */
  keys: string;
  match(input: string, key: Key): boolean;
  command: Command;
  description: string;
  scope: Scope;
  /** Shown in the status bar's key hints (one short label; a pair of bindings shares one hint). */
  hint?: {keys: string; label: string};
  /** Works even while an editor or dialog captures the keyboard (Ctrl-C). */
  everywhere?: true;
}

/** Scopes registered by editors: while one is registered it takes the whole keyboard. */
export const CAPTURING_SCOPES: readonly Scope[] = ['filter'];

export const SCOPE_TITLES: Record<Scope, string> = {
  global: 'Everywhere',
  offers: 'Offers pane',
  instances: 'Instances pane',
  queue: 'Queue pane',
  filter: 'Filter editor',
  help: 'This help',
};

const plain = (input: string, key: Key): boolean => !key.ctrl && !key.meta;
const char = (...chars: string[]) => (input: string, key: Key): boolean => plain(input, key) && chars.includes(input);
const ctrl = (letter: string) => (input: string, key: Key): boolean => key.ctrl && input === letter;
/** Typed text: printable characters only (a paste arrives as one string). */
const printable = (input: string, key: Key): boolean => plain(input, key) && input.length > 0 && !/[\u0000-\u001F\u007F]/.test(input);

export const KEYMAP: readonly Binding[] = [
  {keys: 'Ctrl-C', match: ctrl('c'), command: 'app.quit', description: 'Quit vastdeck', scope: 'global', everywhere: true},
  {keys: 'q', match: char('q'), command: 'app.quit', description: 'Quit vastdeck', scope: 'global', hint: {keys: 'q', label: 'quit'}},
  {keys: 'Tab', match: (_input, key) => key.tab && !key.shift, command: 'pane.next', description: 'Focus the next pane', scope: 'global', hint: {keys: 'Tab', label: 'pane'}},
  {keys: 'Shift-Tab', match: (_input, key) => key.tab && key.shift, command: 'pane.previous', description: 'Focus the previous pane', scope: 'global'},
  {keys: '1', match: char('1'), command: 'pane.offers', description: 'Jump to the Offers pane', scope: 'global'},
  {keys: '2', match: char('2'), command: 'pane.instances', description: 'Jump to the Instances pane', scope: 'global'},
  {keys: '3', match: char('3'), command: 'pane.queue', description: 'Jump to the Queue pane', scope: 'global'},
  {keys: '?', match: char('?'), command: 'help.open', description: 'Show this help', scope: 'global', hint: {keys: '?', label: 'help'}},

  {keys: 'j/↓', match: (input, key) => key.downArrow || char('j')(input, key), command: 'offers.down', description: 'Select the next offer', scope: 'offers', hint: {keys: 'j/k', label: 'move'}},
  {keys: 'k/↑', match: (input, key) => key.upArrow || char('k')(input, key), command: 'offers.up', description: 'Select the previous offer', scope: 'offers'},
  {keys: 'PgDn', match: (_input, key) => key.pageDown, command: 'offers.pageDown', description: 'Page down', scope: 'offers'},
  {keys: 'PgUp', match: (_input, key) => key.pageUp, command: 'offers.pageUp', description: 'Page up', scope: 'offers'},
  {keys: 'g/Home', match: (input, key) => key.home || char('g')(input, key), command: 'offers.top', description: 'Jump to the first offer', scope: 'offers'},
  {keys: 'G/End', match: (input, key) => key.end || char('G')(input, key), command: 'offers.bottom', description: 'Jump to the last offer', scope: 'offers'},
  {keys: 's', match: char('s'), command: 'offers.sort', description: 'Sort by the next key (job cost, ETA, $/h, …)', scope: 'offers', hint: {keys: 's', label: 'sort'}},
  {keys: '/, f', match: char('/', 'f'), command: 'offers.filter', description: 'Edit the filter expression', scope: 'offers', hint: {keys: '/', label: 'filter'}},
  {keys: 'r', match: char('r'), command: 'offers.refresh', description: 'Refresh the offers now', scope: 'offers', hint: {keys: 'r', label: 'refresh'}},

  {keys: 'Enter', match: (_input, key) => key.return, command: 'filter.submit', description: 'Apply the filter', scope: 'filter', hint: {keys: 'Enter', label: 'apply'}},
  {keys: 'Esc', match: (_input, key) => key.escape, command: 'filter.cancel', description: 'Close the editor, keep the old filter', scope: 'filter', hint: {keys: 'Esc', label: 'cancel'}},
  {keys: '←', match: (_input, key) => key.leftArrow, command: 'filter.left', description: 'Move the cursor left', scope: 'filter'},
  {keys: '→', match: (_input, key) => key.rightArrow, command: 'filter.right', description: 'Move the cursor right', scope: 'filter'},
  {keys: 'Home/Ctrl-A', match: (input, key) => key.home || ctrl('a')(input, key), command: 'filter.home', description: 'Move to the start', scope: 'filter'},
  {keys: 'End/Ctrl-E', match: (input, key) => key.end || ctrl('e')(input, key), command: 'filter.end', description: 'Move to the end', scope: 'filter'},
  {keys: 'Backspace', match: (_input, key) => key.backspace || key.delete, command: 'filter.backspace', description: 'Delete the character before the cursor', scope: 'filter'},
  {keys: 'Ctrl-U', match: ctrl('u'), command: 'filter.clear', description: 'Clear the text', scope: 'filter', hint: {keys: 'Ctrl-U', label: 'clear'}},
  {keys: 'text', match: printable, command: 'filter.insert', description: 'Type, e.g. gpu=4090 dph<0.6 inet_down>500', scope: 'filter'},

  {keys: 'j/↓', match: (input, key) => key.downArrow || char('j')(input, key), command: 'help.down', description: 'Scroll down', scope: 'help', hint: {keys: 'j/k', label: 'scroll'}},
  {keys: 'k/↑', match: (input, key) => key.upArrow || char('k')(input, key), command: 'help.up', description: 'Scroll up', scope: 'help'},
  {keys: 'Esc, ?, q', match: (input, key) => key.escape || char('?', 'q')(input, key), command: 'help.close', description: 'Close the help', scope: 'help', hint: {keys: 'Esc', label: 'close'}},
];

/** The binding a key press triggers, trying `scopes` in order; Ctrl-C-style bindings always win. */
export function findBinding(input: string, key: Key, scopes: readonly Scope[]): Binding | undefined {
  const everywhere = KEYMAP.find(binding => binding.everywhere && binding.match(input, key));
  if (everywhere) return everywhere;
  for (const scope of scopes) {
    const binding = KEYMAP.find(candidate => candidate.scope === scope && candidate.match(input, key));
    if (binding) return binding;
  }
  return undefined;
}

/** Bindings grouped by scope, in table order, for the help overlay. */
export function bindingsByScope(): Array<{scope: Scope; title: string; bindings: Binding[]}> {
  const scopes = [...new Set(KEYMAP.map(binding => binding.scope))];
  return scopes.map(scope => ({scope, title: SCOPE_TITLES[scope], bindings: KEYMAP.filter(binding => binding.scope === scope)}));
}

/** Status-bar hints for the active scopes, in order. */
export function hintsFor(scopes: readonly Scope[]): Array<{keys: string; label: string}> {
  return scopes.flatMap(scope => KEYMAP.filter(binding => binding.scope === scope).flatMap(binding => (binding.hint ? [binding.hint] : [])));
}
