// The write-ahead ledger of instances vastdeck created: $XDG_STATE_HOME/vastdeck/ledger.json (0600
// in a 0700 dir), rewritten atomically and synchronously on every change, so an instance that bills
// is on disk before the create call leaves. Used by create.ts, reconcile.ts and the destroy flow.
import {stateDir} from '../state-paths.js';
import {readFileSync, renameSync} from 'node:fs';
import {fileIdentity} from '../file-identity.js';
import {randomBytes} from 'node:crypto';
import {basename, join} from 'node:path';
import {tildePath, writePrivateFile} from '../credentials.js';
import {VastdeckError} from '../errors.js';
import {newLabel, parseLabel} from '../instances/create-body.js';
import type {BillingRecord, Instance, LedgerInstance, LedgerState} from '../instances/types.js';
import {endBilling, type BillingEnd} from '../money/billing.js';

export interface LedgerIntent {
  apiOrigin: string;
  offerId: number;
  machineId: number;
  gpuName: string;
  numGpus: number;
  dphTotal: number;
  webPassword: string;
}

const FILE_VERSION = 1;
const STATES: ReadonlySet<string> = new Set<LedgerState>(['creating', 'active', 'create-failed', 'destroying', 'destroyed', 'gone']);
/** States that bill nothing any more; such entries are pruned once older than PRUNE_AFTER_MS. */
const FINISHED: ReadonlySet<LedgerState> = new Set<LedgerState>(['create-failed', 'destroyed', 'gone']);
const PRUNE_AFTER_MS = 30 * 24 * 60 * 60 * 1000;
const MAX_EVENTS_PER_ENTRY = 20;

/** $XDG_STATE_HOME/vastdeck/ledger.json, default ~/.local/state/vastdeck/ledger.json. */
export function ledgerPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(stateDir(env), 'ledger.json');
}

export class Ledger {
  readonly path: string;
  /** This install's id, put in the label of every entry begun here. */
  readonly installId: string | undefined;
  /** The session (core/money/sessions.ts) this process runs, stamped on every entry begun here. */
  sessionId: string | undefined;
  /** The cloud's clock in epoch seconds (billing ends on it); this machine's clock by default. */
  readonly #cloudNowSec: () => number;
  /** One sentence each: a corrupt file that was moved aside. The dashboard shows them. */
  readonly warnings: string[] = [];
  #entries: LedgerInstance[] = [];
  #billingWrittenAtMs = 0;
  /** Identity of the file version in #entries; another process's write changes it. */
  #seen = '';

  private constructor(path: string, installId: string | undefined, cloudNowSec: () => number) {
    this.path = path;
    this.installId = installId;
    this.#cloudNowSec = cloudNowSec;
  }

  static open(options: {path?: string; installId?: string; cloudNowSec?: () => number} = {}): Ledger {
    const ledger = new Ledger(options.path ?? ledgerPath(), options.installId, options.cloudNowSec ?? (() => Date.now() / 1000));
    ledger.#refresh();
    return ledger;
  }

