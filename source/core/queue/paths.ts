// Where the generation queue keeps its jobs and writes outputs.
import {stateDir} from '../state-paths.js';
import {homedir} from 'node:os';
import {join, resolve} from 'node:path';
import type {VastdeckSettings} from '../settings.js';

/** $XDG_STATE_HOME/vastdeck/queue.json (default ~/.local/state/vastdeck/queue.json). */
export function queuePath(env: NodeJS.ProcessEnv = process.env): string {
  return join(stateDir(env), 'queue.json');
}

/** The absolute outputs folder: settings.outputsDir, `~/` expanded, relative to the current folder. */
export function outputsRoot(settings: VastdeckSettings, env: NodeJS.ProcessEnv = process.env): string {
  const folder = settings.outputsDir;
  if (folder.startsWith('~/')) return join(env.HOME ?? homedir(), folder.slice(2));
  return resolve(folder);
}
