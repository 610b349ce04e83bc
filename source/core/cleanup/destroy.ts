// The cleanup action: pull an instance's outputs and logs home and verify them (extract.ts), then
// destroy it and its storage volumes, and mark it destroyed only once the instance list confirms it
// is gone. Refuses while files are not safe unless forced; resumable. Used by `vastdeck down` and the dashboard.
import {setTimeout as sleep} from 'node:timers/promises';
import {VastdeckError} from '../errors.js';
import type {Ledger} from '../ledger/ledger.js';
import type {Instance, LedgerInstance} from '../instances/types.js';
import {findSshIdentity, NO_SSH_KEY_MESSAGE, type SshIdentity} from '../ssh/keys.js';
import type {KnownHosts} from '../ssh/known-hosts.js';
import type {VastClient} from '../vast/client.js';
import {destroyInstance, getInstance, listInstances} from '../vast/instances-api.js';
import {CleanupError, CleanupState, type CleanupStep} from './cleanup-state.js';
import {extractRun, queueCopies, type ExtractReport} from './extract.js';
import {destroyFailedError, failurePhrase, refusalError} from './refusal.js';
import {Heartbeat} from '../ssh/heartbeat.js';
import {closeRemote, listOutputs, openRemote, remoteSha256, type Remote} from './remote-files.js';
import {attachedVolumes, deleteVolumes} from './volumes.js';

export interface CleanupDeps {
  client: VastClient;
  ledger: Ledger;
  apiOrigin: string;
  knownHosts: KnownHosts;
  /** Found with findSshIdentity when absent. */
  identity?: SshIdentity;
  /** The queue's outputs folder; run folders go in its runs/. */
  outputsDir: string;
  onStep?: (step: CleanupStep, message: string) => void;
  /** The instance list the cleanup starts from (the spend book looks at it). */
  onList?: (instances: Instance[]) => void;
  /** Between autostop heartbeats while extracting (60 s live): the instance must not stop itself meanwhile. */
  heartbeatMs?: number | (() => number);
}

export interface CleanupTarget {
  instanceId: number;
  entry?: LedgerInstance;
}

export interface CleanupOptions {
  /** Destroy without pulling anything home. */
  force?: boolean;
  skipExtract?: boolean;
  /** Stops the extraction (nothing is destroyed); the next run resumes. */
  signal?: AbortSignal;
  /** Waits before each instance-list check after the destroy (default 0, 1, 2, 4, 8 s). */
  confirmDelaysMs?: readonly number[];
  /**
   * When the files cannot be brought home because Vast reports the instance in a state it never
   * comes back from (exited, offline, unknown), destroy it anyway instead of leaving a dead disk
   * billing (`run --down` asks for this; `down` and the dashboard still need --force).
   */
  destroyDeadHost?: boolean;
}

export interface CleanupResult {
  instanceId: number;
  outcome: 'destroyed' | 'already-gone';
  /** outputs/, logs/ and cleanup.json; none when the instance was gone before the cleanup. */
  runDir?: string;
  /** False when forced or skipped. */
  extracted: boolean;
  outputs: {verified: number; safe: number};
  logs: number;
  fetched: string[];
  check?: ExtractReport['check'];
  volumesDeleted: number[];
  /** It was stopped: it billed storage right up to the destroy. */
  wasStopped: boolean;
  warnings: string[];
}

const CONFIRM_DELAYS_MS: readonly number[] = [0, 1000, 2000, 4000, 8000];
/** actual_status values of an instance whose container never ran: the image is still being pulled. */
const NEVER_RAN: ReadonlySet<string> = new Set(['null', 'loading']);
/** actual_status values an instance never comes back from (see stages.ts). */
const DEAD_STATES: ReadonlySet<string> = new Set(['exited', 'offline', 'unknown']);