  all(): LedgerInstance[] {
    this.#refresh();
    return structuredClone(this.#entries);
  }

  // Lookups copy only what they return: the fleet and the spend book ask many times a second, and
  // a copy of every entry (events, billing records) per question was most of an idle dashboard's work.
  forOrigin(apiOrigin: string): LedgerInstance[] {
    this.#refresh();
    return structuredClone(this.#entries.filter(entry => entry.apiOrigin === apiOrigin));
  }

  find(localId: string): LedgerInstance | undefined {
    this.#refresh();
    const entry = this.#entries.find(candidate => candidate.localId === localId);
    return entry && structuredClone(entry);
  }

  findByInstanceId(apiOrigin: string, instanceId: number): LedgerInstance | undefined {
    this.#refresh();
    const entry = this.#entries.find(candidate => candidate.apiOrigin === apiOrigin && candidate.instanceId === instanceId);
    return entry && structuredClone(entry);
  }

  /** Records a create about to be sent ('creating'), on disk before this returns. */
  begin(intent: LedgerIntent): LedgerInstance {
    this.#refresh();
    const localId = this.#freshLocalId();
    const nowMs = Date.now();
    const entry: LedgerInstance = {
      localId,
      label: newLabel(localId, this.installId),
      ...intent,
      ...(this.sessionId ? {sessionId: this.sessionId} : {}),
      state: 'creating',
      createdAtMs: nowMs,
      updatedAtMs: nowMs,
      events: [{atMs: nowMs, what: `create requested on offer ${intent.offerId}`}],
    };
    this.#entries.push(entry);
    this.#write();
    return structuredClone(entry);
  }

  /** An instance found on the account with a vastdeck label the ledger did not know. */
  adopt(apiOrigin: string, instance: Instance, note: string): LedgerInstance {
    this.#refresh();
    const parsed = parseLabel(instance.label);
    const fromLabel = parsed.vastdeck ? parsed.localId : '';
    const localId = /^[\w-]{1,40}$/.test(fromLabel) && !this.#entries.some(entry => entry.localId === fromLabel) ? fromLabel : this.#freshLocalId();
    // Its clocks run from when the cloud created it (start_date), not from when vastdeck first saw it.
    const entry: LedgerInstance = {...describeInstance(apiOrigin, instance), localId, label: instance.label ?? newLabel(localId), events: [{atMs: Date.now(), what: note}]};
    this.#entries.push(entry);
    this.#write();
    return structuredClone(entry);
  }

  /** The create answered (or the instance was found on the account): it exists and bills. */
  markCreated(localId: string, instanceId: number, note = `created as instance ${instanceId}`): LedgerInstance {
    return this.#change(localId, 'active', note, entry => {
      entry.instanceId = instanceId;
    });
  }

  markCreateFailed(localId: string, reason: string): LedgerInstance {
    return this.#change(localId, 'create-failed', `create failed: ${reason}`);
  }

  markDestroying(localId: string): LedgerInstance {
    return this.#change(localId, 'destroying', 'destroy requested');
  }

  markDestroyed(localId: string, note: string): LedgerInstance {
    return this.#change(localId, 'destroyed', note);
  }

  markGone(localId: string, note: string): LedgerInstance {
    return this.#change(localId, 'gone', note);
  }

  note(localId: string, text: string): LedgerInstance {
    return this.#change(localId, undefined, text);
  }

