import {chmodSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync} from 'node:fs';
import {createServer} from 'node:http';
import type {AddressInfo} from 'node:net';
import {join} from 'node:path';
import {PassThrough, Readable, Writable} from 'node:stream';
import {describe, expect, it} from 'vitest';
import {runLoginCommand} from '../../source/commands/login.js';
import {describeKeySource, resolveApiKey, resolveBaseUrl, saveApiKey} from '../../source/core/credentials.js';
import {ConfigError, InputError} from '../../source/core/errors.js';

let counter = 0;
/** A fresh HOME and XDG_CONFIG_HOME for one test, as an env object (process.env is not touched). */
function freshEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const home = join(process.env.HOME!, `credentials-${++counter}`);
  mkdirSync(home, {recursive: true});
  return {HOME: home, XDG_CONFIG_HOME: join(home, '.config'), ...extra};
}

function writeKeyFile(path: string, text: string, mode = 0o600): void {
  mkdirSync(join(path, '..'), {recursive: true});
  writeFileSync(path, text, {mode});
  chmodSync(path, mode);
}

describe('resolveApiKey', () => {
  it('finds nothing in an empty home', () => {
    expect(resolveApiKey(freshEnv())).toBeUndefined();
  });

  it('follows the official order: VAST_API_KEY, vastai config file, legacy file, then vastdeck credentials', () => {
    const env = freshEnv();
    const vastaiFile = join(env.XDG_CONFIG_HOME!, 'vastai', 'vast_api_key');
    const legacyFile = join(env.HOME!, '.vast_api_key');
    saveApiKey('from-vastdeck', env);
    expect(resolveApiKey(env)).toMatchObject({key: 'from-vastdeck', source: 'vastdeck-credentials'});
    writeKeyFile(legacyFile, 'from-legacy\n');
    expect(resolveApiKey(env)).toEqual({key: 'from-legacy', source: 'legacy-file', path: legacyFile});
    writeKeyFile(vastaiFile, '  from-vastai  \n');
    expect(resolveApiKey(env)).toEqual({key: 'from-vastai', source: 'vastai-config', path: vastaiFile});
    expect(resolveApiKey({...env, VAST_API_KEY: ' from-env '})).toEqual({key: 'from-env', source: 'VAST_API_KEY'});
  });

  it('uses ~/.config when XDG_CONFIG_HOME is unset', () => {
    const env = freshEnv();
    delete env.XDG_CONFIG_HOME;
    writeKeyFile(join(env.HOME!, '.config', 'vastai', 'vast_api_key'), 'abc');
    expect(resolveApiKey(env)).toMatchObject({key: 'abc', source: 'vastai-config'});
  });

  it('ignores empty values and skips unreadable or broken files with a note', () => {
    const env = freshEnv({VAST_API_KEY: '   '});
    const vastaiFile = join(env.XDG_CONFIG_HOME!, 'vastai', 'vast_api_key');
    writeKeyFile(vastaiFile, '\n');
    mkdirSync(join(env.HOME!, '.vast_api_key'));
    writeKeyFile(join(env.XDG_CONFIG_HOME!, 'vastdeck', 'credentials.json'), '{not json');
    const notes: string[] = [];
    expect(resolveApiKey(env, note => notes.push(note))).toBeUndefined();
    expect(notes).toHaveLength(2);
    expect(notes[0]).toContain('~/.vast_api_key');
    expect(notes[1]).toContain('~/.config/vastdeck/credentials.json');
  });

  it('notes a key file that other users can read', () => {
    const env = freshEnv();
    writeKeyFile(join(env.HOME!, '.vast_api_key'), 'k', 0o644);
    const notes: string[] = [];
    expect(resolveApiKey(env, note => notes.push(note))?.key).toBe('k');
    expect(notes.join()).toContain('chmod 600 ~/.vast_api_key');
  });
});