export async function cleanUp(deps: CleanupDeps, target: CleanupTarget, options: CleanupOptions = {}): Promise<CleanupResult> {
  const {instanceId} = target;
  const say = (step: CleanupStep, message: string): void => deps.onStep?.(step, message);
  const instance = await findInstance(deps, instanceId);
  const known = target.entry ?? deps.ledger.findByInstanceId(deps.apiOrigin, instanceId);
  if (!instance) return gone(deps, instanceId, known, options);
  const entry = known ?? deps.ledger.adopt(deps.apiOrigin, instance, 'found on the account by the cleanup');
  const state = CleanupState.open(deps.outputsDir, {apiOrigin: deps.apiOrigin, instanceId, label: entry.label});
  const result: CleanupResult = {instanceId, outcome: 'destroyed', runDir: state.runDir, extracted: false, outputs: {verified: 0, safe: 0}, logs: 0, fetched: [], volumesDeleted: [], wasStopped: instance.actualStatus === 'stopped', warnings: []};
  if (result.wasStopped) say('extract-outputs', `Instance ${instanceId} is stopped: it still bills storage until it is destroyed.`);

  const destroyAsked = state.record.steps.destroy.status === 'done';
  // 'loading' is also how an instance started again after a stop looks, its disk holding outputs:
  // only one the ledger never saw run (or stop) is destroyed without trying to bring files home.
  const neverRan = NEVER_RAN.has(instance.actualStatus ?? 'null') && entry.billing?.ran !== true && entry.billing?.seenStatus !== 'stopped';
  if (options.force || options.skipExtract || destroyAsked || neverRan) {
    const why = destroyAsked
      ? 'the destroy was already requested by an earlier run'
      : neverRan
        ? `it never ran (${instance.actualStatus ?? 'no status yet'}): nothing on it to bring home`
        : options.force
          ? 'forced'
          : 'skipped on request';
    if (neverRan && !destroyAsked && !options.force) say('extract-outputs', `Instance ${instanceId} is still ${instance.actualStatus ?? 'being created'}: it has no outputs, so it is destroyed at once.`);
    for (const step of ['extract-outputs', 'extract-logs', 'verify'] as const) {
      if (state.record.steps[step].status !== 'done') state.step(step, 'skipped', why);
    }
    if (options.force && !destroyAsked) say('extract-outputs', `FORCED: destroying instance ${instanceId} WITHOUT pulling its outputs and logs home: whatever is not already saved is lost.`);
  } else {
    try {
      const report = await extract(deps, instance, state, options);
      Object.assign(result, {extracted: true, fetched: report.fetched, check: report.check});
    } catch (error) {
      if (!options.destroyDeadHost || !DEAD_STATES.has(instance.actualStatus ?? '') || options.signal?.aborted) throw error;
      const why = `instance ${instanceId} is ${instance.actualStatus}, a state Vast instances never come back from, so its files cannot be brought home`;
      for (const step of ['extract-outputs', 'extract-logs', 'verify'] as const) {
        if (state.record.steps[step].status !== 'done') state.step(step, 'skipped', why);
      }
      say('extract-outputs', `${why[0]!.toUpperCase()}${why.slice(1)}: destroying it anyway so its disk stops billing (whatever was not already home is lost).`);
      result.warnings.push(`${why}; it was destroyed anyway (--down).`);
    }
  }
  const files = state.record.files;
  result.outputs = {verified: files.filter(file => file.kind === 'output' && file.status === 'verified').length, safe: files.filter(file => file.status === 'safe').length};
  result.logs = files.filter(file => file.kind === 'log' && file.status === 'verified').length;

  const volumes = await attachedVolumes(deps.client, instanceId);
  state.setVolumes([...new Set([...state.record.volumeIds, ...volumes.ids])]);
  result.warnings.push(...volumes.warnings);
  for (const warning of volumes.warnings) say('destroy', warning);
  result.outcome = await destroyAndConfirm(deps, entry, state, options);
  result.volumesDeleted = await deleteVolumes(deps.client, state, say);
  return result;
}

export type PendingOutputs =
  | {instanceId: number; reachable: true; totalFiles: number; safeFiles: number; pendingFiles: number; pendingBytes: number; stillBillingStorage: boolean}
  /** `problem`: why the files could not be checked, as a short clause ('SSH timed out'). */
  | {instanceId: number; reachable: false; problem: string; stillBillingStorage: boolean};

