// Pulls an instance's files home over SFTP before it is destroyed: every output and log
// (remote-files.ts lists them) into the run folder, each streamed to a temp file and renamed, then
// verified (size, and sha256 against the instance's sha256sum). Resumable via cleanup.json. Called by destroy.ts.
import {createHash, randomBytes} from 'node:crypto';
import {createReadStream, existsSync, readdirSync, readFileSync, statSync} from 'node:fs';
import {mkdir, rename, rm} from 'node:fs/promises';
import {basename, dirname, join, resolve, sep} from 'node:path';
import {VastdeckError} from '../errors.js';
import {CleanupError, formatBytes, type CleanupFile, type CleanupState, type CleanupStep} from './cleanup-state.js';
import {listLogs, listOutputs, remoteSha256, statOrUndefined, whileOpen, type Remote, type RemoteEntry} from './remote-files.js';

export interface ExtractRun {
  state: CleanupState;
  /** The queue's outputs folder: outputs already brought home there (job.json) are not pulled again. */
  outputsDir: string;
  onStep: (step: CleanupStep, message: string) => void;
  signal?: AbortSignal;
}

export interface ExtractReport {
  /** Run-folder paths pulled in this run (a re-download after a mismatch counts again). */
  fetched: string[];
  /** How files were checked: 'sha256' when the instance has sha256sum, else 'size'. */
  check: 'sha256' | 'size';
}

/** Outputs the generation queue already brought home (job.json records), by sha256 and by name + size. */
export function queueCopies(outputsDir: string): {bySha256: Map<string, string>; byNameSize: Map<string, string>} {
  const bySha256 = new Map<string, string>();
  const byNameSize = new Map<string, string>();
  let folders: string[] = [];
  try {
    folders = readdirSync(outputsDir).filter(name => name !== 'runs');
  } catch {
    return {bySha256, byNameSize};
  }
  for (const folder of folders) {
    let outputs: unknown;
    try {
      outputs = (JSON.parse(readFileSync(join(outputsDir, folder, 'job.json'), 'utf8')) as {outputs?: unknown}).outputs;
    } catch {
      continue;
    }
    if (!Array.isArray(outputs)) continue;
    for (const record of outputs as Array<{file?: unknown; bytes?: unknown; sha256?: unknown}>) {
      if (typeof record.file !== 'string' || typeof record.bytes !== 'number' || typeof record.sha256 !== 'string') continue;
      const path = join(outputsDir, folder, basename(record.file));
      if (localSize(path) !== record.bytes) continue;
      bySha256.set(record.sha256, path);
      byNameSize.set(`${basename(record.file)}:${record.bytes}`, path);
    }
  }
  return {bySha256, byNameSize};
}