describe('saveApiKey', () => {
  it('writes 0600 in a 0700 directory, atomically, and returns the path', () => {
    const env = freshEnv();
    const path = saveApiKey('  secret-key-1  ', env);
    expect(path).toBe(join(env.XDG_CONFIG_HOME!, 'vastdeck', 'credentials.json'));
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(path, '..')).mode & 0o777).toBe(0o700);
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({apiKey: 'secret-key-1'});
    expect(readdirSync(join(path, '..'))).toEqual(['credentials.json']);
  });

  it('tightens an existing looser file and directory', () => {
    const env = freshEnv();
    const dir = join(env.XDG_CONFIG_HOME!, 'vastdeck');
    mkdirSync(dir, {recursive: true, mode: 0o755});
    chmodSync(dir, 0o755);
    writeKeyFile(join(dir, 'credentials.json'), '{"apiKey": "old"}', 0o644);
    const path = saveApiKey('new', env);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(resolveApiKey(env)?.key).toBe('new');
  });

  it('refuses an empty key or one with spaces inside, without echoing it', () => {
    const env = freshEnv();
    expect(() => saveApiKey('   ', env)).toThrow(InputError);
    expect(() => saveApiKey('abc def', env)).toThrow(/does not look like a Vast.ai API key/);
    expect(() => saveApiKey('abc def', env)).not.toThrow(/abc def/);
  });
});

describe('resolveBaseUrl', () => {
  it('defaults to the public console', () => {
    expect(resolveBaseUrl({})).toBe('https://console.vast.ai');
    expect(resolveBaseUrl({VAST_URL: ' '})).toBe('https://console.vast.ai');
  });

  it('strips a trailing slash and /api/v0', () => {
    expect(resolveBaseUrl({VAST_URL: 'http://127.0.0.1:8080/'})).toBe('http://127.0.0.1:8080');
    expect(resolveBaseUrl({VAST_URL: 'https://console.vast.ai/api/v0/'})).toBe('https://console.vast.ai');
    expect(resolveBaseUrl({VAST_URL: 'https://proxy.example/vast/api/v0'})).toBe('https://proxy.example/vast');
  });

  it('refuses anything but a plain http(s) URL, without echoing it', () => {
    for (const bad of ['console.vast.ai', 'ftp://x', 'https://x/?api_key=SECRET', 'https://user:SECRET@x']) {
      let message = '';
      try {
        resolveBaseUrl({VAST_URL: bad});
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        message = (error as Error).message;
      }
      expect(message).toContain('VAST_URL');
      expect(message).not.toContain('SECRET');
    }
  });
});

describe('describeKeySource', () => {
  it('names the source and never the key', () => {
    const env = freshEnv();
    const path = join(env.XDG_CONFIG_HOME!, 'vastdeck', 'credentials.json');
    expect(describeKeySource({source: 'VAST_API_KEY'}, env)).toBe('the VAST_API_KEY environment variable');
    expect(describeKeySource({source: 'vastdeck-credentials', path}, env)).toBe("vastdeck's saved key in ~/.config/vastdeck/credentials.json");
    expect(describeKeySource({source: 'legacy-file', path: join(env.HOME!, '.vast_api_key')}, env)).toBe('the legacy key file ~/.vast_api_key');
  });
});

