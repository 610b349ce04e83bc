// One cleanup's progress on disk: <outputsDir>/runs/<instanceId>-<label>/cleanup.json (0600, atomic
// writes) records each step and every file pulled home with its size and hashes, so an interrupted
// cleanup resumes where it stopped. Used by extract.ts and destroy.ts; also the CleanupError class.
import {existsSync, readFileSync, renameSync} from 'node:fs';
import {join} from 'node:path';
import {ensurePrivateDir, tildePath, writePrivateFile} from '../credentials.js';
import {VastdeckError, type ErrorCode} from '../errors.js';
import {LABEL_PREFIX} from '../instances/create-body.js';

export type CleanupStep = 'extract-outputs' | 'extract-logs' | 'verify' | 'destroy' | 'confirm-gone';
export const CLEANUP_STEPS: readonly CleanupStep[] = ['extract-outputs', 'extract-logs', 'verify', 'destroy', 'confirm-gone'];
export type StepStatus = 'pending' | 'running' | 'done' | 'failed' | 'skipped';

/**
 * downloaded: home, not verified yet · verified: size (and sha256 when the instance has sha256sum)
 * match the remote · safe: the queue already brought it home (matched by sha256) · refused: its
 * remote name is unsafe, so it was not written.
 */
export type FileStatus = 'downloaded' | 'verified' | 'safe' | 'refused';

export interface CleanupFile {
  kind: 'output' | 'log';
  remotePath: string;
  /** Relative to the run folder, e.g. 'outputs/ComfyUI_00001_.png' (none when refused or safe). */
  localPath?: string;
  sizeBytes: number;
  /** Of the local copy. */
  sha256?: string;
  /** What the instance's sha256sum said. */
  remoteSha256?: string;
  status: FileStatus;
  /** How a verified file was checked: size + sha256, size only (no sha256sum), or a log that kept growing. */
  check?: 'sha256' | 'size' | 'grew';
  /** Where the queue's copy of a safe output is. */
  safeAt?: string;
}

export interface CleanupRecord {
  version: 1;
  apiOrigin: string;
  instanceId: number;
  label: string | null;
  startedAtMs: number;
  updatedAtMs: number;
  steps: Record<CleanupStep, {status: StepStatus; atMs?: number; note?: string}>;
  files: CleanupFile[];
  /** Storage volumes attached to the instance, seen before the destroy. */
  volumeIds: number[];
}

export type CleanupFailure = 'interrupted' | 'refused' | 'destroy-failed' | 'still-listed' | 'volume';

/** A cleanup that stopped short; `reason` says where, the message says what to do. */
export class CleanupError extends VastdeckError {
  readonly reason: CleanupFailure;
  readonly instanceId: number;
  constructor(reason: CleanupFailure, instanceId: number, message: string, options: {code?: ErrorCode; cause?: unknown} = {}) {
    const cause = options.cause;
    super(options.code ?? (cause instanceof VastdeckError ? cause.code : 'ssh'), message, {
      cause,
      ...(cause instanceof Error ? {detail: cause.message} : {}),
    });
    this.name = 'CleanupError';
    this.reason = reason;
    this.instanceId = instanceId;
  }
}

export interface RunIdentity {
  apiOrigin: string;
  instanceId: number;
  label: string | null;
}

const STATE_FILE = 'cleanup.json';

export class CleanupState {
  readonly runDir: string;
  readonly path: string;
  #record: CleanupRecord;

  private constructor(runDir: string, record: CleanupRecord) {
    this.runDir = runDir;
    this.path = join(runDir, STATE_FILE);
    this.#record = record;
  }

  /**
   * The run folder of this instance under <outputsDir>/runs, resuming its cleanup.json. A folder of
   * another instance with the same id (a demo cloud of an earlier day) is left alone: '-2' is used.
   */
  static open(outputsDir: string, who: RunIdentity): CleanupState {
    const base = join(outputsDir, 'runs', runFolderName(who.instanceId, who.label));
    for (let attempt = 1; ; attempt++) {
      const runDir = attempt === 1 ? base : `${base}-${attempt}`;
      const existing = readRecord(join(runDir, STATE_FILE));
      if (existing === undefined || isOf(existing, who)) {
        ensurePrivateDir(runDir);
        const state = new CleanupState(runDir, existing ?? freshRecord(who));
        if (!existing) state.save();
        return state;
      }
    }
  }