  /**
   * Stores billing records brought up to date from the API (one write for all; no event). A record
   * whose shape did not change (only its last-seen time moved) is kept in memory and written at most
   * every BILLING_WRITE_MS: every poll would otherwise rewrite (and fsync) the file; the API can tell
   * the same again after a crash (start_date, uptime_mins).
   */
  recordBilling(records: ReadonlyArray<{localId: string; billing: BillingRecord}>, nowMs: number = Date.now()): void {
    if (records.length === 0) return;
    this.#refresh();
    let changed = false;
    let material = false;
    for (const {localId, billing} of records) {
      const entry = this.#entries.find(candidate => candidate.localId === localId);
      // A record ended meanwhile (the destroy was accepted) stays ended unless the instance lives on ('active' again).
      if (!entry || (entry.billing?.endedSec !== undefined && billing.endedSec === undefined && entry.state !== 'active')) continue;
      if (!entry.billing || billingShape(entry.billing) !== billingShape(billing)) material = true;
      entry.billing = billing;
      changed = true;
    }
    if (changed && (material || nowMs - this.#billingWrittenAtMs >= BILLING_WRITE_MS)) {
      this.#billingWrittenAtMs = nowMs;
      this.#write();
    }
  }

  /** The instance's billing stops: destroyed at `cloudSec` (the API accepted the destroy), or found missing then. */
  endBilling(localId: string, how: BillingEnd, cloudSec = this.#cloudNowSec()): void {
    this.#refresh();
    const entry = this.#entries.find(candidate => candidate.localId === localId);
    if (!entry?.billing || entry.billing.endedSec !== undefined) return;
    entry.billing = endBilling(entry.billing, cloudSec, how);
    this.#write();
  }

  #change(localId: string, state: LedgerState | undefined, what: string, also?: (entry: LedgerInstance) => void): LedgerInstance {
    this.#refresh();
    const entry = this.#entries.find(candidate => candidate.localId === localId);
    if (!entry) throw new VastdeckError('not-found', `The instance ledger has no entry ${localId}: it may have been pruned, or the ledger file was replaced.`);
    const nowMs = Date.now();
    if (state) entry.state = state;
    // The portal password is only useful while the instance lives; do not keep it at rest after.
    if (FINISHED.has(entry.state)) delete entry.webPassword;
    // Nothing bills once it is destroyed or gone; a destroy's own moment was recorded by the cleanup already.
    if ((entry.state === 'destroyed' || entry.state === 'gone') && entry.billing && entry.billing.endedSec === undefined) {
      entry.billing = endBilling(entry.billing, this.#cloudNowSec(), entry.state === 'destroyed' ? 'destroyed' : 'vanished');
    }
    also?.(entry);
    entry.updatedAtMs = nowMs;
    entry.events = [...entry.events, {atMs: nowMs, what}].slice(-MAX_EVENTS_PER_ENTRY);
    this.#write();
    return structuredClone(entry);
  }

  #freshLocalId(): string {
    for (;;) {
      const localId = randomBytes(4).toString('hex');
      if (!this.#entries.some(entry => entry.localId === localId)) return localId;
    }
  }

  #write(): void {
    const nowMs = Date.now();
    this.#entries = this.#entries.filter(entry => !(FINISHED.has(entry.state) && nowMs - entry.updatedAtMs > PRUNE_AFTER_MS));
    try {
      writePrivateFile(this.path, `${JSON.stringify({version: FILE_VERSION, instances: this.#entries}, undefined, 2)}\n`);
      this.#seen = fileIdentity(this.path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'unknown error';
      throw new VastdeckError('config', `vastdeck cannot write its instance ledger ${tildePath(this.path)} (${code}): free some disk space or fix that folder's permissions.`, {cause: error});
    }
  }

