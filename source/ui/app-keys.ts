// The keys that work from any pane (k9s' app-level actions): quit, pane focus, help, the message
// log and the auto-destroy policy keys. Ctrl-C, F1 and X-while-counting-down work even inside
// dialogs and forms, where letters are text, and the hints there show them.
import type {KeyTable} from './keys/key-table.js';
import type {PaneId} from './ui-state.js';

export interface AppKeyContext {
  /** Quits, or asks first while LIVE instances bill. */
  quit(): void;
  stepPane(delta: 1 | -1): void;
  focus(pane: PaneId): void;
  openHelp(): void;
  openMessages(): void;
  countingDown(): boolean;
  cancelCountdown(): void;
  toggleDrained(): void;
}

export const APP_KEYS: KeyTable<AppKeyContext> = {
  title: 'Everywhere',
  actions: [
    {keys: ['q'], label: 'quit', help: 'Quit vastdeck (asks first while LIVE instances bill)', run: context => context.quit(), switchesView: true},
    {keys: ['?'], label: 'help', help: 'Show this help', run: context => context.openHelp(), switchesView: true},
    {keys: ['tab'], label: 'pane', help: 'Focus the next pane', run: context => context.stepPane(1), switchesView: true},
    {keys: ['backtab'], help: 'Focus the previous pane', run: context => context.stepPane(-1), switchesView: true},
    {keys: ['1'], help: 'Jump to the Offers pane', run: context => context.focus('offers'), switchesView: true},
    {keys: ['2'], help: 'Jump to the Instances pane', run: context => context.focus('instances'), switchesView: true},
    {keys: ['3'], help: 'Jump to the Queue pane', run: context => context.focus('queue'), switchesView: true},
    {keys: ['A'], help: 'Destroy instances once the queue is empty: on/off', run: context => context.toggleDrained()},
    {keys: ['m'], label: 'messages', help: 'Every message of this session, in full', run: context => context.openMessages(), switchesView: true},
    // These three work over dialogs and forms too, where letters are text (the hints show them there).
    {keys: ['X'], label: 'cancel auto-destroy', help: 'Cancel the auto-destroy countdown; in forms too', everywhere: true, when: context => context.countingDown(), run: context => context.cancelCountdown()},
    {keys: ['f1'], label: 'help', help: 'Show this help; in forms too', everywhere: true, run: context => context.openHelp(), switchesView: true},
    {keys: ['ctrl-c'], label: 'quit', help: 'Quit (asks while LIVE instances bill); in forms too', everywhere: true, run: context => context.quit(), switchesView: true},
  ],
};
