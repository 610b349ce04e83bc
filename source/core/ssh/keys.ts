// Finds the SSH identity vastdeck logs in with (ssh-agent first, then ~/.ssh key files), creates
// vastdeck's own ed25519 key on request, and registers the public key on the Vast.ai account
// before any create (docs/vast-api.md §6.2). Used by create.ts and the SSH log streams.
import {existsSync, readFileSync, writeFileSync} from 'node:fs';
import {homedir} from 'node:os';
import {basename, isAbsolute, join} from 'node:path';
import ssh2 from 'ssh2';
import type {ParsedKey} from 'ssh2';
import {tildePath, writePrivateFile} from '../credentials.js';
import {InputError, VastdeckError} from '../errors.js';
import type {VastClient} from '../vast/client.js';
import {addAccountSshKey, listAccountSshKeys} from '../vast/instances-api.js';

const {utils, OpenSSHAgent} = ssh2;

export interface SshIdentity {
  source: 'agent' | 'file';
  path?: string;
  /** One OpenSSH line: '<type> <base64> <comment>'. */
  publicKey: string;
  /** The key file's bytes (file source only); never logged. */
  privateKey?: Buffer;
  agentSocket?: string;
}

/** Key files tried in order, in ~/.ssh; vastdeck's own key last. */
const KEY_FILES = ['id_ed25519', 'id_ecdsa', 'id_rsa', 'vastdeck_ed25519'] as const;
const VASTDECK_KEY_FILE = 'vastdeck_ed25519';
const AGENT_TIMEOUT_MS = 3000;

export const NO_SSH_KEY_MESSAGE =
  'No SSH key found (looked in ssh-agent and ~/.ssh/id_ed25519, id_ecdsa, id_rsa and vastdeck_ed25519): make one with `ssh-keygen -t ed25519`, or press K in the Instances pane of the dashboard (or pass --create-key to `vastdeck up`) to let vastdeck create ~/.ssh/vastdeck_ed25519.';

/**
 * The first usable identity: an ssh-agent key (SSH_AUTH_SOCK), else the first unencrypted key file.
 * A passphrase-protected file with no agent to unlock it is explained rather than skipped silently
 * when nothing else is found.
 */
export async function findSshIdentity(env: NodeJS.ProcessEnv = process.env): Promise<SshIdentity | undefined> {
  const socket = env.SSH_AUTH_SOCK;
  if (socket) {
    const agentKey = await firstAgentKey(socket);
    if (agentKey) return {source: 'agent', publicKey: publicKeyLine(agentKey, 'ssh-agent'), agentSocket: socket};
  }
  let encryptedPath: string | undefined;
  for (const name of KEY_FILES) {
    const path = join(sshDir(env), name);
    const found = readKeyFile(path);
    if (found === 'encrypted') encryptedPath ??= path;
    else if (found) return found;
  }
  if (encryptedPath) {
    const shown = tildePath(encryptedPath, env);
    throw new VastdeckError(
      'ssh',
      `The SSH key ${shown} has a passphrase and no ssh-agent holds it: run \`ssh-add ${shown}\` with SSH_AUTH_SOCK set, or press K in the Instances pane of the dashboard (or pass --create-key to \`vastdeck up\`) to let vastdeck create its own key ~/.ssh/vastdeck_ed25519.`,
    );
  }
  return undefined;
}

/** ~/.ssh/vastdeck_ed25519 (0600, in a 0700 ~/.ssh) and its .pub; an existing one is reused, never overwritten. */
export async function createVastdeckKey(env: NodeJS.ProcessEnv = process.env): Promise<SshIdentity> {
  const path = join(sshDir(env), VASTDECK_KEY_FILE);
  if (existsSync(path)) {
    const existing = readKeyFile(path);
    if (existing && existing !== 'encrypted') return existing;
    throw new VastdeckError('ssh', `${tildePath(path, env)} exists but vastdeck cannot use it (${existing === 'encrypted' ? 'it has a passphrase' : 'not a readable private key'}): move it away so vastdeck can make a new one.`);
  }
  const pair = generateUsableKeyPair();
  writePrivateFile(path, pair.private);
  writeFileSync(`${path}.pub`, `${pair.public.trim()}\n`, {mode: 0o644});
  return {source: 'file', path, publicKey: pair.public.trim(), privateKey: Buffer.from(pair.private)};
}

/**
 * ssh2's ed25519 generator makes about 1 key in 270 that its own parser rejects (a public key with a
 * leading zero byte): keep only a pair whose private and public halves both parse.
 */
function generateUsableKeyPair(): {private: string; public: string} {
  for (let attempt = 0; ; attempt++) {
    const pair = utils.generateKeyPairSync('ed25519', {comment: 'vastdeck'});
    const parsedPrivate = utils.parseKey(pair.private);
    const parsedPublic = utils.parseKey(pair.public);
    if ((!(parsedPrivate instanceof Error) && !(parsedPublic instanceof Error)) || attempt >= 20) return pair;
  }
}

/** The user's identity, or vastdeck's own key created on request; otherwise the no-key sentence as an InputError. */
export async function requireSshIdentity(options: {createKey: boolean; env?: NodeJS.ProcessEnv}): Promise<SshIdentity> {
  const identity = (await findSshIdentity(options.env)) ?? (options.createKey ? await createVastdeckKey(options.env) : undefined);
  if (!identity) throw new InputError(NO_SSH_KEY_MESSAGE);
  return identity;
}

/** Adds the identity's public key to the Vast.ai account unless it is there (compared by type + key, not comment). */
export async function ensureKeyRegistered(client: VastClient, identity: SshIdentity): Promise<'already' | 'added'> {
  const wanted = keyBody(identity.publicKey);
  const keys = await listAccountSshKeys(client);
  if (keys.some(key => keyBody(key.publicKey) === wanted)) return 'already';
  await addAccountSshKey(client, identity.publicKey);
  return 'added';
}

/** '<type> <base64>' of an OpenSSH public key line, without the comment. */
export function keyBody(line: string): string {
  return line.trim().split(/\s+/, 2).join(' ');
}

/** A usable identity, 'encrypted' for a passphrase-protected key, undefined when absent or unreadable. */
function readKeyFile(path: string): SshIdentity | 'encrypted' | undefined {
  let privateKey: Buffer;
  try {
    privateKey = readFileSync(path);
  } catch {
    return undefined;
  }
  const parsed = utils.parseKey(privateKey);
  if (parsed instanceof Error) return /passphrase|encrypted/i.test(parsed.message) ? 'encrypted' : undefined;
  if (!parsed.isPrivateKey()) return undefined;
  return {source: 'file', path, publicKey: publicKeyLine(parsed, basename(path)), privateKey};
}

function firstAgentKey(socket: string): Promise<ParsedKey | undefined> {
  return new Promise(resolve => {
    const timer = setTimeout(() => resolve(undefined), AGENT_TIMEOUT_MS);
    new OpenSSHAgent(socket).getIdentities((error, keys) => {
      clearTimeout(timer);
      resolve(error ? undefined : keys?.find((key): key is ParsedKey => typeof (key as Partial<ParsedKey>).getPublicSSH === 'function'));
    });
  });
}

function publicKeyLine(key: ParsedKey, fallbackComment: string): string {
  const comment = key.comment.trim() || fallbackComment;
  return `${key.type} ${key.getPublicSSH().toString('base64')} ${comment}`;
}

function sshDir(env: NodeJS.ProcessEnv): string {
  const home = env.HOME && isAbsolute(env.HOME) ? env.HOME : homedir();
  return join(home, '.ssh');
}
