// The auto-destroy policy keys (X, A), which work from any pane: each calls the policies model and
// says in the message line what now holds, so a key never changes money matters silently.
import type {DeckView} from '../core/deck-types.js';
import type {Command} from './keymap.js';

export function runPolicyCommand(deck: DeckView, command: Command): void {
  const {policies} = deck;
  if (command === 'policy.cancelCountdown') {
    if (!policies.getSnapshot().countdown) {
      deck.notify('No auto-destroy is counting down.');
      return;
    }
    policies.cancelCountdown();
    deck.notify('Auto-destroy cancelled: the instances keep running (and billing).', 'warn');
    return;
  }
  if (command === 'policy.toggleDrained') {
    const on = !policies.getSnapshot().destroyWhenDrained;
    policies.toggleDestroyWhenDrained();
    deck.notify(on ? 'Destroy when drained is on: instances are destroyed once the queue is empty.' : 'Destroy when drained is off: instances keep running (and billing) when idle.');
  }
}
