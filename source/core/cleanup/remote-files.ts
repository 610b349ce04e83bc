// The instance side of a cleanup, over one SSH connection: opens SFTP, lists the outputs (ComfyUI's
// and the OnStart method's) and the logs, refusing unsafe names, and asks the instance's sha256sum
// for hashes. Used by extract.ts and destroy.ts; never writes on the instance.
import type {Client as SshClient, FileEntryWithStats, SFTPWrapper, Stats} from 'ssh2';
import {VastdeckError} from '../errors.js';
import {sshEndpoint} from '../instances/endpoints.js';
import type {Instance} from '../instances/types.js';
import {HEARTBEAT_PATH} from '../provisioning/autostop.js';
import {connectSsh, execCapture, SshError, type LoginIdentity} from '../ssh/connect.js';
import {hostPinKey, type KnownHosts} from '../ssh/known-hosts.js';

const OUTPUT_ROOT = '/workspace/ComfyUI/output';
const LOG_FILES: ReadonlyArray<[string, string]> = [['/var/log/onstart.log', 'logs/onstart.log'], ['/var/log/provisioning.log', 'logs/provisioning.log']];
const PORTAL_LOGS = '/var/log/portal';
/** The OnStart method's folder (job, runner log, done marker) and its outputs, when the instance ran one. */
const ONSTART_FOLDER = '/workspace/vastdeck';
const ONSTART_OUTPUTS = `${ONSTART_FOLDER}/outputs`;
/** Autostop's files there (docs/autostop.md) that change under the cleanup's feet. */
const CHANGING_FILES: readonly string[] = [HEARTBEAT_PATH, `${ONSTART_FOLDER}/autostop-state.json`];
/**
 * actual_status values of an instance whose container has not started: Vast already shows its SSH
 * proxy (ssh_host/ssh_port exist from the create on), but nothing answers behind it yet.
 */
const NOT_STARTED: ReadonlySet<string> = new Set(['null', 'loading', 'created']);
const MAX_DEPTH = 16;
const HASH_BATCH_CHARS = 8000;
const HASH_TIMEOUT_MS = 180_000;

export interface Remote {
  instanceId: number;
  ssh: SshClient;
  sftp: SFTPWrapper;
  /** Learnt from the first sha256sum call: undefined until then. */
  hasSha256sum?: boolean;
  /** The SSH connection ended (dropped, or closed by an abort). */
  closed: boolean;
}

/** A remote file to bring home, or one whose name is refused. `localPath` is relative to the run folder. */
export type RemoteEntry = {remotePath: string; localPath: string; sizeBytes: number} | {remotePath: string; refused: string};

export async function openRemote(instance: Instance, access: {apiOrigin: string; knownHosts: KnownHosts; identity: LoginIdentity}): Promise<Remote> {
  const endpoint = sshEndpoint(instance);
  if (!endpoint || NOT_STARTED.has(instance.actualStatus ?? 'null')) {
    throw new VastdeckError('ssh', `Instance ${instance.id} has no SSH server to reach yet (status ${instance.actualStatus ?? 'none'}): wait until it runs, or start it if it is stopped.`);
  }
  const ssh = await connectSsh({host: endpoint.host, port: endpoint.port, identity: access.identity, pinKey: hostPinKey(access.apiOrigin, instance.id), knownHosts: access.knownHosts});
  try {
    const sftp = await new Promise<SFTPWrapper>((done, fail) => ssh.sftp((error, opened) => (error ? fail(error) : done(opened))));
    const remote: Remote = {instanceId: instance.id, ssh, sftp, closed: false};
    ssh.once('close', () => (remote.closed = true));
    return remote;
  } catch (error) {
    ssh.end();
    throw new VastdeckError('ssh', `Instance ${instance.id} did not open an SFTP session (${String((error as Error).message)}): its SSH server may lack the sftp subsystem.`, {cause: error});
  }
}

/**
 * Runs one request on the connection, failing at once when it is (or goes) down: ssh2 never answers
 * an SFTP request sent on a closed channel, so without this a dropped connection would hang.
 */
export function whileOpen<T>(remote: Remote, start: (resolve: (value: T) => void, reject: (error: unknown) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    if (remote.closed) {
      reject(connectionLost(remote));
      return;
    }
    const onClose = (): void => reject(connectionLost(remote));
    remote.ssh.once('close', onClose);
    start(
      value => {
        remote.ssh.off('close', onClose);
        resolve(value);
      },
      error => {
        remote.ssh.off('close', onClose);
        reject(error);
      },
    );
  });
}

function connectionLost(remote: Remote): SshError {
  return new SshError('dropped', `The SSH connection to instance ${remote.instanceId} broke: run the cleanup again to resume where it stopped.`);
}

export function closeRemote(remote: Remote): void {
  remote.sftp.end();
  remote.ssh.end();
}

/** Every file under /workspace/ComfyUI/output (and the OnStart method's outputs), as run-folder paths under outputs/. */
export async function listOutputs(remote: Remote): Promise<RemoteEntry[]> {
  return [...(await walk(remote, OUTPUT_ROOT, 'outputs', 0)), ...(await walk(remote, ONSTART_OUTPUTS, 'outputs/vastdeck-onstart', 0))];
}

