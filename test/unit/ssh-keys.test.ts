// Finding the user's SSH identity: a real ssh-agent first, then ~/.ssh key files in order,
// passphrase-protected keys explained, and vastdeck's own key created with private modes.
import {spawn, spawnSync, type ChildProcess} from 'node:child_process';
import {existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import ssh2 from 'ssh2';
import {afterAll, describe, expect, it} from 'vitest';
import {VastdeckError} from '../../source/core/errors.js';
import {createVastdeckKey, findSshIdentity, keyBody, NO_SSH_KEY_MESSAGE} from '../../source/core/ssh/keys.js';
import {usableKeyPair} from '../helpers/ssh-key.js';

const {utils} = ssh2;
const PUBLIC_LINE = /^(ssh-ed25519|ecdsa-sha2-nistp256|ssh-rsa) [A-Za-z0-9+/]+=* \S.*$/;

/** A fresh HOME with ~/.ssh holding the named key files (ssh2's generator, OpenSSH format). */
function homeWith(keys: Partial<Record<string, {type: 'ed25519' | 'ecdsa' | 'rsa'; passphrase?: string}>>): {env: NodeJS.ProcessEnv; publicOf: Record<string, string>} {
  const home = mkdtempSync(join(tmpdir(), 'vastdeck-keys-'));
  const sshDir = join(home, '.ssh');
  mkdirSync(sshDir, {mode: 0o700});
  const publicOf: Record<string, string> = {};
  for (const [name, spec] of Object.entries(keys)) {
    if (!spec) continue;
    const options = {
      comment: `${name}@test`,
      ...(spec.type === 'rsa' ? {bits: 2048} : spec.type === 'ecdsa' ? {bits: 256} : {}),
      ...(spec.passphrase ? {passphrase: spec.passphrase, cipher: 'aes256-ctr', rounds: 16} : {}),
    };
    const pair = usableKeyPair(spec.type as 'ed25519', options);
    writeFileSync(join(sshDir, name), pair.private, {mode: 0o600});
    writeFileSync(join(sshDir, `${name}.pub`), `${pair.public}\n`);
    publicOf[name] = pair.public.trim();
  }
  return {env: {HOME: home}, publicOf};
}

describe('findSshIdentity from key files', () => {
  it('prefers id_ed25519, then id_ecdsa, then id_rsa, then vastdeck_ed25519', async () => {
    const all = homeWith({id_ed25519: {type: 'ed25519'}, id_ecdsa: {type: 'ecdsa'}, id_rsa: {type: 'rsa'}, vastdeck_ed25519: {type: 'ed25519'}});
    expect((await findSshIdentity(all.env))?.path).toBe(join(all.env.HOME!, '.ssh', 'id_ed25519'));
    const noEd = homeWith({id_ecdsa: {type: 'ecdsa'}, id_rsa: {type: 'rsa'}});
    expect((await findSshIdentity(noEd.env))?.path).toMatch(/id_ecdsa$/);
    const rsaOnly = homeWith({id_rsa: {type: 'rsa'}, vastdeck_ed25519: {type: 'ed25519'}});
    expect((await findSshIdentity(rsaOnly.env))?.path).toMatch(/id_rsa$/);
    const ours = homeWith({vastdeck_ed25519: {type: 'ed25519'}});
    expect((await findSshIdentity(ours.env))?.path).toMatch(/vastdeck_ed25519$/);
  });

  it('derives the same OpenSSH public key line as the .pub file, for each key type', async () => {
    for (const type of ['ed25519', 'ecdsa', 'rsa'] as const) {
      const name = `id_${type}`;
      const {env, publicOf} = homeWith({[name]: {type}});
      const identity = await findSshIdentity(env);
      expect(identity).toMatchObject({source: 'file', path: join(env.HOME!, '.ssh', name)});
      expect(identity!.publicKey).toMatch(PUBLIC_LINE);
      expect(keyBody(identity!.publicKey)).toBe(keyBody(publicOf[name]!));
      expect(identity!.publicKey.endsWith(` ${name}@test`)).toBe(true);
      expect(identity!.privateKey?.toString()).toContain('PRIVATE KEY');
    }
  });

  it('skips a passphrase-protected key when a usable one follows', async () => {
    const {env} = homeWith({id_ed25519: {type: 'ed25519', passphrase: 'secret'}, id_rsa: {type: 'rsa'}});
    expect((await findSshIdentity(env))?.path).toMatch(/id_rsa$/);
  });

  it('explains a passphrase-protected key with no agent in one sentence', async () => {
    const {env} = homeWith({id_ed25519: {type: 'ed25519', passphrase: 'secret'}});
    const failure = await findSshIdentity(env).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(VastdeckError);
    expect((failure as VastdeckError).code).toBe('ssh');
    expect((failure as Error).message).toMatch(/^The SSH key ~\/\.ssh\/id_ed25519 has a passphrase and no ssh-agent holds it: run `ssh-add ~\/\.ssh\/id_ed25519`.*vastdeck_ed25519\.$/);
  });

  it('finds nothing in an empty home, and the message says where it looked and how to make a key', async () => {
    const {env} = homeWith({});
    expect(await findSshIdentity(env)).toBeUndefined();
    expect(NO_SSH_KEY_MESSAGE).toContain('~/.ssh/id_ed25519');
    expect(NO_SSH_KEY_MESSAGE).toContain('ssh-keygen -t ed25519');
    expect(NO_SSH_KEY_MESSAGE).toContain('~/.ssh/vastdeck_ed25519');
  });

  it('falls back to files when SSH_AUTH_SOCK points at nothing', async () => {
    const {env} = homeWith({id_ed25519: {type: 'ed25519'}});
    const identity = await findSshIdentity({...env, SSH_AUTH_SOCK: join(env.HOME!, 'no-such-agent.sock')});
    expect(identity?.source).toBe('file');
  });
});

describe('createVastdeckKey', () => {
  it('writes ~/.ssh/vastdeck_ed25519 (0600) and .pub into a 0700 ~/.ssh, then reuses it', async () => {
    const home = mkdtempSync(join(tmpdir(), 'vastdeck-newkey-'));
    const env = {HOME: home};
    const identity = await createVastdeckKey(env);
    const path = join(home, '.ssh', 'vastdeck_ed25519');
    expect(identity).toMatchObject({source: 'file', path});
    expect(identity.publicKey).toMatch(/^ssh-ed25519 [A-Za-z0-9+/]+=* vastdeck$/);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(home, '.ssh')).mode & 0o777).toBe(0o700);
    expect(readFileSync(`${path}.pub`, 'utf8').trim()).toBe(identity.publicKey);
    expect((await createVastdeckKey(env)).publicKey).toBe(identity.publicKey);
    expect((await findSshIdentity(env))?.publicKey).toBe(identity.publicKey);
  });

  it('never overwrites a vastdeck_ed25519 it cannot use', async () => {
    const home = mkdtempSync(join(tmpdir(), 'vastdeck-badkey-'));
    mkdirSync(join(home, '.ssh'), {mode: 0o700});
    const path = join(home, '.ssh', 'vastdeck_ed25519');
    writeFileSync(path, 'not a key', {mode: 0o600});
    await expect(createVastdeckKey({HOME: home})).rejects.toThrow(/vastdeck_ed25519 exists but vastdeck cannot use it \(not a readable private key\): move it away/);
    expect(readFileSync(path, 'utf8')).toBe('not a key');
  });
});