/** For the destroy dialog: how many output files on the instance are not safely home yet. */
export async function pendingOutputs(deps: Omit<CleanupDeps, 'onStep'>, instanceId: number): Promise<PendingOutputs> {
  const instance = await findInstance(deps, instanceId);
  if (!instance) return {instanceId, reachable: true, totalFiles: 0, safeFiles: 0, pendingFiles: 0, pendingBytes: 0, stillBillingStorage: false};
  const stillBillingStorage = instance.actualStatus === 'stopped';
  const label = deps.ledger.findByInstanceId(deps.apiOrigin, instanceId)?.label ?? instance.label;
  const state = CleanupState.find(deps.outputsDir, {apiOrigin: deps.apiOrigin, instanceId, label});
  let remote: Remote | undefined;
  try {
    remote = await openRemote(instance, {apiOrigin: deps.apiOrigin, knownHosts: deps.knownHosts, identity: await identityOf(deps)});
    const outputs = (await listOutputs(remote)).filter(entry => 'localPath' in entry);
    const hashes = await remoteSha256(remote, outputs.map(entry => entry.remotePath));
    const home = queueCopies(deps.outputsDir);
    let pendingFiles = 0;
    let pendingBytes = 0;
    for (const entry of outputs) {
      const sha256 = hashes?.get(entry.remotePath);
      const prior = state?.file(entry.remotePath);
      const safe = (prior?.status === 'verified' || prior?.status === 'safe') && prior.sizeBytes === entry.sizeBytes;
      if (safe || (sha256 && home.bySha256.has(sha256))) continue;
      pendingFiles++;
      pendingBytes += entry.sizeBytes;
    }
    return {instanceId, reachable: true, totalFiles: outputs.length, safeFiles: outputs.length - pendingFiles, pendingFiles, pendingBytes, stillBillingStorage};
  } catch (error) {
    return {instanceId, reachable: false, problem: failurePhrase(error, {stopped: stillBillingStorage}), stillBillingStorage};
  } finally {
    if (remote) closeRemote(remote);
  }
}

/** Steps extract-outputs, extract-logs, verify; any failure becomes the refusal to destroy. */
async function extract(deps: CleanupDeps, instance: Instance, state: CleanupState, options: CleanupOptions): Promise<ExtractReport> {
  const startedMs = Date.now();
  let remote: Remote | undefined;
  let heartbeat: Heartbeat | undefined;
  const abort = (): void => {
    if (remote) closeRemote(remote);
  };
  options.signal?.addEventListener('abort', abort, {once: true});
  try {
    remote = await openRemote(instance, {apiOrigin: deps.apiOrigin, knownHosts: deps.knownHosts, identity: await identityOf(deps)});
    const ssh = remote.ssh;
    heartbeat = instance.autostop ? new Heartbeat({client: () => ssh, intervalMs: deps.heartbeatMs}) : undefined;
    heartbeat?.start();
    const report = await extractRun(remote, {state, outputsDir: deps.outputsDir, onStep: (step, message) => deps.onStep?.(step, message), signal: options.signal});
    if (state.unsafeFiles().length > 0) throw new VastdeckError('bad-answer', `Some files of instance ${instance.id} have unsafe names or are not verified.`);
    return report;
  } catch (error) {
    throw refusalError(instance, state, error, {startedMs, aborted: options.signal?.aborted === true, connectionBroke: remote?.closed === true});
  } finally {
    options.signal?.removeEventListener('abort', abort);
    heartbeat?.stop();
    if (remote) closeRemote(remote);
  }
}

async function destroyAndConfirm(deps: CleanupDeps, entry: LedgerInstance, state: CleanupState, options: CleanupOptions): Promise<'destroyed' | 'already-gone'> {
  const instanceId = state.record.instanceId;
  deps.ledger.markDestroying(entry.localId);
  state.step('destroy', 'running');
  let outcome: 'destroyed' | 'already-gone';
  try {
    outcome = await destroyInstance(deps.client, instanceId);
  } catch (error) {
    const failure = destroyFailedError(instanceId, error);
    state.step('destroy', 'failed', failure.message);
    throw failure;
  }
  // Billing stops when the destroy is accepted, not when the list confirms it.
  if (outcome === 'destroyed') deps.ledger.endBilling(entry.localId, 'destroyed');
  state.step('destroy', 'done', outcome);
  deps.onStep?.('destroy', outcome === 'destroyed' ? `Vast.ai accepted the destroy of instance ${instanceId}.` : `Instance ${instanceId} was already destroyed (the API answered 404).`);
  state.step('confirm-gone', 'running');
  const problem = await confirmGone(deps.client, instanceId, options.confirmDelaysMs ?? CONFIRM_DELAYS_MS);
  if (problem) {
    state.step('confirm-gone', 'failed', problem.message);
    deps.ledger.note(entry.localId, 'destroy requested but not confirmed');
    throw problem;
  }
  state.step('confirm-gone', 'done');
  deps.ledger.markDestroyed(entry.localId, outcome === 'destroyed' ? 'destroyed; confirmed gone from the instance list' : 'already destroyed (404); confirmed absent from the instance list');
  deps.onStep?.('confirm-gone', `Instance ${instanceId} is gone from the instance list: it bills nothing any more.`);
  return outcome;
}

