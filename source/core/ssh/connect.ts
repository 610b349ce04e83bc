// Opens an SSH connection to an instance with the user's key or agent, pins the host key through
// KnownHosts (trust on first use, refuse a changed key) and keeps it alive; every failure becomes an
// SshError with one sentence for the user. Also runs small commands (execCapture). Used by log-stream.ts.
import ssh2, {type Client as SshClient, type ConnectConfig} from 'ssh2';
import {tildePath} from '../credentials.js';
import {VastdeckError} from '../errors.js';
import {pinKeyInstance, type HostKeyCheck, type KnownHosts} from './known-hosts.js';

const {Client} = ssh2;

/** What went wrong, for callers that decide whether to retry. */
export type SshFailure = 'auth' | 'key' | 'host-key' | 'unreachable' | 'timeout' | 'keepalive' | 'dropped';

export class SshError extends VastdeckError {
  readonly failure: SshFailure;
  constructor(failure: SshFailure, message: string, detail?: string) {
    super('ssh', message, {detail});
    this.name = 'SshError';
    this.failure = failure;
  }
}

/** What to log in with (keys.ts's SshIdentity fits); private key bytes never appear in messages. */
export interface LoginIdentity {
  /** An OpenSSH or PEM private key, unencrypted (a passphrase-protected key belongs in ssh-agent). */
  privateKey?: Buffer;
  /** $SSH_AUTH_SOCK. */
  agentSocket?: string;
  /** The key file, named in messages. */
  path?: string;
}

export interface ConnectSshOptions {
  host: string;
  port: number;
  /** 'root' on Vast instances. */
  username?: string;
  identity: LoginIdentity;
  /** The KnownHosts key of the instance: `hostPinKey(apiOrigin, instanceId)`. */
  pinKey: string;
  knownHosts: KnownHosts;
  readyTimeoutMs?: number;
  keepaliveIntervalMs?: number;
  keepaliveCountMax?: number;
}

export interface ExecResult {
  /** Undefined when the command died of a signal or the server sent no status. */
  code: number | undefined;
  stdout: string;
  stderr: string;
}

/** Why a connected client went away, recorded from its 'error' event (see sshDropReason). */
const dropReasons = new WeakMap<SshClient, SshError>();

/** OpenSSH's 'SHA256:<unpadded base64>' for ssh2's hex sha256 digest of a host key. */
export function openSshFingerprint(hexDigest: string): string {
  return `SHA256:${Buffer.from(hexDigest, 'hex').toString('base64').replace(/=+$/, '')}`;
}

/** Resolves with a connected client; rejects with an SshError (or the ConfigError of a damaged pin file). */
export function connectSsh(options: ConnectSshOptions): Promise<SshClient> {
  const {host, port, identity, knownHosts, pinKey} = options;
  const where = `${host}:${port}`;
  const instance = pinKeyInstance(pinKey);
  const keyLabel = identity.path ? tildePath(identity.path) : identity.privateKey ? 'your private key' : 'the key in ssh-agent';
  if (!identity.privateKey && !identity.agentSocket) {
    return Promise.reject(new SshError('key', 'vastdeck has no SSH key to log in with: create one with `ssh-keygen -t ed25519`, or start ssh-agent so SSH_AUTH_SOCK is set.'));
  }
  const readyTimeoutMs = options.readyTimeoutMs ?? 15_000;
  let seen: {fingerprint: string; check: HostKeyCheck} | undefined;
  let verifyError: unknown;
  const hostVerifier = (hexDigest: string): boolean => {
    const fingerprint = openSshFingerprint(hexDigest);
    try {
      seen = {fingerprint, check: knownHosts.check(pinKey, fingerprint)};
    } catch (error) {
      verifyError = error;
      return false;
    }
    return seen.check !== 'changed';
  };
  const config: ConnectConfig = {
    host,
    port,
    username: options.username ?? 'root',
    ...(identity.privateKey ? {privateKey: identity.privateKey} : {}),
    ...(identity.agentSocket ? {agent: identity.agentSocket} : {}),
    hostHash: 'sha256',
    hostVerifier,
    readyTimeout: readyTimeoutMs,
    keepaliveInterval: options.keepaliveIntervalMs ?? 10_000,
    keepaliveCountMax: options.keepaliveCountMax ?? 3,
  };

  return new Promise<SshClient>((resolve, reject) => {
    const client = new Client();
    const fail = (error: unknown): void => {
      client.removeAllListeners('ready').removeAllListeners('close');
      client.on('error', () => {});
      client.end();
      if (verifyError) reject(verifyError);
      else if (seen?.check === 'changed') reject(hostKeyChanged(instance, where, seen.fingerprint));
      else reject(loginError(error, {where, instance, keyLabel, readyTimeoutMs}));
    };
    client.once('error', fail);
    client.once('close', () => fail(new Error('the connection closed during login')));
    client.once('ready', () => {
      client.removeListener('error', fail).removeAllListeners('close');
      try {
        if (seen?.check === 'new') knownHosts.pin(pinKey, seen.fingerprint, where);
      } catch (error) {
        verifyError = error;
        fail(error);
        return;
      }
      client.on('error', (error: unknown) => dropReasons.set(client, dropError(error, where)));
      resolve(client);
    });
    try {
      client.connect(config);
    } catch (error) {
      // ssh2 throws synchronously on a key it cannot parse (e.g. one that needs a passphrase).
      client.removeAllListeners();
      reject(new SshError('key', `vastdeck cannot use the SSH key ${keyLabel}: it is not an unencrypted private key (a passphrase-protected key works through ssh-agent: run \`ssh-add\`).`, firstLine(error)));
    }
  });
}