const hasSshAgent = spawnSync('ssh-agent', ['-h']).error === undefined && spawnSync('ssh-add', ['-h']).error === undefined;
const agents: ChildProcess[] = [];
afterAll(() => {
  for (const agent of agents) agent.kill();
});

describe.skipIf(!hasSshAgent)('findSshIdentity with a real ssh-agent', () => {
  it('uses the agent key before any file, with the agent socket', async () => {
    const {env} = homeWith({id_ed25519: {type: 'ed25519'}, id_rsa: {type: 'rsa'}});
    const socket = join(env.HOME!, 'agent.sock');
    const agent = spawn('ssh-agent', ['-D', '-a', socket], {stdio: 'ignore'});
    agents.push(agent);
    for (let tries = 0; !existsSync(socket) && tries < 100; tries++) await new Promise(resolve => setTimeout(resolve, 20));
    const added = spawnSync('ssh-add', [join(env.HOME!, '.ssh', 'id_rsa')], {env: {...process.env, SSH_AUTH_SOCK: socket}, stdio: 'pipe'});
    expect(added.status).toBe(0);
    const identity = await findSshIdentity({...env, SSH_AUTH_SOCK: socket});
    expect(identity).toMatchObject({source: 'agent', agentSocket: socket});
    expect(identity).not.toHaveProperty('privateKey');
    expect(identity!.publicKey).toMatch(PUBLIC_LINE);
    expect(keyBody(identity!.publicKey)).toBe(keyBody(readFileSync(join(env.HOME!, '.ssh', 'id_rsa.pub'), 'utf8')));
  });
});