/** Absent from the list and from the by-id read, checked after each delay; the error when it never is. */
async function confirmGone(client: VastClient, instanceId: number, delaysMs: readonly number[]): Promise<CleanupError | undefined> {
  let lastError: unknown;
  for (const delayMs of delaysMs) {
    if (delayMs > 0) await sleep(delayMs);
    try {
      if (!(await listInstances(client)).some(instance => instance.id === instanceId) && (await getInstance(client, instanceId)) === undefined) return undefined;
      lastError = undefined;
    } catch (error) {
      lastError = error;
    }
  }
  const message = lastError
    ? `vastdeck could not confirm that instance ${instanceId} is gone (${failurePhrase(lastError, {stopped: false})}): it may still bill — check the Vast console, or run the cleanup again.`
    : `Instance ${instanceId} is still listed after destroy: it may still bill — check the Vast console, or run the cleanup again.`;
  return new CleanupError('still-listed', instanceId, message, {code: 'api-refused', cause: lastError});
}

/** The instance is not on the account: make sure (DELETE answers 404) and settle the ledger. */
async function gone(deps: CleanupDeps, instanceId: number, entry: LedgerInstance | undefined, options: CleanupOptions): Promise<CleanupResult> {
  const state = entry && CleanupState.find(deps.outputsDir, {apiOrigin: deps.apiOrigin, instanceId, label: entry.label});
  const result: CleanupResult = {instanceId, outcome: 'already-gone', ...(state ? {runDir: state.runDir} : {}), extracted: false, outputs: {verified: 0, safe: 0}, logs: 0, fetched: [], volumesDeleted: [], wasStopped: false, warnings: []};
  if (entry && (entry.state === 'active' || entry.state === 'creating')) deps.ledger.markDestroying(entry.localId);
  let outcome: 'destroyed' | 'already-gone';
  try {
    outcome = await destroyInstance(deps.client, instanceId);
  } catch (error) {
    throw destroyFailedError(instanceId, error);
  }
  if (outcome === 'destroyed') {
    if (entry) deps.ledger.endBilling(entry.localId, 'destroyed');
    // The list did not show it but the API still had it: confirm like any destroy.
    const problem = await confirmGone(deps.client, instanceId, options.confirmDelaysMs ?? CONFIRM_DELAYS_MS);
    if (problem) throw problem;
    result.outcome = 'destroyed';
    if (entry) deps.ledger.markDestroyed(entry.localId, 'destroyed; it was missing from the instance list');
  } else if (entry && ['active', 'creating', 'destroying'].includes(entry.state)) {
    deps.ledger.markGone(entry.localId, 'already gone when the cleanup ran (404 on destroy)');
  }
  deps.onStep?.('confirm-gone', outcome === 'destroyed' ? `Instance ${instanceId} is destroyed.` : `Instance ${instanceId} was already gone: nothing bills.`);
  if (state) result.volumesDeleted = await deleteVolumes(deps.client, state, (step, message) => deps.onStep?.(step, message));
  return result;
}

/** The instance from the list, or from the by-id read when the list misses it (a list can lag or be cut short). */
async function findInstance(deps: Pick<CleanupDeps, 'client' | 'onList'>, instanceId: number): Promise<Instance | undefined> {
  const instances = await listInstances(deps.client);
  deps.onList?.(instances);
  return instances.find(instance => instance.id === instanceId) ?? (await getInstance(deps.client, instanceId));
}

async function identityOf(deps: Pick<CleanupDeps, 'identity'>): Promise<SshIdentity> {
  const identity = deps.identity ?? (await findSshIdentity());
  if (!identity) throw new VastdeckError('ssh', NO_SSH_KEY_MESSAGE);
  return identity;
}
