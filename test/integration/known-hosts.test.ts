// KnownHosts: trust on first use per instance, changed keys reported, forget, the file's place,
// modes (0600 in 0700) and atomic writes, and a damaged file refused with a sentence.
import {mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {dirname, join} from 'node:path';
import {afterEach, describe, expect, it} from 'vitest';
import {ConfigError} from '../../source/core/errors.js';
import {hostPinKey, KnownHosts, knownHostsPath, pinKeyInstance} from '../../source/core/ssh/known-hosts.js';

const A = 'SHA256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
const B = 'SHA256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb';
const dirs: string[] = [];

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, {recursive: true, force: true});
});

function tempPath(): string {
  const dir = mkdtempSync(join(tmpdir(), 'vastdeck-known-hosts-'));
  dirs.push(dir);
  return join(dir, 'state', 'vastdeck', 'known_hosts.json');
}

describe('KnownHosts', () => {
  it('lives in $XDG_STATE_HOME/vastdeck by default', () => {
    expect(knownHostsPath()).toBe(join(process.env.XDG_STATE_HOME!, 'vastdeck', 'known_hosts.json'));
    expect(knownHostsPath({HOME: '/home/x'})).toBe('/home/x/.local/state/vastdeck/known_hosts.json');
    expect(KnownHosts.open().path).toBe(knownHostsPath());
  });

  it('trusts a new instance on first use and then insists on the same key', () => {
    const hosts = KnownHosts.open(tempPath());
    const key = hostPinKey('https://console.vast.ai', 4242);
    expect(key).toBe('https://console.vast.ai#4242');
    expect(pinKeyInstance(key)).toBe('4242');
    expect(hosts.check(key, A)).toBe('new');
    hosts.pin(key, A, '1.2.3.4:40022');
    expect(hosts.check(key, A)).toBe('match');
    expect(hosts.check(key, B)).toBe('changed');
  });

  it('pins per instance id, not per address: another instance at the same address is new', () => {
    const hosts = KnownHosts.open(tempPath());
    hosts.pin(hostPinKey('https://console.vast.ai', 1), A, '1.2.3.4:40022');
    expect(hosts.check(hostPinKey('https://console.vast.ai', 2), B)).toBe('new');
    expect(hosts.check(hostPinKey('http://127.0.0.1:9000', 1), B)).toBe('new');
    const saved = JSON.parse(readFileSync(hosts.path, 'utf8')) as {pins: Record<string, {address: string; fingerprint: string}>};
    expect(saved.pins['https://console.vast.ai#1']).toMatchObject({fingerprint: A, address: '1.2.3.4:40022'});
  });

  it('forget drops the pin, also for another KnownHosts on the same file', () => {
    const path = tempPath();
    const first = KnownHosts.open(path);
    const second = KnownHosts.open(path);
    first.pin('o#7', A);
    expect(second.check('o#7', B)).toBe('changed');
    expect(second.forget('o#7')).toBe(true);
    expect(second.forget('o#7')).toBe(false);
    expect(first.check('o#7', B)).toBe('new');
  });

  it('writes 0600 in a 0700 dir, atomically, and tightens a loose dir', () => {
    const path = tempPath();
    mkdirSync(dirname(path), {recursive: true, mode: 0o755});
    const hosts = KnownHosts.open(path);
    hosts.pin('o#1', A);
    hosts.pin('o#2', B);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(dirname(path)).mode & 0o777).toBe(0o700);
    expect(readdirSync(dirname(path))).toEqual(['known_hosts.json']);
    expect(Object.keys((JSON.parse(readFileSync(path, 'utf8')) as {pins: object}).pins)).toEqual(['o#1', 'o#2']);
  });

  it('refuses a damaged file with a sentence instead of trusting everything again', () => {
    const path = tempPath();
    mkdirSync(dirname(path), {recursive: true});
    writeFileSync(path, '{"version": 1, "pins": [', {mode: 0o600});
    expect(() => KnownHosts.open(path)).toThrow(ConfigError);
    expect(() => KnownHosts.open(path)).toThrow(/host-key file .* is damaged: repair it, or delete it/);
  });
});
