// Autostop (docs/autostop.md): the watchdog provisioning/autostop.py that vastdeck ships to every
// instance it creates (in the provisioning bundle, started by the onstart), the variables that
// configure it, the files vastdeck writes on the instance for it (the heartbeat and the list of
// outputs already home) and the command that writes them. The simulator (sim/autostop.ts) reads the
// same variables and files. Pure apart from reading the script.
import {readFileSync} from 'node:fs';
import {fileURLToPath} from 'node:url';
import type {AutostopSettings} from '../settings.js';
import {BUNDLE_DIR} from './bundle.js';

/** vastdeck's watchdog, found from this file so it works from source/ and dist/. */
export const AUTOSTOP_SCRIPT_PATH = fileURLToPath(new URL('../../../provisioning/autostop.py', import.meta.url));
/** Where the bundle puts it on the instance. */
export const AUTOSTOP_REMOTE_PATH = `${BUNDLE_DIR}/autostop.py`;
/** vastdeck's folder on the instance (also the OnStart method's). */
export const REMOTE_FOLDER = '/workspace/vastdeck';
/** The instance's own epoch seconds (`date +%s`), written by vastdeck while it runs. */
export const HEARTBEAT_PATH = `${REMOTE_FOLDER}/heartbeat`;
/** One `<sha256>  <name>` line per output vastdeck has safely home. */
export const FETCHED_PATH = `${REMOTE_FOLDER}/fetched`;
/** The watchdog's one line per decision (followed by the log stream, so the log view shows it). */
export const AUTOSTOP_LOG_PATH = '/var/log/portal/vastdeck-autostop.log';

export const AUTOSTOP_ENV = {
  idleMinutes: 'VASTDECK_AUTOSTOP_IDLE_MIN',
  maxHours: 'VASTDECK_AUTOSTOP_MAX_HOURS',
  action: 'VASTDECK_AUTOSTOP_ACTION',
  api: 'VASTDECK_AUTOSTOP_API',
} as const;

/** What an instance's watchdog was configured with (its create variables). */
export interface AutostopConfig {
  idleMinutes: number;
  maxHours: number;
  action: 'destroy' | 'stop';
  /** The API base the instance calls (https://console.vast.ai, or the simulator's). */
  api: string;
}

/** The per-command overrides of the settings (`--no-autostop`, `--autostop-idle MIN`). */
export type AutostopOverrides = Partial<AutostopSettings>;

export function withAutostopOverrides(settings: AutostopSettings, overrides: AutostopOverrides | undefined): AutostopSettings {
  return {...settings, ...Object.fromEntries(Object.entries(overrides ?? {}).filter(([, value]) => value !== undefined))};
}

/** The create variables that switch the watchdog on; `apiBase` is scheme://host[:port] without /api/v0. */
export function autostopEnv(settings: AutostopSettings, apiBase: string): Record<string, string> {
  return {
    [AUTOSTOP_ENV.idleMinutes]: String(settings.idleMinutes),
    [AUTOSTOP_ENV.maxHours]: String(settings.maxHours),
    [AUTOSTOP_ENV.action]: settings.action,
    [AUTOSTOP_ENV.api]: apiBase.replace(/\/+$/, ''),
  };
}

/** The watchdog's configuration from an instance's variables, or undefined when it has none (or a broken one). */
export function parseAutostopEnv(env: Iterable<readonly [string, string]> | Readonly<Record<string, string>>): AutostopConfig | undefined {
  const vars = new Map(Symbol.iterator in env ? (env as Iterable<readonly [string, string]>) : Object.entries(env));
  const idleMinutes = Number(vars.get(AUTOSTOP_ENV.idleMinutes));
  const maxHours = Number(vars.get(AUTOSTOP_ENV.maxHours) || '0');
  const action = vars.get(AUTOSTOP_ENV.action) || 'destroy';
  const api = vars.get(AUTOSTOP_ENV.api) ?? '';
  if (!Number.isInteger(idleMinutes) || idleMinutes < 1 || !(maxHours >= 0) || (action !== 'destroy' && action !== 'stop') || !/^https?:\/\//.test(api)) return undefined;
  return {idleMinutes, maxHours, action, api};
}

/** The watchdog's text, to ship in the bundle. */
export function autostopScript(): string {
  return readFileSync(AUTOSTOP_SCRIPT_PATH, 'utf8');
}

/** Starts the watchdog in the background, detached from the onstart (it outlives it). */
export const AUTOSTOP_LAUNCH = `(nohup python3 ${AUTOSTOP_REMOTE_PATH} >/dev/null 2>&1 &)`;

const shellQuote = (text: string): string => `'${text.replaceAll("'", `'\\''`)}'`;

/**
 * One heartbeat: the instance writes its own clock into the heartbeat file (so the watchdog never
 * compares two machines' clocks) and appends the lines of outputs that are home since the last one.
 */
export function heartbeatCommand(fetched: readonly string[] = []): string {
  const beat = `mkdir -p ${REMOTE_FOLDER} && date +%s > ${HEARTBEAT_PATH}`;
  return fetched.length === 0 ? beat : `${beat} && printf '%s\\n' ${fetched.map(shellQuote).join(' ')} >> ${FETCHED_PATH}`;
}

/** A fetched-list line: sha256sum's format, with the name made one safe line. */
export function fetchedLine(sha256: string, name: string): string {
  return `${sha256}  ${name.replace(/[\r\n\\]/g, '_')}`;
}
