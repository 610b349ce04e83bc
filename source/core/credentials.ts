// Where the Vast.ai API key and base URL come from, in the official CLI's order ($VAST_API_KEY,
// the vastai CLI key file, the legacy ~/.vast_api_key), then vastdeck's own credentials.json.
// Also owns writing private files (0600 in a 0700 dir). Used by connect.ts, login and config.
import {randomBytes} from 'node:crypto';
import {chmodSync, closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync} from 'node:fs';
import {homedir} from 'node:os';
import {dirname, isAbsolute, join} from 'node:path';
import {ConfigError, InputError} from './errors.js';

export type KeySource = 'VAST_API_KEY' | 'vastai-config' | 'legacy-file' | 'vastdeck-credentials';

export interface ResolvedApiKey {
  key: string;
  source: KeySource;
  /** The file it came from, for the file sources. */
  path?: string;
}

export const DEFAULT_BASE_URL = 'https://console.vast.ai';

/** The first API key found, or undefined. Unreadable or loosely protected files are mentioned through `onNote`. */
export function resolveApiKey(env: NodeJS.ProcessEnv = process.env, onNote?: (note: string) => void): ResolvedApiKey | undefined {
  const fromEnv = env.VAST_API_KEY?.trim();
  if (fromEnv) return {key: fromEnv, source: 'VAST_API_KEY'};
  const home = homeDir(env);
  const files: Array<{source: KeySource; path: string; read: (text: string) => string | undefined}> = [
    {source: 'vastai-config', path: join(configHome(env), 'vastai', 'vast_api_key'), read: text => text},
    {source: 'legacy-file', path: join(home, '.vast_api_key'), read: text => text},
    {source: 'vastdeck-credentials', path: credentialsPath(env), read: keyFromCredentials},
  ];
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file.path, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') onNote?.(`Skipped ${tildePath(file.path, env)}: it cannot be read (${code ?? 'unknown error'}).`);
      continue;
    }
    let key: string | undefined;
    try {
      key = file.read(text)?.trim();
    } catch {
      onNote?.(`Skipped ${tildePath(file.path, env)}: it is not valid JSON (run \`vastdeck login\` to write it again).`);
      continue;
    }
    if (!key) continue;
    if (isLooselyProtected(file.path)) onNote?.(`${tildePath(file.path, env)} is readable by other users: run \`chmod 600 ${tildePath(file.path, env)}\`.`);
    return {key, source: file.source, path: file.path};
  }
  return undefined;
}

/** Saves the key to vastdeck's credentials.json (atomic, 0600, in a 0700 dir) and returns the path. */
export function saveApiKey(key: string, env: NodeJS.ProcessEnv = process.env): string {
  const trimmed = key.trim();
  if (trimmed === '' || /[\s\u0000-\u001f\u007f]/.test(trimmed)) {
    throw new InputError('That does not look like a Vast.ai API key (it is empty or has spaces inside): copy it again from https://cloud.vast.ai/manage-keys/.');
  }
  const path = credentialsPath(env);
  writePrivateFile(path, `${JSON.stringify({apiKey: trimmed}, undefined, 2)}\n`);
  return path;
}

/** $VAST_URL (an http(s) URL; trailing slash and /api/v0 removed), else https://console.vast.ai. */
export function resolveBaseUrl(env: NodeJS.ProcessEnv = process.env): string {
  const raw = env.VAST_URL?.trim();
  if (!raw) return DEFAULT_BASE_URL;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError('VAST_URL is not a URL: set it to an address like https://console.vast.ai, or unset it.');
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
    throw new ConfigError('VAST_URL must be a plain http(s) address like https://console.vast.ai (no query string or password): fix or unset it.');
  }
  const path = url.pathname.replace(/\/+$/, '').replace(/\/api\/v0$/, '');
  return `${url.origin}${path}`;
}

/** Where a key came from, for messages; never the key itself. */
export function describeKeySource(resolved: Pick<ResolvedApiKey, 'source' | 'path'>, env: NodeJS.ProcessEnv = process.env): string {
  const where = resolved.path ? tildePath(resolved.path, env) : '';
  switch (resolved.source) {
    case 'VAST_API_KEY':
      return 'the VAST_API_KEY environment variable';
    case 'vastai-config':
      return `the vastai CLI's key file ${where}`;
    case 'legacy-file':
      return `the legacy key file ${where}`;
    case 'vastdeck-credentials':
      return `vastdeck's saved key in ${where}`;
  }
}

/** $XDG_CONFIG_HOME/vastdeck (default ~/.config/vastdeck). */
export function vastdeckConfigDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(configHome(env), 'vastdeck');
}

export function credentialsPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(vastdeckConfigDir(env), 'credentials.json');
}

/** Creates `dir` (and parents) 0700, and tightens it if it already exists looser. */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, {recursive: true, mode: 0o700});
  if ((statSync(dir).mode & 0o077) !== 0) chmodSync(dir, 0o700);
}

/** Writes `text` to `path` atomically (temp file + rename), 0600, in a 0700 directory. */
export function writePrivateFile(path: string, text: string): void {
  ensurePrivateDir(dirname(path));
  const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    const fd = openSync(temporary, 'wx', 0o600);
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, {force: true});
    throw error;
  }
  chmodSync(path, 0o600);
}

/** `path` with the home directory shown as ~, for messages. */
export function tildePath(path: string, env: NodeJS.ProcessEnv = process.env): string {
  const home = homeDir(env);
  return path === home || path.startsWith(`${home}/`) ? `~${path.slice(home.length)}` : path;
}

/** The apiKey of credentials.json; throws when the file is not JSON. */
function keyFromCredentials(text: string): string | undefined {
  const parsed: unknown = JSON.parse(text);
  const key = typeof parsed === 'object' && parsed !== null ? (parsed as {apiKey?: unknown}).apiKey : undefined;
  return typeof key === 'string' ? key : undefined;
}

function isLooselyProtected(path: string): boolean {
  try {
    return (statSync(path).mode & 0o077) !== 0;
  } catch {
    return false;
  }
}

function homeDir(env: NodeJS.ProcessEnv): string {
  return env.HOME && isAbsolute(env.HOME) ? env.HOME : homedir();
}

function configHome(env: NodeJS.ProcessEnv): string {
  const xdg = env.XDG_CONFIG_HOME;
  return xdg && isAbsolute(xdg) ? xdg : join(homeDir(env), '.config');
}