  /** Re-reads the file when another process (or a person) changed it since we last saw it. */
  #refresh(): void {
    const identity = fileIdentity(this.path);
    if (identity === this.#seen) return;
    this.#seen = identity;
    if (identity === 'missing') {
      this.#entries = [];
      return;
    }
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (error) {
      throw new VastdeckError('config', `vastdeck cannot read its instance ledger ${tildePath(this.path)} (${(error as NodeJS.ErrnoException).code ?? 'unknown error'}): fix that file's permissions.`);
    }
    const parsed = parseLedgerFile(text);
    this.#entries = parsed.entries;
    if (parsed.problem === undefined) return;
    const keptAs = `${this.path}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    renameSync(this.path, keptAs);
    this.warnings.push(
      `The instance ledger ${tildePath(this.path)} ${parsed.problem}, so it was kept as ${basename(keptAs)} and the readable entries (${parsed.entries.length}) were carried over: check the kept file for instances that may still bill on Vast.ai.`,
    );
    if (parsed.entries.length > 0) this.#write();
    else this.#seen = 'missing';
  }
}

/** A ledger-shaped description of an instance that is not ours, for watching it without recording it. */
export function describeInstance(apiOrigin: string, instance: Instance): LedgerInstance {
  const nowMs = Date.now();
  return {
    localId: `instance-${instance.id}`,
    label: instance.label ?? '',
    apiOrigin,
    offerId: 0,
    machineId: instance.machineId,
    gpuName: instance.gpuName,
    numGpus: instance.numGpus,
    dphTotal: instance.dphTotal,
    state: 'active',
    instanceId: instance.id,
    createdAtMs: instance.startDateSec ? instance.startDateSec * 1000 : nowMs,
    updatedAtMs: nowMs,
    events: [],
  };
}

/** Billing records are written at least this often while only their last-seen time moves. */
const BILLING_WRITE_MS = 15_000;

/** A billing record without the fields every look moves (what makes a write worth it). */
function billingShape(record: BillingRecord): string {
  const {seenSec: _seen, pulledGb, provisionedGb, ...rest} = record;
  return JSON.stringify({...rest, pulledGb: Math.round(pulledGb * 10), provisionedGb: Math.round(provisionedGb * 10)});
}


function parseLedgerFile(text: string): {entries: LedgerInstance[]; problem?: string} {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return {entries: [], problem: 'was not valid JSON'};
  }
  const list = typeof data === 'object' && data !== null ? (data as {instances?: unknown}).instances : undefined;
  if (!Array.isArray(list)) return {entries: [], problem: 'had no "instances" list'};
  const entries = list.flatMap(raw => {
    const entry = parseEntry(raw);
    return entry ? [entry] : [];
  });
  const rejected = list.length - entries.length;
  return rejected > 0 ? {entries, problem: `had ${rejected} unreadable ${rejected === 1 ? 'entry' : 'entries'}`} : {entries};
}

function parseEntry(raw: unknown): LedgerInstance | undefined {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return undefined;
  const fields = raw as Record<string, unknown>;
  const {localId, label, apiOrigin, state} = fields;
  if (typeof localId !== 'string' || localId === '' || typeof label !== 'string' || typeof apiOrigin !== 'string') return undefined;
  if (typeof state !== 'string' || !STATES.has(state)) return undefined;
  const number = (name: string): number => (typeof fields[name] === 'number' && Number.isFinite(fields[name]) ? (fields[name] as number) : 0);
  const events = Array.isArray(fields.events)
    ? fields.events.filter((event): event is {atMs: number; what: string} => typeof event?.atMs === 'number' && typeof event?.what === 'string')
    : [];
  const entry: LedgerInstance = {
    localId,
    label,
    apiOrigin,
    offerId: number('offerId'),
    machineId: number('machineId'),
    gpuName: typeof fields.gpuName === 'string' ? fields.gpuName : '',
    numGpus: number('numGpus'),
    dphTotal: number('dphTotal'),
    state: state as LedgerState,
    createdAtMs: number('createdAtMs'),
    updatedAtMs: number('updatedAtMs'),
    events: events.map(event => ({atMs: event.atMs, what: event.what})),
  };
  if (typeof fields.instanceId === 'number' && Number.isInteger(fields.instanceId)) entry.instanceId = fields.instanceId;
  if (typeof fields.webPassword === 'string') entry.webPassword = fields.webPassword;
  if (typeof fields.sessionId === 'string' && fields.sessionId !== '') entry.sessionId = fields.sessionId;
  const billing = parseBilling(fields.billing);
  if (billing) entry.billing = billing;
  return entry;
}

/** A stored billing record, or undefined when it is missing or not one (the next look rebuilds it from the API). */
function parseBilling(raw: unknown): BillingRecord | undefined {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return undefined;
  const fields = raw as Record<string, unknown>;
  const numbers = ['startSec', 'storagePerHour', 'gpuPerHour', 'inetDownCostPerGb', 'inetDownMbps', 'closedGpuSec', 'imageGb', 'pulledGb', 'provisionedGb', 'closedOfflineSec', 'seenSec'] as const;
  if (!numbers.every(name => typeof fields[name] === 'number' && Number.isFinite(fields[name]))) return undefined;
  const record = Object.fromEntries(numbers.map(name => [name, fields[name] as number])) as Pick<BillingRecord, (typeof numbers)[number]>;
  const billing: BillingRecord = {...record, ran: fields.ran === true, seenStatus: typeof fields.seenStatus === 'string' ? fields.seenStatus : null};
  for (const name of ['runStartSec', 'pullStartSec', 'offlineSinceSec', 'endedSec'] as const) {
    const value = fields[name];
    if (typeof value === 'number' && Number.isFinite(value)) billing[name] = value;
  }
  return billing;
}
