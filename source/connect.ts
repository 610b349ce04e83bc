// Decides where vastdeck talks to: the real Vast.ai API (an API key is set) or, in demo mode,
// the embedded simulated cloud started here on loopback. Everything after this point is the
// same code in both modes: only the base URL and the key differ.
import {mkdir, readdir, rm} from 'node:fs/promises';
import {join} from 'node:path';
import {stateDir} from './core/state-paths.js';
import {ConfigError, InputError} from './core/errors.js';
import {resolveApiKey, resolveBaseUrl} from './core/credentials.js';

export interface Connection {
  mode: 'demo' | 'live';
  baseUrl: string;
  apiKey: string;
  /** One line for the status bar; never contains the key. */
  detail: string;
  /** Time compression of the simulated cloud (1 in live mode). */
  speed: number;
  /** Sentences worth showing: demo mode, a key file readable by others. Never the key. */
  warnings: string[];
  /**
   * Demo mode only: a private folder for this run's ledger and pinned host keys, removed on close.
   * The simulated cloud lives and dies with the process, so its instances must not mix with real ones.
   */
  stateDir?: string;
  close(): Promise<void>;
}

export interface ConnectOptions {
  demo?: boolean;
  live?: boolean;
  env?: NodeJS.ProcessEnv;
}

export async function connect(options: ConnectOptions = {}): Promise<Connection> {
  const env = options.env ?? process.env;
  if (options.demo && options.live) throw new InputError('Choose either --demo or --live, not both.');
  const notes: string[] = [];
  const resolved = options.demo ? undefined : resolveApiKey(env, note => notes.push(note));
  if (options.live && !resolved) {
    throw new InputError(`--live needs a Vast.ai API key: run \`vastdeck login\`, or set VAST_API_KEY.${notes.length > 0 ? ` (${notes.join(' ')})` : ''}`);
  }
  // A key file that exists but cannot be used is not "no key": falling back to the demo would hide it.
  if (!resolved && notes.length > 0 && !options.demo) {
    throw new ConfigError(`${notes[0]!.replace(/[.\s]+$/, '')}; vastdeck will not fall back to the demo while a key file is broken: fix it with \`vastdeck login\`, or pass --demo for the simulated cloud.`);
  }
  if (resolved) {
    const baseUrl = resolveBaseUrl(env);
    return {
      mode: 'live',
      baseUrl,
      apiKey: resolved.key,
      detail: `Vast.ai API at ${new URL(baseUrl).host} (key from ${resolved.source})`,
      speed: 1,
      warnings: notes,
      close: async () => {},
    };
  }
  const {startSimCloud} = await import('./sim/cloud.js');
  const seed = Number(env.VASTDECK_SEED ?? 1);
  const speed = Number(env.VASTDECK_SIM_SPEED ?? 10);
  const sim = await startSimCloud({port: 0, seed: Number.isFinite(seed) ? seed : 1, speed: Number.isFinite(speed) && speed > 0 ? speed : 10});
  const stateDir = await makeDemoStateDir(env);
  return {
    mode: 'demo',
    baseUrl: sim.baseUrl,
    apiKey: sim.apiKey,
    detail: `simulated Vast.ai cloud on ${new URL(sim.baseUrl).host} — no API key set, nothing is billed`,
    speed: sim.speed,
    warnings: [`demo mode — simulated Vast.ai cloud on ${new URL(sim.baseUrl).host}, nothing is billed`],
    stateDir,
    close: async () => {
      await sim.close();
      await rm(stateDir, {recursive: true, force: true});
    },
  };
}

/** $XDG_STATE_HOME/vastdeck/demo/<pid>, after removing the folders of demo runs that ended. */
async function makeDemoStateDir(env: NodeJS.ProcessEnv): Promise<string> {
  const root = join(stateDir(env), 'demo');
  await mkdir(root, {recursive: true, mode: 0o700});
  for (const name of await readdir(root).catch(() => [])) {
    const pid = Number(name);
    if (Number.isInteger(pid) && pid !== process.pid && !isAlive(pid)) await rm(join(root, name), {recursive: true, force: true});
  }
  const dir = join(root, String(process.pid));
  await mkdir(dir, {recursive: true, mode: 0o700});
  return dir;
}


function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