/** Steps extract-outputs, extract-logs and verify; throws (leaving the state resumable) when one fails. */
export async function extractRun(remote: Remote, run: ExtractRun): Promise<ExtractReport> {
  const {state, onStep} = run;
  const fetched: string[] = [];
  const facts = new Map<string, {sizeBytes: number; sha256?: string}>();
  const pull = async (entry: RemoteEntry & {localPath: string}, kind: CleanupFile['kind'], step: CleanupStep): Promise<void> => {
    throwIfAborted(run, remote.instanceId, fetched.length);
    const copy = await fetchFile(remote, entry.remotePath, resolveInside(state.runDir, entry.localPath), kind === 'log' ? 0o600 : 0o644);
    state.putFile({kind, remotePath: entry.remotePath, localPath: entry.localPath, ...copy, status: 'downloaded'});
    fetched.push(entry.localPath);
    onStep(step, `${entry.localPath} (${formatBytes(copy.sizeBytes)})`);
  };

  state.step('extract-outputs', 'running');
  state.dropRefused();
  const outputs = await listOutputs(remote);
  const listed = outputs.filter((entry): entry is Extract<RemoteEntry, {localPath: string}> => 'localPath' in entry);
  // Files verified (or found safe) by an earlier run are not hashed again: big videos take a while.
  const finished = (entry: {remotePath: string; localPath: string; sizeBytes: number}): boolean =>
    ['verified', 'safe'].includes(state.file(entry.remotePath)?.status ?? '') && stillHome(state, entry, 'output');
  const hashes = await remoteSha256(remote, listed.filter(entry => !finished(entry)).map(entry => entry.remotePath));
  const home = queueCopies(run.outputsDir);
  onStep('extract-outputs', `${listed.length} output file${listed.length === 1 ? '' : 's'} on the instance (${formatBytes(listed.reduce((sum, entry) => sum + entry.sizeBytes, 0))}).`);
  for (const entry of outputs) {
    if (!('localPath' in entry)) {
      state.putFile({kind: 'output', remotePath: entry.remotePath, sizeBytes: 0, status: 'refused'});
      onStep('extract-outputs', `Not saving ${JSON.stringify(entry.remotePath)}: ${entry.refused}.`);
      continue;
    }
    const sha256 = hashes?.get(entry.remotePath);
    facts.set(entry.remotePath, {sizeBytes: entry.sizeBytes, ...(sha256 ? {sha256} : {})});
    if (stillHome(state, entry, 'output')) continue;
    const safeAt = sha256 ? home.bySha256.get(sha256) : hashes ? undefined : home.byNameSize.get(`${basename(entry.remotePath)}:${entry.sizeBytes}`);
    if (safeAt) {
      state.putFile({kind: 'output', remotePath: entry.remotePath, sizeBytes: entry.sizeBytes, ...(sha256 ? {remoteSha256: sha256} : {}), status: 'safe', safeAt});
      onStep('extract-outputs', `${entry.localPath} is already home at ${safeAt}.`);
      continue;
    }
    await pull(entry, 'output', 'extract-outputs');
  }
  state.step('extract-outputs', 'done', `${listed.length} output files`);

  state.step('extract-logs', 'running');
  const logs = (await listLogs(remote)).filter((entry): entry is Extract<RemoteEntry, {localPath: string}> => 'localPath' in entry);
  for (const entry of logs) {
    if (!stillHome(state, entry, 'log')) await pull(entry, 'log', 'extract-logs');
  }
  state.step('extract-logs', 'done', `${logs.length} log files`);

  state.step('verify', 'running');
  const pending = state.record.files.filter(file => file.status === 'downloaded');
  const logPaths = pending.filter(file => file.kind === 'log').map(file => file.remotePath);
  await refreshFacts(remote, logPaths, facts);
  const check = remote.hasSha256sum === false ? 'size' : 'sha256';
  const failed: string[] = [];
  for (const file of pending) {
    let current = file;
    let verdict = judge(current, facts.get(current.remotePath), check);
    if (verdict === 'mismatch' && current.localPath) {
      onStep('verify', `${current.localPath} does not match the instance's copy: downloading it again.`);
      await pull({remotePath: current.remotePath, localPath: current.localPath, sizeBytes: current.sizeBytes}, current.kind, 'verify');
      await refreshFacts(remote, [current.remotePath], facts);
      current = state.file(current.remotePath) ?? current;
      verdict = judge(current, facts.get(current.remotePath), check);
    }
    if (verdict === 'mismatch') {
      failed.push(current.localPath ?? current.remotePath);
      continue;
    }
    const remoteHash = facts.get(current.remotePath)?.sha256;
    state.putFile({...current, status: 'verified', check: verdict, ...(remoteHash ? {remoteSha256: remoteHash} : {})});
  }
  if (failed.length > 0) {
    state.step('verify', 'failed', failed.join(', '));
    throw new CleanupError('refused', remote.instanceId, `${failed.length} file${failed.length === 1 ? '' : 's'} of instance ${remote.instanceId} (${failed.slice(0, 3).join(', ')}) still differed from the instance's copy after a second download.`);
  }
  state.step('verify', 'done', check === 'sha256' ? 'size and sha256' : 'size only: the instance has no sha256sum');
  onStep('verify', `${pending.length} file${pending.length === 1 ? '' : 's'} verified (${check === 'sha256' ? 'size and sha256' : 'size only: the instance has no sha256sum'}).`);
  return {fetched, check};
}

