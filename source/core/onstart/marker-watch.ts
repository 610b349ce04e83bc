// Waits for an OnStart job's done marker over SSH only: the instance list just until the instance has
// an SSH address, then `cat /workspace/vastdeck/done.json` every few seconds (the runner's last log
// line as progress meanwhile), reconnecting after drops. No ComfyUI, no portal. Used by onstart-run.ts.
import type {Client as SshClient} from 'ssh2';
import {toVastdeckError, VastdeckError} from '../errors.js';
import {sshEndpoint} from '../instances/endpoints.js';
import {heartbeatCommand} from '../provisioning/autostop.js';
import {connectSsh, execCapture, SshError} from '../ssh/connect.js';
import {hostPinKey, type KnownHosts} from '../ssh/known-hosts.js';
import type {SshIdentity} from '../ssh/keys.js';
import type {VastClient} from '../vast/client.js';
import {getInstance} from '../vast/instances-api.js';
import {DONE_MARKER_PATH, ONSTART_LOG_PATH, parseMarker, type OnStartMarker} from './job-env.js';

export type MarkerWatchEvent =
  | {kind: 'instance-status' | 'ssh-connected' | 'ssh-dropped' | 'warning'; message: string}
  | {kind: 'runner'; line: string; message: string};

export interface MarkerWatchOptions {
  client: VastClient;
  instanceId: number;
  jobId: string;
  apiOrigin: string;
  identity: SshIdentity;
  knownHosts: KnownHosts;
  /** Between marker checks over SSH. */
  pollMs: number;
  /** Between instance-list calls while the instance has no SSH address yet. */
  listPollMs: number;
  /** The whole wait, boot included. */
  timeoutMs: number;
  signal?: AbortSignal;
  onEvent: (event: MarkerWatchEvent) => void;
}

/** The marker, and the open SSH connection it came over (the caller collects through it, then ends it). */
export interface MarkerFound {
  marker: OnStartMarker;
  ssh: SshClient;
}

/**
 * The marker if there is one, else the runner's last log line (or nothing before it starts). Each
 * check is also autostop's heartbeat: the instance's watchdog knows vastdeck is waiting for it.
 */
const CHECK_COMMAND = `${heartbeatCommand()}; cat ${DONE_MARKER_PATH} 2>/dev/null || tail -n 1 ${ONSTART_LOG_PATH} 2>/dev/null || true`;
const EXEC_TIMEOUT_MS = 20_000;
/** Key refusals tolerated in a row: keys reach a new instance a few seconds after its SSH is up. */
const AUTH_RETRIES = 10;

export async function watchForMarker(options: MarkerWatchOptions): Promise<MarkerFound> {
  const {instanceId, signal} = options;
  const deadline = Date.now() + options.timeoutMs;
  const pinKey = hostPinKey(options.apiOrigin, instanceId);
  let ssh: SshClient | undefined;
  let closed = false;
  let authRefusals = 0;
  let lastLine = '';
  const lastStatus = {text: ''};
  try {
    for (;;) {
      if (signal?.aborted) throw new VastdeckError('internal', `Stopped waiting for the OnStart job on instance ${instanceId}: it keeps running there.`);
      if (Date.now() > deadline) {
        throw new VastdeckError(
          'unreachable',
          `Instance ${instanceId} wrote no ${DONE_MARKER_PATH} within ${Math.round(options.timeoutMs / 60_000)} min: read ${ONSTART_LOG_PATH} on it (over SSH or the Instance Portal's logs).`,
        );
      }
      if (ssh && closed) {
        ssh = undefined;
        options.onEvent({kind: 'ssh-dropped', message: `The SSH connection to instance ${instanceId} dropped; reconnecting.`});
      }
      if (!ssh) {
        const endpoint = await runningEndpoint(options, lastStatus);
        if (endpoint) {
          try {
            ssh = await connectSsh({host: endpoint.host, port: endpoint.port, identity: options.identity, pinKey, knownHosts: options.knownHosts});
            closed = false;
            authRefusals = 0;
            ssh.once('close', () => (closed = true));
            options.onEvent({kind: 'ssh-connected', message: `Connected to instance ${instanceId} over SSH (${endpoint.host}:${endpoint.port}); waiting for ${DONE_MARKER_PATH}.`});
          } catch (error) {
            if (!(error instanceof SshError) || error.failure === 'host-key' || error.failure === 'key') throw error;
            if (error.failure === 'auth' && ++authRefusals > AUTH_RETRIES) throw error;
            if (error.failure !== 'auth') options.onEvent({kind: 'warning', message: error.message});
          }
        }
      }
      if (ssh && !closed) {
        const found = await checkMarker(ssh, options, lastLine);
        if (found && 'marker' in found) return {marker: found.marker, ssh};
        if (found?.dropped) {
          ssh.end();
          closed = true;
        } else if (found?.line) lastLine = found.line;
      }
      await pause(ssh && !closed ? options.pollMs : options.listPollMs, signal);
    }
  } catch (error) {
    ssh?.end();
    throw error;
  }
}

/** The instance's SSH address once Vast says it is running; undefined meanwhile (a failed list call only warns). */
async function runningEndpoint(options: MarkerWatchOptions, lastStatus: {text: string}): Promise<{host: string; port: number} | undefined> {
  let instance;
  try {
    instance = await getInstance(options.client, options.instanceId);
  } catch (error) {
    options.onEvent({kind: 'warning', message: toVastdeckError(error).message});
    return undefined;
  }
  if (!instance) {
    throw new VastdeckError('not-found', `Instance ${options.instanceId} left the account before its OnStart job finished: check the Vast.ai console, then run the job again.`);
  }
  const status = `${instance.actualStatus ?? 'scheduling'}${instance.statusMsg ? ` (${instance.statusMsg})` : ''}`;
  if (status !== lastStatus.text) {
    lastStatus.text = status;
    options.onEvent({kind: 'instance-status', message: `Instance ${options.instanceId} is ${status}.`});
  }
  return instance.actualStatus === 'running' ? sshEndpoint(instance) : undefined;
}

async function checkMarker(ssh: SshClient, options: MarkerWatchOptions, lastLine: string): Promise<{marker: OnStartMarker} | {dropped?: boolean; line?: string} | undefined> {
  let stdout: string;
  try {
    ({stdout} = await execCapture(ssh, CHECK_COMMAND, {timeoutMs: EXEC_TIMEOUT_MS}))
  } catch (error) {
    if (!(error instanceof SshError)) throw error;
    options.onEvent({kind: 'warning', message: error.message});
    return {dropped: true};
  }
  const text = stdout.trim();
  if (text.startsWith('{')) {
    const marker = parseMarker(text);
    // A marker of another job would come from a reused disk: the runner replaces it with ours.
    if (marker.id === options.jobId) return {marker};
    return undefined;
  }
  const line = text.split('\n').at(-1) ?? '';
  if (line !== '' && line !== lastLine) options.onEvent({kind: 'runner', line, message: `instance ${options.instanceId}: ${line}`});
  return {line};
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise(resolve => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, {once: true});
  });
}