/** The portal logs, onstart.log, provisioning.log and the OnStart method's folder, under logs/. */
export async function listLogs(remote: Remote): Promise<RemoteEntry[]> {
  // Starting at MAX_DEPTH keeps to the folder itself: the portal's logs are flat.
  const portal = (await walk(remote, PORTAL_LOGS, 'logs/portal', MAX_DEPTH)).filter(entry => entry.remotePath.endsWith('.log'));
  const single: RemoteEntry[] = [];
  for (const [remotePath, localPath] of LOG_FILES) {
    const found = await statOrUndefined(remote, remotePath);
    if (found?.isFile()) single.push({remotePath, localPath, sizeBytes: found.size});
  }
  // The heartbeat and the watchdog's state change while the cleanup runs (its own heartbeat writes the first): not logs.
  const onstart = (await walk(remote, ONSTART_FOLDER, 'logs/vastdeck', 0)).filter(entry => !entry.remotePath.startsWith(`${ONSTART_OUTPUTS}/`) && !CHANGING_FILES.includes(entry.remotePath));
  return [...portal, ...single, ...onstart];
}

/** Why a remote name must not become a local one, or undefined when it is a plain, safe name. */
export function unsafeNameReason(name: string): string | undefined {
  if (name === '' || name === '.' || name === '..') return 'it is empty, "." or ".."';
  if (/[/\\]/.test(name)) return 'it contains a path separator';
  if (/[\u0000-\u001f\u007f]/.test(name)) return 'it contains control characters';
  if (Buffer.byteLength(name) > 240) return 'it is too long';
  return undefined;
}

/**
 * The sha256 of each remote path (GNU sha256sum output), or undefined when the instance has no
 * sha256sum; a path missing from the map could not be hashed (gone, unreadable).
 */
export async function remoteSha256(remote: Remote, paths: readonly string[]): Promise<Map<string, string> | undefined> {
  const hashes = new Map<string, string>();
  if (remote.hasSha256sum === false) return undefined;
  for (const batch of batches(paths)) {
    if (remote.closed) throw connectionLost(remote);
    const result = await execCapture(remote.ssh, `sha256sum ${batch.map(shellQuote).join(' ')}`, {timeoutMs: HASH_TIMEOUT_MS});
    if (result.code === 127 || /sha256sum: (command )?not found/.test(result.stderr)) {
      remote.hasSha256sum = false;
      return undefined;
    }
    remote.hasSha256sum = true;
    for (const line of result.stdout.split('\n')) {
      const match = /^(\\?)([0-9a-f]{64}) [ *](.*)$/.exec(line);
      if (!match) continue;
      const name = match[1] ? match[3]!.replace(/\\(\\|n)/g, (_all, code: string) => (code === 'n' ? '\n' : '\\')) : match[3]!;
      hashes.set(name, match[2]!);
    }
  }
  return hashes;
}

async function walk(remote: Remote, root: string, localPrefix: string, depth: number): Promise<RemoteEntry[]> {
  let list: FileEntryWithStats[];
  try {
    list = await whileOpen<FileEntryWithStats[]>(remote, (done, fail) => remote.sftp.readdir(root, (error, entries) => (error ? fail(error) : done(entries))));
  } catch (error) {
    if ((error as {code?: unknown}).code === 2) return [];
    throw error;
  }
  const entries: RemoteEntry[] = [];
  for (const item of list.sort((a, b) => (a.filename < b.filename ? -1 : 1))) {
    if (item.filename === '.' || item.filename === '..') continue;
    const remotePath = `${root}/${item.filename}`;
    const refused = unsafeNameReason(item.filename);
    if (refused) {
      entries.push({remotePath, refused: `its name is unsafe (${refused})`});
      continue;
    }
    const localPath = `${localPrefix}/${item.filename}`;
    // A symlink counts when it points at a file; linked folders are not followed (no loops).
    const stats = item.attrs.isSymbolicLink() ? await statOrUndefined(remote, remotePath) : item.attrs;
    if (stats?.isFile()) entries.push({remotePath, localPath, sizeBytes: stats.size});
    else if (stats?.isDirectory() && !item.attrs.isSymbolicLink() && depth < MAX_DEPTH) entries.push(...(await walk(remote, remotePath, localPath, depth + 1)));
  }
  return entries;
}

export function statOrUndefined(remote: Remote, path: string): Promise<Stats | undefined> {
  return whileOpen(remote, done => remote.sftp.stat(path, (error, stats) => done(error ? undefined : stats)));
}

function batches(paths: readonly string[]): string[][] {
  const groups: string[][] = [];
  let current: string[] = [];
  let chars = 0;
  for (const path of paths) {
    if (current.length > 0 && chars + path.length > HASH_BATCH_CHARS) {
      groups.push(current);
      current = [];
      chars = 0;
    }
    current.push(path);
    chars += path.length + 3;
  }
  if (current.length > 0) groups.push(current);
  return groups;
}

function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}