/** A file pulled (or found safe) by an earlier run that needs no new download. */
function stillHome(state: CleanupState, entry: {remotePath: string; localPath: string; sizeBytes: number}, kind: CleanupFile['kind']): boolean {
  const prior = state.file(entry.remotePath);
  if (!prior || (kind === 'output' && prior.sizeBytes !== entry.sizeBytes)) return false;
  if (prior.status === 'safe') return prior.safeAt !== undefined && existsSync(prior.safeAt);
  if (prior.status !== 'verified' && prior.status !== 'downloaded') return false;
  return prior.localPath === entry.localPath && localSize(resolveInside(state.runDir, entry.localPath)) === prior.sizeBytes;
}

/** 'sha256'/'size' when the copy matches the instance's, 'grew' for a log written to since, else 'mismatch'. */
function judge(file: CleanupFile, fact: {sizeBytes: number; sha256?: string} | undefined, check: 'sha256' | 'size'): 'sha256' | 'size' | 'grew' | 'mismatch' {
  if (!fact) return 'mismatch';
  if (file.kind === 'log' && fact.sizeBytes > file.sizeBytes) return 'grew';
  if (fact.sizeBytes !== file.sizeBytes) return 'mismatch';
  if (check === 'size') return 'size';
  return fact.sha256 !== undefined && fact.sha256 === file.sha256 ? 'sha256' : 'mismatch';
}

async function refreshFacts(remote: Remote, paths: string[], facts: Map<string, {sizeBytes: number; sha256?: string}>): Promise<void> {
  if (paths.length === 0) return;
  const hashes = await remoteSha256(remote, paths);
  for (const path of paths) {
    const found = await statOrUndefined(remote, path);
    const sha256 = hashes?.get(path);
    if (found) facts.set(path, {sizeBytes: found.size, ...(sha256 ? {sha256} : {})});
    else facts.delete(path);
  }
}

/** Streams a remote file to a temp file beside `localPath`, then renames it; returns its size and sha256. */
async function fetchFile(remote: Remote, remotePath: string, localPath: string, mode: number): Promise<{sizeBytes: number; sha256: string}> {
  await mkdir(dirname(localPath), {recursive: true, mode: 0o700});
  const temporary = join(dirname(localPath), `.${basename(localPath)}.${randomBytes(6).toString('hex')}.part`);
  try {
    await whileOpen<void>(remote, (done, fail) => remote.sftp.fastGet(remotePath, temporary, {mode}, error => (error ? fail(error) : done())));
    const local = await hashFile(temporary);
    await rename(temporary, localPath);
    return local;
  } catch (error) {
    await rm(temporary, {force: true});
    throw error;
  }
}

/** The absolute path of a run-folder path, refusing anything that would land outside the folder. */
export function resolveInside(runDir: string, localPath: string): string {
  const root = resolve(runDir);
  const target = resolve(root, localPath);
  if (!target.startsWith(`${root}${sep}`)) throw new VastdeckError('bad-answer', `The remote file ${JSON.stringify(localPath)} would be written outside the run folder ${root}, so vastdeck refused it.`);
  return target;
}

function hashFile(path: string): Promise<{sizeBytes: number; sha256: string}> {
  return new Promise((done, fail) => {
    const hash = createHash('sha256');
    let sizeBytes = 0;
    createReadStream(path)
      .on('data', chunk => {
        sizeBytes += chunk.length;
        hash.update(chunk);
      })
      .on('end', () => done({sizeBytes, sha256: hash.digest('hex')}))
      .on('error', fail);
  });
}

function localSize(path: string): number | undefined {
  try {
    return statSync(path).size;
  } catch {
    return undefined;
  }
}

function throwIfAborted(run: ExtractRun, instanceId: number, fetchedCount: number): void {
  if (run.signal?.aborted) {
    throw new CleanupError('interrupted', instanceId, `Pulling the files of instance ${instanceId} was stopped after ${fetchedCount} file${fetchedCount === 1 ? '' : 's'}: nothing was destroyed, run the cleanup again to resume where it stopped.`);
  }
}
