// Host-key pinning on first use (TOFU) for instance SSH, in vastdeck's own file
// $XDG_STATE_HOME/vastdeck/known_hosts.json (0600 in a 0700 dir, atomic writes), never ~/.ssh/known_hosts.
// Used by connect.ts on every handshake and by the command that forgets a pin.
import {stateDir} from '../state-paths.js';
import {readFileSync} from 'node:fs';
import {join} from 'node:path';
import {tildePath, writePrivateFile} from '../credentials.js';
import {ConfigError} from '../errors.js';

export type HostKeyCheck = 'new' | 'match' | 'changed';

export interface HostPin {
  /** OpenSSH style: 'SHA256:' + unpadded base64 of the host key. */
  fingerprint: string;
  /** host:port the key was last pinned at. */
  address?: string;
  /** ISO time of pinning. */
  pinnedAt: string;
}

interface KnownHostsFile {
  version: 1;
  pins: Record<string, HostPin>;
}

/**
 * The pin key of one instance of one API (the simulated cloud and the real one never share pins).
 *
 * The pin rule: a host key is pinned per INSTANCE, not per address. Vast hands an IP:port to another
 * instance once one is destroyed, so an address-keyed pin would either cry wolf or trust a stranger;
 * an instance keeps its key wherever it is reached. The host:port a key was pinned at is recorded
 * beside the pin, for the user's information only.
 */
export function hostPinKey(apiOrigin: string, instanceId: number): string {
  return `${apiOrigin}#${instanceId}`;
}

/** What a pin key names, for messages: the instance id after the last '#', else the key itself. */
export function pinKeyInstance(pinKey: string): string {
  const hash = pinKey.lastIndexOf('#');
  return hash >= 0 ? pinKey.slice(hash + 1) : pinKey;
}

/** $XDG_STATE_HOME/vastdeck/known_hosts.json (default ~/.local/state/vastdeck/known_hosts.json). */
export function knownHostsPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(stateDir(env), 'known_hosts.json');
}

/**
 * The pins, read from disk on every call, so a pin forgotten by `vastdeck ssh-forget` in another
 * terminal takes effect at the dashboard's next reconnect.
 */
export class KnownHosts {
  readonly path: string;

  private constructor(path: string) {
    this.path = path;
  }

  static open(path: string = knownHostsPath()): KnownHosts {
    const hosts = new KnownHosts(path);
    hosts.#read();
    return hosts;
  }

  check(key: string, fingerprint: string): HostKeyCheck {
    const pin = this.#read().pins[key];
    if (!pin) return 'new';
    return pin.fingerprint === fingerprint ? 'match' : 'changed';
  }

  pin(key: string, fingerprint: string, address?: string): void {
    const file = this.#read();
    file.pins[key] = {fingerprint, ...(address === undefined ? {} : {address}), pinnedAt: new Date().toISOString()};
    this.#write(file);
  }

  /** Drops the pin of `key`; the next connection trusts whatever key the host shows. False when none was pinned. */
  forget(key: string): boolean {
    const file = this.#read();
    if (!file.pins[key]) return false;
    delete file.pins[key];
    this.#write(file);
    return true;
  }

  #read(): KnownHostsFile {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {version: 1, pins: {}};
      throw new ConfigError(`vastdeck cannot read its SSH host-key file ${tildePath(this.path)} (${(error as NodeJS.ErrnoException).code ?? 'unknown error'}): fix its permissions.`);
    }
    try {
      const parsed = JSON.parse(text) as Partial<KnownHostsFile>;
      if (parsed.version === 1 && isPins(parsed.pins)) return {version: 1, pins: parsed.pins};
    } catch {
      // reported below
    }
    throw new ConfigError(`vastdeck's SSH host-key file ${tildePath(this.path)} is damaged: repair it, or delete it to trust each instance's key again on its next connection.`);
  }

  #write(file: KnownHostsFile): void {
    writePrivateFile(this.path, `${JSON.stringify(file, undefined, 2)}\n`);
  }
}

function isPins(value: unknown): value is Record<string, HostPin> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  return Object.values(value).every(pin => typeof pin === 'object' && pin !== null && typeof (pin as HostPin).fingerprint === 'string');
}