describe('vastdeck login', () => {
  const KEY = 'abcdef0123456789-login-SECRET';

  function sink(): {stream: Writable; text: () => string} {
    let text = '';
    return {stream: new Writable({write: (chunk, _encoding, callback) => ((text += String(chunk)), callback())}), text: () => text};
  }

  /** A fake terminal: raw mode is recorded, and `type` feeds keystrokes once the prompt listens. */
  function terminal(...keystrokes: string[]): NodeJS.ReadStream & {rawModes: boolean[]} {
    const stream = Object.assign(new PassThrough(), {isTTY: true, isRaw: false, rawModes: [] as boolean[]});
    Object.assign(stream, {
      setRawMode(mode: boolean) {
        stream.rawModes.push(mode);
        stream.isRaw = mode;
        return stream;
      },
    });
    setImmediate(() => {
      for (const keys of keystrokes) stream.write(keys);
    });
    return stream as unknown as NodeJS.ReadStream & {rawModes: boolean[]};
  }

  function login(argv: string[], stdin: NodeJS.ReadStream, env: NodeJS.ProcessEnv, verify?: (key: string) => Promise<void | {email: string}>) {
    const stdout = sink();
    const stderr = sink();
    const code = runLoginCommand(argv, {stdin, stdout: stdout.stream, stderr: stderr.stream, env}, verify ? {verify} : {});
    return {code, out: stdout.text, err: stderr.text};
  }

  it('reads the first line of piped stdin, verifies, saves and says it will be used', async () => {
    const env = freshEnv();
    const checked: string[] = [];
    const result = login([], Readable.from([`${KEY}\nsecond line\n`]) as NodeJS.ReadStream, env, async key => void checked.push(key));
    expect(await result.code).toBe(0);
    expect(checked).toEqual([KEY]);
    expect(resolveApiKey(env)).toMatchObject({key: KEY, source: 'vastdeck-credentials'});
    expect(result.out()).toContain('Saved the key to ~/.config/vastdeck/credentials.json');
    expect(result.out()).toContain('vastdeck will use it from now on');
    expect(result.out() + result.err()).not.toContain(KEY);
  });

  it('reads a hidden key from a terminal: no echo, backspace works, raw mode is restored', async () => {
    const env = freshEnv();
    const stdin = terminal('abc', 'x\u007f', '\u001b[A123', '\r');
    const result = login(['--no-verify'], stdin, env);
    expect(await result.code).toBe(0);
    expect(resolveApiKey(env)?.key).toBe('abc123');
    expect(stdin.rawModes).toEqual([true, false]);
    expect(result.out()).toMatch(/^Paste your Vast.ai API key .*nothing is shown\): \n/);
    expect(result.out()).not.toContain('abc');
  });

  it('aborts on Ctrl-C without saving', async () => {
    const env = freshEnv();
    const result = login(['--no-verify'], terminal('abc\u0003'), env);
    expect(await result.code).toBe(130);
    expect(result.err()).toContain('no key was saved');
    expect(resolveApiKey(env)).toBeUndefined();
  });

  it('refuses a key given as an argument or flag, without echoing it', async () => {
    for (const argv of [[KEY], ['--key', KEY], [`--key=${KEY}`], [`--api-key=${KEY}`]]) {
      const env = freshEnv();
      const result = login(argv, Readable.from([]) as NodeJS.ReadStream, env, async () => {});
      expect(await result.code).toBe(2);
      expect(result.err()).toContain('shell history and `ps` would show it');
      expect(result.err()).toContain('printf %s "$KEY" | vastdeck login');
      expect(result.err()).not.toContain(KEY);
      expect(resolveApiKey(env)).toBeUndefined();
    }
  });

  it('refuses an empty key', async () => {
    const result = login([], Readable.from(['\n']) as NodeJS.ReadStream, freshEnv(), async () => {});
    expect(await result.code).toBe(2);
    expect(result.err()).toContain('No API key was given');
  });

  it('checks the key against VAST_URL and does not save a refused one', async () => {
    const server = createServer((request, response) => {
      const ok = request.headers.authorization === `Bearer ${KEY}` && request.url === '/api/v0/users/current/';
      response.writeHead(ok ? 200 : 401, {'content-type': 'application/json'});
      response.end(JSON.stringify(ok ? {id: 1, email: 'me@example.com', balance: 0, credit: 5, api_key: KEY} : {error: 'auth_error', msg: 'Invalid user key'}));
    });
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
    const env = freshEnv({VAST_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v0/`});
    try {
      const refused = login([], Readable.from(['wrong-key\n']) as NodeJS.ReadStream, env);
      expect(await refused.code).toBe(1);
      expect(refused.err()).toContain('refused this API key, so it was not saved');
      expect(resolveApiKey(env)).toBeUndefined();

      const accepted = login([], Readable.from([`${KEY}\n`]) as NodeJS.ReadStream, env);
      expect(await accepted.code).toBe(0);
      expect(accepted.out()).toContain('The key works (account me@example.com).');
      expect(accepted.out()).not.toContain(KEY);
      expect(resolveApiKey(env)?.key).toBe(KEY);
    } finally {
      server.closeAllConnections();
      await new Promise(resolve => server.close(resolve));
    }
  });

  it('warns when VAST_API_KEY or the vastai key file will win at run time', async () => {
    const env = freshEnv({VAST_API_KEY: 'other'});
    const result = login(['--no-verify'], Readable.from([`${KEY}\n`]) as NodeJS.ReadStream, env);
    expect(await result.code).toBe(0);
    expect(result.out()).toContain('Note: the VAST_API_KEY environment variable comes first and will be used instead');
    expect(result.out()).not.toContain('other');

    const fileEnv = freshEnv();
    writeKeyFile(join(fileEnv.XDG_CONFIG_HOME!, 'vastai', 'vast_api_key'), KEY);
    const same = login(['--no-verify'], Readable.from([`${KEY}\n`]) as NodeJS.ReadStream, fileEnv);
    expect(await same.code).toBe(0);
    expect(same.out()).toContain("the vastai CLI's key file ~/.config/vastai/vast_api_key comes first");
    expect(same.out()).toContain('it holds the same key');
  });
});
