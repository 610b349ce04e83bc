// Where vastdeck connects: a usable key means the live API, no key at all means the demo, and a key
// file that exists but cannot be used is an error — never a silent fall back to the demo.
import {mkdirSync, mkdtempSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {connect} from '../../source/connect.js';

function home(): NodeJS.ProcessEnv {
  const dir = mkdtempSync(join(tmpdir(), 'vastdeck-connect-'));
  return {HOME: dir, XDG_CONFIG_HOME: join(dir, '.config'), XDG_STATE_HOME: join(dir, '.local', 'state')};
}

describe('connect', () => {
  it('uses the live API with a key, and says where the key came from without showing it', async () => {
    const env = {...home(), VAST_API_KEY: 'k'.repeat(64), VAST_URL: 'http://127.0.0.1:9'};
    const connection = await connect({env});
    expect(connection.mode).toBe('live');
    expect(connection.detail).toContain('VAST_API_KEY');
    expect(JSON.stringify({...connection, apiKey: undefined})).not.toContain('k'.repeat(64));
    await connection.close();
  });

  it('refuses to fall back to the demo when vastdeck’s credentials file is broken', async () => {
    const env = home();
    mkdirSync(join(env.XDG_CONFIG_HOME!, 'vastdeck'), {recursive: true});
    writeFileSync(join(env.XDG_CONFIG_HOME!, 'vastdeck', 'credentials.json'), '{"apiKey": "abc', {mode: 0o600});
    await expect(connect({env})).rejects.toThrow(/credentials\.json: it is not valid JSON.*will not fall back to the demo.*--demo/);
  });

  it('still starts the demo on request with a broken key file', async () => {
    const env = home();
    mkdirSync(join(env.XDG_CONFIG_HOME!, 'vastdeck'), {recursive: true});
    writeFileSync(join(env.XDG_CONFIG_HOME!, 'vastdeck', 'credentials.json'), 'not json');
    const connection = await connect({env, demo: true});
    expect(connection.mode).toBe('demo');
    expect(connection.warnings.join(' ')).toMatch(/demo mode/);
    await connection.close();
  });
});
