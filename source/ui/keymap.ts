// The one table of key bindings. App's single input handler looks keys up here and dispatches the
// named command; the `?` help overlay and the status-bar hints are generated from the same rows,
// so what the screen says a key does is always what it does.
import type {Key} from 'ink';

export type Scope =
  | 'global'
  | 'offers'
  | 'instances'
  | 'log'
  | 'queue'
  | 'job'
  | 'filter'
  | 'logFilter'
  | 'jobForm'
  | 'typedConfirm'
  | 'editor'
  | 'dialog'
  | 'help';

export type Command =
  | 'app.quit'
  | 'pane.next'
  | 'pane.previous'
  | 'pane.offers'
  | 'pane.instances'
  | 'pane.queue'
  | 'policy.cancelCountdown'
  | 'policy.toggleDrained'
  | 'help.open'
  | 'help.close'
  | 'help.down'
  | 'help.up'
  | 'help.pageDown'
  | 'help.pageUp'
  | 'offers.down'
  | 'offers.up'
  | 'offers.pageDown'
  | 'offers.pageUp'
  | 'offers.top'
  | 'offers.bottom'
  | 'offers.sort'
  | 'offers.filter'
  | 'offers.refresh'
  | 'offers.rent'
  | 'offers.onstart'
  | 'instances.down'
  | 'instances.up'
  | 'instances.top'
  | 'instances.bottom'
  | 'instances.open'
  | 'instances.portal'
  | 'instances.copyToken'
  | 'instances.openPortal'
  | 'instances.next'
  | 'instances.previous'
  | 'instances.createKey'
  | 'instances.destroy'
  | 'instances.destroyAll'
  | 'queue.down'
  | 'queue.up'
  | 'queue.top'
  | 'queue.bottom'
  | 'queue.add'
  | 'queue.cancel'
  | 'queue.retry'
  | 'queue.open'
  | 'queue.outputs'
  | 'queue.clear'
  | 'job.back'
  | 'job.down'
  | 'job.up'
  | 'log.back'
  | 'log.down'
  | 'log.up'
  | 'log.pageDown'
  | 'log.pageUp'
  | 'log.top'
  | 'log.follow'
  | 'log.filter'
  | 'log.wrap'
  | 'log.tags'
  | 'log.save'
  | 'filter.submit'
  | 'filter.cancel'
  | 'logFilter.done'
  | 'logFilter.clear'
  | 'jobForm.next'
  | 'jobForm.previous'
  | 'jobForm.tab'
  | 'jobForm.left'
  | 'jobForm.right'
  | 'jobForm.enter'
  | 'jobForm.cancel'
  | 'typedConfirm.submit'
  | 'typedConfirm.cancel'
  | 'edit.left'
  | 'edit.right'
  | 'edit.home'
  | 'edit.end'
  | 'edit.backspace'
  | 'edit.clear'
  | 'edit.insert'
  | 'dialog.next'
  | 'dialog.previous'
  | 'dialog.choose'
  | 'dialog.cancel'
  | 'dialog.letter';

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
  /** Destroys or loses something (it always asks first); the help marks it. */
  dangerous?: true;
}

/**
 * Scopes registered by dialogs and editors: while one is registered it takes the whole keyboard
 * (the first registered one in this order wins). The editors also get the shared 'editor' keys.
 */
export const CAPTURING_SCOPES: readonly Scope[] = ['dialog', 'typedConfirm', 'jobForm', 'filter', 'logFilter'];
export const EDITOR_SCOPES: readonly Scope[] = ['typedConfirm', 'jobForm', 'filter', 'logFilter'];