/** Why a client from connectSsh closed, when an error said so (a keepalive timeout, a reset socket). */
export function sshDropReason(client: SshClient): SshError | undefined {
  return dropReasons.get(client);
}

/** Runs a small command (e.g. `test -e /.provisioning_complete`) and collects its output. */
export function execCapture(client: SshClient, command: string, options: {timeoutMs: number}): Promise<ExecResult> {
  return new Promise<ExecResult>((resolve, reject) => {
    const shown = command.length > 60 ? `${command.slice(0, 57)}...` : command;
    try {
      client.exec(command, (error, channel) => {
        if (error) {
          reject(new SshError('dropped', `The instance did not run \`${shown}\` (${firstLine(error)}): vastdeck tries again when the connection is back.`));
          return;
        }
        const stdout: Buffer[] = [];
        const stderr: Buffer[] = [];
        let code: number | undefined;
        const timer = setTimeout(() => {
          channel.close();
          reject(new SshError('timeout', `\`${shown}\` did not finish within ${seconds(options.timeoutMs)} on the instance: it may be overloaded, try again in a moment.`));
        }, options.timeoutMs);
        channel.on('data', (chunk: Buffer) => stdout.push(chunk));
        channel.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
        channel.on('exit', (status: number | null) => {
          code = typeof status === 'number' ? status : undefined;
        });
        channel.on('close', () => {
          clearTimeout(timer);
          resolve({code, stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8')});
        });
      });
    } catch (error) {
      reject(new SshError('dropped', `The SSH connection is closed, so \`${shown}\` did not run (${firstLine(error)}): reconnect and try again.`));
    }
  });
}

function hostKeyChanged(instance: string, where: string, fingerprint: string): SshError {
  return new SshError(
    'host-key',
    `The SSH host key of instance ${instance} changed (possible interception, or the instance was recreated), so vastdeck refused to connect: if you trust it, run \`vastdeck ssh-forget ${instance}\` (or forget the key in the dashboard) and reconnect.`,
    `${where} now shows ${fingerprint}`,
  );
}

function loginError(error: unknown, context: {where: string; instance: string; keyLabel: string; readyTimeoutMs: number}): SshError {
  const {where, instance, keyLabel} = context;
  const level = (error as {level?: string}).level;
  const code = (error as NodeJS.ErrnoException).code;
  const detail = firstLine(error);
  if (level === 'client-authentication') {
    return new SshError('auth', `Instance ${instance} refused your SSH key (${keyLabel}): it can take a few seconds after boot for keys to propagate and vastdeck retries; if it persists, check the key is attached to the instance or to your Vast.ai account.`, detail);
  }
  if (level === 'agent') {
    return new SshError('key', `vastdeck cannot use ${keyLabel} (${detail}): check that ssh-agent is running and SSH_AUTH_SOCK points to it.`, detail);
  }
  if (level === 'client-timeout') {
    return new SshError('timeout', `SSH to instance ${instance} at ${where} did not finish logging in within ${seconds(context.readyTimeoutMs)}: the instance may still be starting, vastdeck retries.`, detail);
  }
  if (code === 'ECONNREFUSED') {
    return new SshError('unreachable', `Instance ${instance} refused the SSH connection at ${where}: its SSH server may not be up yet, vastdeck retries.`, detail);
  }
  if (code !== undefined && level === 'client-socket') {
    return new SshError('unreachable', `Cannot reach instance ${instance} at ${where} over SSH (${code}): check your network, vastdeck retries.`, detail);
  }
  return new SshError('dropped', `SSH login to instance ${instance} at ${where} failed (${detail}): vastdeck retries.`, detail);
}

function dropError(error: unknown, where: string): SshError {
  if ((error as {level?: string}).level === 'client-timeout') {
    return new SshError('keepalive', `The SSH connection to ${where} stopped answering (keepalive timeout): vastdeck reconnects, check your network if it keeps happening.`);
  }
  return new SshError('dropped', `The SSH connection to ${where} broke (${firstLine(error)}): vastdeck reconnects.`);
}

function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return (text.split('\n', 1)[0] ?? '').replace(/[.\s]+$/, '').slice(0, 200);
}

