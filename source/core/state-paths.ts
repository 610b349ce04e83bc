// Where vastdeck keeps state that must survive a restart (ledger, pinned host keys, queue, install
// id): $XDG_STATE_HOME/vastdeck, default ~/.local/state/vastdeck. One place computes it.
import {homedir} from 'node:os';
import {isAbsolute, join} from 'node:path';

export function stateDir(env: NodeJS.ProcessEnv = process.env): string {
  const home = env.HOME && isAbsolute(env.HOME) ? env.HOME : homedir();
  const stateHome = env.XDG_STATE_HOME && isAbsolute(env.XDG_STATE_HOME) ? env.XDG_STATE_HOME : join(home, '.local', 'state');
  return join(stateHome, 'vastdeck');
}