  /** The cleanup of this instance begun earlier, without creating anything when there is none. */
  static find(outputsDir: string, who: RunIdentity): CleanupState | undefined {
    const base = join(outputsDir, 'runs', runFolderName(who.instanceId, who.label));
    for (let attempt = 1; ; attempt++) {
      const runDir = attempt === 1 ? base : `${base}-${attempt}`;
      const existing = readRecord(join(runDir, STATE_FILE));
      if (existing === undefined) return undefined;
      if (isOf(existing, who)) return new CleanupState(runDir, existing);
    }
  }

  get record(): Readonly<CleanupRecord> {
    return this.#record;
  }

  step(name: CleanupStep, status: StepStatus, note?: string): void {
    this.#record.steps[name] = {status, atMs: Date.now(), ...(note === undefined ? {} : {note})};
    this.save();
  }

  file(remotePath: string): CleanupFile | undefined {
    return this.#record.files.find(file => file.remotePath === remotePath);
  }

  /** Adds or replaces the file with this remote path. */
  putFile(file: CleanupFile): void {
    const index = this.#record.files.findIndex(candidate => candidate.remotePath === file.remotePath);
    if (index === -1) this.#record.files.push(file);
    else this.#record.files[index] = file;
    this.save();
  }

  /** Forgets refused names: the listing that follows records the ones still on the instance. */
  dropRefused(): void {
    this.#record.files = this.#record.files.filter(file => file.status !== 'refused');
    this.save();
  }

  /** Files that are not safely home: pulled but unverified, or refused. */
  unsafeFiles(): CleanupFile[] {
    return this.#record.files.filter(file => file.status === 'downloaded' || file.status === 'refused');
  }

  setVolumes(volumeIds: number[]): void {
    this.#record.volumeIds = volumeIds;
    this.save();
  }

  save(): void {
    this.#record.updatedAtMs = Date.now();
    writePrivateFile(this.path, `${JSON.stringify(this.#record, null, 2)}\n`);
  }
}

/** '<instanceId>-<label suffix>': 'vastdeck:3fa9c2d1' → '31415926-3fa9c2d1'; no label → 'unlabelled'. */
export function runFolderName(instanceId: number, label: string | null): string {
  const bare = (label ?? '').startsWith(LABEL_PREFIX) ? (label ?? '').slice(LABEL_PREFIX.length) : (label ?? '');
  const suffix = bare.replace(/[^\w-]+/g, '_').replace(/^_+|_+$/g, '').slice(0, 40);
  return `${instanceId}-${suffix || 'unlabelled'}`;
}

/** 1.2 MB, 980 kB, 12 B: decimal units, as the dashboard shows sizes. */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let value = bytes / 1000;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value >= 100 ? Math.round(value) : value.toFixed(1)} ${units[unit]}`;
}

function isOf(record: CleanupRecord, who: RunIdentity): boolean {
  return record.apiOrigin === who.apiOrigin && record.instanceId === who.instanceId && record.label === who.label;
}

function freshRecord(who: RunIdentity): CleanupRecord {
  const nowMs = Date.now();
  const steps = Object.fromEntries(CLEANUP_STEPS.map(step => [step, {status: 'pending'}])) as CleanupRecord['steps'];
  return {version: 1, apiOrigin: who.apiOrigin, instanceId: who.instanceId, label: who.label, startedAtMs: nowMs, updatedAtMs: nowMs, steps, files: [], volumeIds: []};
}

/** The record at `path`; undefined when absent. A damaged file is moved aside (the cleanup starts over). */
function readRecord(path: string): CleanupRecord | undefined {
  if (!existsSync(path)) return undefined;
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<CleanupRecord>;
    if (parsed.version === 1 && typeof parsed.instanceId === 'number' && Array.isArray(parsed.files) && typeof parsed.steps === 'object' && parsed.steps !== null) {
      return {...freshRecord({apiOrigin: '', instanceId: 0, label: null}), ...parsed} as CleanupRecord;
    }
  } catch {
    // moved aside below
  }
  try {
    renameSync(path, `${path}.damaged-${Date.now()}`);
  } catch (error) {
    throw new VastdeckError('config', `vastdeck cannot move aside the damaged cleanup record ${tildePath(path)} (${(error as NodeJS.ErrnoException).code ?? 'unknown error'}): delete it and run the cleanup again.`);
  }
  return undefined;
}