export const SCOPE_TITLES: Record<Scope, string> = {
  global: 'Everywhere',
  offers: 'Offers pane',
  instances: 'Instances pane',
  log: 'Instance stages and log (Enter on an instance)',
  queue: 'Queue pane',
  job: 'Job detail (Enter on a job)',
  filter: 'Offer filter editor',
  logFilter: 'Log filter editor',
  jobForm: 'Add-job form (a in the Queue pane; O in Offers for an OnStart job)',
  typedConfirm: 'Destroy-all confirmation (type destroy)',
  editor: 'Every text field (filters, add-job form, confirmation)',
  dialog: 'Confirm dialogs (Cancel is highlighted first)',
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
  {keys: 'X', match: char('X'), command: 'policy.cancelCountdown', description: 'Cancel the auto-destroy countdown', scope: 'global'},
  {keys: 'A', match: char('A'), command: 'policy.toggleDrained', description: 'Destroy instances once the queue is empty: on/off', scope: 'global'},
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
  {keys: 'c', match: char('c'), command: 'offers.rent', description: 'Rent the selected offer (asks first)', scope: 'offers', hint: {keys: 'c', label: 'rent'}},
  {keys: 'O', match: char('O'), command: 'offers.onstart', description: 'Rent with an OnStart job (runs at boot, no polling)', scope: 'offers'},

  {keys: 'j/↓', match: (input, key) => key.downArrow || char('j')(input, key), command: 'instances.down', description: 'Select the next instance', scope: 'instances', hint: {keys: 'j/k', label: 'move'}},
  {keys: 'k/↑', match: (input, key) => key.upArrow || char('k')(input, key), command: 'instances.up', description: 'Select the previous instance', scope: 'instances'},
  {keys: 'g/Home', match: (input, key) => key.home || char('g')(input, key), command: 'instances.top', description: 'Select the first instance', scope: 'instances'},
  {keys: 'G/End', match: (input, key) => key.end || char('G')(input, key), command: 'instances.bottom', description: 'Select the last instance', scope: 'instances'},
  {keys: 'Enter, l', match: (input, key) => key.return || char('l')(input, key), command: 'instances.open', description: "Open the instance's stages and live log", scope: 'instances', hint: {keys: 'Enter', label: 'log'}},
  {keys: 'p', match: char('p'), command: 'instances.portal', description: 'Show or hide the portal URLs and token (secret)', scope: 'instances', hint: {keys: 'p', label: 'portal'}},
  {keys: 'y', match: char('y'), command: 'instances.copyToken', description: 'Copy the portal token to the clipboard (OSC 52)', scope: 'instances'},
  {keys: 'o', match: char('o'), command: 'instances.openPortal', description: 'Open ComfyUI in the browser (log in with the token)', scope: 'instances'},
  {keys: 'K', match: char('K'), command: 'instances.createKey', description: 'No SSH key yet: create ~/.ssh/vastdeck_ed25519 (asks)', scope: 'instances'},
  {keys: 'd', match: char('d'), command: 'instances.destroy', description: 'Destroy the instance (brings outputs home first)', scope: 'instances', hint: {keys: 'd', label: 'destroy'}, dangerous: true},
  {keys: 'D', match: char('D'), command: 'instances.destroyAll', description: 'Destroy ALL instances (type destroy to confirm)', scope: 'instances', dangerous: true},

  {keys: 'j/↓', match: (input, key) => key.downArrow || char('j')(input, key), command: 'queue.down', description: 'Select the next job', scope: 'queue', hint: {keys: 'j/k', label: 'move'}},
  {keys: 'k/↑', match: (input, key) => key.upArrow || char('k')(input, key), command: 'queue.up', description: 'Select the previous job', scope: 'queue'},
  {keys: 'g/Home', match: (input, key) => key.home || char('g')(input, key), command: 'queue.top', description: 'Select the first job', scope: 'queue'},
  {keys: 'G/End', match: (input, key) => key.end || char('G')(input, key), command: 'queue.bottom', description: 'Select the last job', scope: 'queue'},
  {keys: 'a', match: char('a'), command: 'queue.add', description: 'Add a job: image, prompt, workflow, settings', scope: 'queue', hint: {keys: 'a', label: 'add'}},
  {keys: 'Enter', match: (_input, key) => key.return, command: 'queue.open', description: 'Job detail: nodes, settings, timings, outputs', scope: 'queue', hint: {keys: 'Enter', label: 'detail'}},
  {keys: 'o', match: char('o'), command: 'queue.outputs', description: "Open the job's output folder and show its path", scope: 'queue', hint: {keys: 'o', label: 'outputs'}},
  {keys: 'r', match: char('r'), command: 'queue.retry', description: 'Retry the selected failed or cancelled job', scope: 'queue', hint: {keys: 'r', label: 'retry'}},
  {keys: 'x', match: char('x'), command: 'queue.cancel', description: 'Cancel the selected job (asks when it is running)', scope: 'queue', hint: {keys: 'x', label: 'cancel'}, dangerous: true},
  {keys: 'C', match: char('C'), command: 'queue.clear', description: 'Clear done/cancelled jobs (outputs stay on disk)', scope: 'queue'},

  {keys: 'Esc', match: (_input, key) => key.escape, command: 'job.back', description: 'Back to the job list', scope: 'job', hint: {keys: 'Esc', label: 'back'}},
  {keys: 'j/↓', match: (input, key) => key.downArrow || char('j')(input, key), command: 'job.down', description: 'Scroll down', scope: 'job', hint: {keys: 'j/k', label: 'scroll'}},
  {keys: 'k/↑', match: (input, key) => key.upArrow || char('k')(input, key), command: 'job.up', description: 'Scroll up', scope: 'job'},
  {keys: 'o', match: char('o'), command: 'queue.outputs', description: "Open the job's output folder", scope: 'job', hint: {keys: 'o', label: 'outputs'}},

  {keys: 'Esc', match: (_input, key) => key.escape, command: 'log.back', description: 'Clear the filter, else back to the instance list', scope: 'log', hint: {keys: 'Esc', label: 'back'}},
  {keys: 'j/↓', match: (input, key) => key.downArrow || char('j')(input, key), command: 'log.down', description: 'Scroll down (follows the tail again at the bottom)', scope: 'log', hint: {keys: 'j/k', label: 'scroll'}},
  {keys: 'k/↑', match: (input, key) => key.upArrow || char('k')(input, key), command: 'log.up', description: 'Scroll up (stops following the tail)', scope: 'log'},
  {keys: 'PgDn', match: (_input, key) => key.pageDown, command: 'log.pageDown', description: 'Page down', scope: 'log'},
  {keys: 'PgUp', match: (_input, key) => key.pageUp, command: 'log.pageUp', description: 'Page up (stops following the tail)', scope: 'log'},
  {keys: 'g/Home', match: (input, key) => key.home || char('g')(input, key), command: 'log.top', description: 'Jump to the oldest line held', scope: 'log'},
  {keys: 'G/End', match: (input, key) => key.end || char('G')(input, key), command: 'log.follow', description: 'Follow the tail (autoscroll)', scope: 'log', hint: {keys: 'G', label: 'follow'}},
  {keys: '/', match: char('/'), command: 'log.filter', description: 'Filter the log lines (case-insensitive text)', scope: 'log', hint: {keys: '/', label: 'filter'}},
  {keys: 'w', match: char('w'), command: 'log.wrap', description: 'Wrap long lines, or cut them with …', scope: 'log', hint: {keys: 'w', label: 'wrap'}},
  {keys: 't', match: char('t'), command: 'log.tags', description: 'Show or hide times and file tags', scope: 'log', hint: {keys: 't', label: 'tags'}},
  {keys: 'S', match: char('S'), command: 'log.save', description: 'Save the log to a file', scope: 'log', hint: {keys: 'S', label: 'save'}},
  {keys: 'p', match: char('p'), command: 'instances.portal', description: 'Show or hide the portal URLs and token (secret)', scope: 'log', hint: {keys: 'p', label: 'portal'}},
  {keys: 'y', match: char('y'), command: 'instances.copyToken', description: 'Copy the portal token to the clipboard (OSC 52)', scope: 'log'},
  {keys: 'o', match: char('o'), command: 'instances.openPortal', description: 'Open ComfyUI in the browser (log in with the token)', scope: 'log'},
  {keys: ']', match: char(']'), command: 'instances.next', description: "Show the next instance's log", scope: 'log', hint: {keys: '[ ]', label: 'instance'}},
  {keys: '[', match: char('['), command: 'instances.previous', description: "Show the previous instance's log", scope: 'log'},

  {keys: 'Enter', match: (_input, key) => key.return, command: 'filter.submit', description: 'Apply, e.g. gpu=RTX_4090 dph<0.6 inet_down>500', scope: 'filter', hint: {keys: 'Enter', label: 'apply'}},
  {keys: 'Esc', match: (_input, key) => key.escape, command: 'filter.cancel', description: 'Close the editor, keep the old filter', scope: 'filter', hint: {keys: 'Esc', label: 'cancel'}},

  {keys: 'Enter', match: (_input, key) => key.return, command: 'logFilter.done', description: 'Keep the filter and go back to the log keys', scope: 'logFilter', hint: {keys: 'Enter', label: 'keep'}},
  {keys: 'Esc', match: (_input, key) => key.escape, command: 'logFilter.clear', description: 'Clear the filter', scope: 'logFilter', hint: {keys: 'Esc', label: 'clear filter'}},

  {keys: 'Tab', match: (_input, key) => key.tab && !key.shift, command: 'jobForm.tab', description: 'Next field; in Image path: complete the path', scope: 'jobForm', hint: {keys: 'Tab', label: 'next/complete'}},
  {keys: '↓', match: (_input, key) => key.downArrow, command: 'jobForm.next', description: 'Next field', scope: 'jobForm'},
  {keys: '↑/Shift-Tab', match: (_input, key) => key.upArrow || (key.tab && key.shift), command: 'jobForm.previous', description: 'Previous field', scope: 'jobForm'},
  {keys: '←', match: (_input, key) => key.leftArrow, command: 'jobForm.left', description: 'Previous workflow (in Workflow), else cursor left', scope: 'jobForm', hint: {keys: '←/→', label: 'workflow'}},
  {keys: '→', match: (_input, key) => key.rightArrow, command: 'jobForm.right', description: 'Next workflow (in Workflow), else cursor right', scope: 'jobForm'},
  {keys: 'Enter', match: (_input, key) => key.return, command: 'jobForm.enter', description: 'Next field; on [ Queue ] queue the job(s)', scope: 'jobForm', hint: {keys: 'Enter', label: 'next/queue'}},
  {keys: 'Esc', match: (_input, key) => key.escape, command: 'jobForm.cancel', description: 'Close the form without queueing', scope: 'jobForm', hint: {keys: 'Esc', label: 'cancel'}},

  {keys: 'Enter', match: (_input, key) => key.return, command: 'typedConfirm.submit', description: 'Destroy them all, once the word destroy is typed', scope: 'typedConfirm', hint: {keys: 'Enter', label: 'confirm'}, dangerous: true},
  {keys: 'Esc', match: (_input, key) => key.escape, command: 'typedConfirm.cancel', description: 'Cancel: destroy nothing', scope: 'typedConfirm', hint: {keys: 'Esc', label: 'cancel'}},

  {keys: '←', match: (_input, key) => key.leftArrow, command: 'edit.left', description: 'Move the cursor left', scope: 'editor'},
  {keys: '→', match: (_input, key) => key.rightArrow, command: 'edit.right', description: 'Move the cursor right', scope: 'editor'},
  {keys: 'Home/Ctrl-A', match: (input, key) => key.home || ctrl('a')(input, key), command: 'edit.home', description: 'Move to the start', scope: 'editor'},
  {keys: 'End/Ctrl-E', match: (input, key) => key.end || ctrl('e')(input, key), command: 'edit.end', description: 'Move to the end', scope: 'editor'},
  {keys: 'Backspace', match: (_input, key) => key.backspace || key.delete, command: 'edit.backspace', description: 'Delete the character before the cursor', scope: 'editor'},
  {keys: 'Ctrl-U', match: ctrl('u'), command: 'edit.clear', description: 'Clear the text', scope: 'editor', hint: {keys: 'Ctrl-U', label: 'clear'}},
  {keys: 'text', match: printable, command: 'edit.insert', description: 'Type (a paste works too)', scope: 'editor'},

  {keys: '→/Tab', match: (_input, key) => key.rightArrow || (key.tab && !key.shift), command: 'dialog.next', description: 'Highlight the next button', scope: 'dialog', hint: {keys: '←/→', label: 'button'}},
  {keys: '←/Shift-Tab', match: (_input, key) => key.leftArrow || (key.tab && key.shift), command: 'dialog.previous', description: 'Highlight the previous button', scope: 'dialog'},
  {keys: 'Enter', match: (_input, key) => key.return, command: 'dialog.choose', description: 'Choose the highlighted button', scope: 'dialog', hint: {keys: 'Enter', label: 'choose'}},
  {keys: 'Esc', match: (_input, key) => key.escape, command: 'dialog.cancel', description: 'Cancel', scope: 'dialog', hint: {keys: 'Esc', label: 'cancel'}},
  {keys: 'y, n, k, d, f', match: printable, command: 'dialog.letter', description: 'By letter: y yes, n no, k key, d destroy, f force', scope: 'dialog', hint: {keys: 'y/n', label: 'answer'}},

  {keys: 'j/↓', match: (input, key) => key.downArrow || char('j')(input, key), command: 'help.down', description: 'Scroll down', scope: 'help', hint: {keys: 'j/k', label: 'scroll'}},
  {keys: 'k/↑', match: (input, key) => key.upArrow || char('k')(input, key), command: 'help.up', description: 'Scroll up', scope: 'help'},
  {keys: 'PgDn/Space', match: (input, key) => key.pageDown || char(' ')(input, key), command: 'help.pageDown', description: 'Page down', scope: 'help', hint: {keys: 'Space', label: 'page'}},
  {keys: 'PgUp', match: (_input, key) => key.pageUp, command: 'help.pageUp', description: 'Page up', scope: 'help'},
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
