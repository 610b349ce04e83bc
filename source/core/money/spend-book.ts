// The spend book: every front end that lists the account's instances (the dashboard's fleet poll,
// the reconcile every subcommand starts with, `up`/`watch`/`run` while they watch, the cleanup,
// `vastdeck spend`) hands the list to observe(). This install's instances get their billing record
// (billing.ts) brought up to date in the ledger — so destroyed instances, runs that ended and
// stops that nobody watched still count later; everyone else's instances on the account are
// priced from their API record alone (kept in memory). summary() is what the money line, the
// spend guard and `vastdeck spend` show.
import type {Instance, LedgerInstance} from '../instances/types.js';
import type {Ledger} from '../ledger/ledger.js';
import type {InstanceBilling} from '../queue/generation-queue.js';
import {observeBilling, spendOf, type InstanceSpend} from './billing.js';
import {sessionBurnUsdPerHour, sessionSpendUsd, type SessionKind, type SessionRecord, type Sessions} from './sessions.js';

export interface SpendBookDeps {
  ledger: Ledger;
  apiOrigin: string;
  sessions: Sessions;
  /** The cloud's clock, epoch seconds. */
  cloudNowSec: () => number;
  /** cost.imageGb: what a new instance's image pull downloads. */
  imageGb: () => number;
}

export interface AccountInstanceSpend {
  instanceId: number;
  /** The ledger's id when the instance is this install's. */
  localId?: string;
  ours: boolean;
  label: string | null;
  gpuName: string;
  /** actual_status on the account ('creating' before it has one), or the ledger's 'destroyed' / 'gone'. */
  state: string;
  spend: InstanceSpend;
}

export interface SpendSummary {
  cloudNowSec: number;
  /** Everything on the account now, whoever created it. */
  onAccount: AccountInstanceSpend[];
  /** This install's instances that no longer exist (from the ledger). */
  ended: AccountInstanceSpend[];
  /** $/h the whole account bills now (every instance on it). */
  burnUsdPerHour: number;
  session?: {record: SessionRecord; spentUsd: number; burnUsdPerHour: number};
  /** What every instance in this install's ledger for this API has cost. */
  allTimeUsd: number;
  /** Whether the account's instances were listed at least once. */
  listed: boolean;
}

/** A billing record this recent (cloud seconds) is a fresh enough look to start a session's count from. */
const FRESH_LOOK_SEC = 60;

export class SpendBook {
  readonly #deps: SpendBookDeps;
  #session: SessionRecord | undefined;
  #listed: Instance[] | undefined;
  /** Other installs' and non-vastdeck instances: their records from the API alone. */
  readonly #others = new Map<number, ReturnType<typeof observeBilling>>();

  constructor(deps: SpendBookDeps) {
    this.#deps = deps;
  }

  get session(): SessionRecord | undefined {
    return this.#session;
  }

  /** Starts this process's session (written to sessions.json); entries begun from now on carry its id. */
  beginSession(kind: SessionKind, capUsd: number): SessionRecord {
    this.#session = this.#deps.sessions.begin(kind, this.#deps.apiOrigin, this.#deps.cloudNowSec(), capUsd);
    this.#deps.ledger.sessionId = this.#session.id;
    // This install's instances that already bill count for the session from now on: from a record
    // this process just brought up to date, or else from the session's first look at them.
    const cloudNowSec = this.#deps.cloudNowSec();
    for (const entry of this.#deps.ledger.forOrigin(this.#deps.apiOrigin)) {
      const billing = entry.billing;
      if (billing && billing.endedSec === undefined && cloudNowSec - billing.seenSec <= FRESH_LOOK_SEC) this.#session.baselines[entry.localId] = spendOf(billing, cloudNowSec).totalUsd;
    }
    this.#deps.sessions.update(this.#session);
    return this.#session;
  }

  endSession(): void {
    if (!this.#session || this.#session.endedAtMs !== undefined) return;
    this.#session = {...this.#session, endedAtMs: Date.now()};
    this.#deps.sessions.update(this.#session);
  }

  /**
   * One list of the account's instances (`partial`: only some of them, e.g. a by-id read);
   * `provisionedBytes` from the logs of the instances being watched.
   */
  observe(instances: readonly Instance[], provisionedBytes?: (instanceId: number) => number | undefined, options: {partial?: boolean} = {}): void {
    const cloudNowSec = this.#deps.cloudNowSec();
    const imageGb = this.#deps.imageGb();
    const entries = this.#deps.ledger.forOrigin(this.#deps.apiOrigin);
    const updates: Array<{localId: string; billing: NonNullable<LedgerInstance['billing']>}> = [];
    const seenOthers = new Set<number>();
    for (const instance of instances) {
      const observation = {instance, cloudNowSec, imageGb, provisionedBytes: provisionedBytes?.(instance.id)};
      const entry = entries.find(candidate => candidate.instanceId === instance.id);
      if (entry) {
        // An ended record of an instance listed again: mid-destroy (keep it ended), or found alive again (start over from the API).
        const ended = entry.billing?.endedSec !== undefined;
        if (!ended || entry.state === 'active') updates.push({localId: entry.localId, billing: observeBilling(ended ? undefined : entry.billing, observation)});
      } else {
        seenOthers.add(instance.id);
        this.#others.set(instance.id, observeBilling(this.#others.get(instance.id), observation));
      }
    }
    if (!options.partial) for (const id of [...this.#others.keys()]) if (!seenOthers.has(id)) this.#others.delete(id);
    this.#deps.ledger.recordBilling(updates);
    const ids = new Set(instances.map(instance => instance.id));
    this.#listed = options.partial ? [...(this.#listed ?? []).filter(instance => !ids.has(instance.id)), ...instances] : [...instances];
    this.#baseline(updates, cloudNowSec);
  }

  /** Bytes a watch saw the instance's provisioning download, kept without a new look (a watch that ends between two lists). */
  noteProvisioned(instanceId: number, bytes: number): void {
    const entry = this.#deps.ledger.findByInstanceId(this.#deps.apiOrigin, instanceId);
    if (!entry?.billing || entry.billing.endedSec !== undefined || bytes / 1e9 <= entry.billing.provisionedGb) return;
    this.#deps.ledger.recordBilling([{localId: entry.localId, billing: {...entry.billing, provisionedGb: bytes / 1e9}}]);
  }

  /** Spend of one instance at the cloud's now: its ledger record, or what its last API record implies; undefined before any look. */
  instanceSpend(instanceId: number, cloudNowSec = this.#deps.cloudNowSec()): InstanceSpend | undefined {
    const record = this.#deps.ledger.findByInstanceId(this.#deps.apiOrigin, instanceId)?.billing ?? this.#others.get(instanceId);
    return record ? spendOf(record, cloudNowSec) : undefined;
  }

  /** What a job's cost share on the instance is measured with (generation-queue.ts). */
  jobBilling(instanceId: number): InstanceBilling {
    return {cloudNowMs: () => this.#deps.cloudNowSec() * 1000, downloadsUsd: () => this.instanceSpend(instanceId)?.bandwidthUsd ?? 0};
  }

  summary(cloudNowSec = this.#deps.cloudNowSec()): SpendSummary {
    const entries = this.#deps.ledger.forOrigin(this.#deps.apiOrigin);
    const onAccount: AccountInstanceSpend[] = [];
    for (const instance of this.#listed ?? []) {
      const entry = entries.find(candidate => candidate.instanceId === instance.id);
      const record = entry?.billing ?? this.#others.get(instance.id);
      // Listed before its destroy was accepted: it is among the ended ones now.
      if (!record || record.endedSec !== undefined) continue;
      onAccount.push({
        instanceId: instance.id,
        ...(entry ? {localId: entry.localId} : {}),
        ours: entry !== undefined,
        label: instance.label,
        gpuName: instance.gpuName,
        state: instance.actualStatus ?? 'creating',
        spend: spendOf(record, cloudNowSec),
      });
    }
    const listedIds = new Set(onAccount.map(row => row.instanceId));
    const ended = entries
      .filter(entry => entry.billing && entry.instanceId !== undefined && !listedIds.has(entry.instanceId) && (entry.billing.endedSec !== undefined || !this.#listed))
      .map(entry => ({instanceId: entry.instanceId!, localId: entry.localId, ours: true, label: entry.label, gpuName: entry.gpuName, state: entry.state, spend: spendOf(entry.billing!, cloudNowSec)}));
    const session = this.#session;
    return {
      cloudNowSec,
      onAccount,
      ended,
      burnUsdPerHour: onAccount.reduce((sum, row) => sum + row.spend.burnUsdPerHour, 0),
      ...(session ? {session: {record: session, spentUsd: sessionSpendUsd(session, entries, cloudNowSec), burnUsdPerHour: sessionBurnUsdPerHour(session, entries, cloudNowSec)}} : {}),
      allTimeUsd: entries.reduce((sum, entry) => sum + (entry.billing ? spendOf(entry.billing, cloudNowSec).totalUsd : 0), 0),
      listed: this.#listed !== undefined,
    };
  }

  /** The spend of a session (this one, or another process's from sessions.json). */
  sessionSpend(record: SessionRecord, cloudNowSec = this.#deps.cloudNowSec()): {spentUsd: number; burnUsdPerHour: number} {
    const entries = this.#deps.ledger.forOrigin(this.#deps.apiOrigin);
    return {spentUsd: sessionSpendUsd(record, entries, cloudNowSec), burnUsdPerHour: sessionBurnUsdPerHour(record, entries, cloudNowSec)};
  }

  /** The newest session against this API (the one running now, or the last one). */
  latestSession(): SessionRecord | undefined {
    return this.#session ?? this.#deps.sessions.latest(this.#deps.apiOrigin);
  }

  /** Instances of earlier sessions count for this one from its first look at them. */
  #baseline(updates: ReadonlyArray<{localId: string; billing: NonNullable<LedgerInstance['billing']>}>, cloudNowSec: number): void {
    const session = this.#session;
    if (!session) return;
    const entries = this.#deps.ledger.forOrigin(this.#deps.apiOrigin);
    let changed = false;
    for (const {localId, billing} of updates) {
      const entry = entries.find(candidate => candidate.localId === localId);
      if (!entry || entry.sessionId === session.id || session.baselines[localId] !== undefined) continue;
      session.baselines[localId] = spendOf(billing, cloudNowSec).totalUsd;
      changed = true;
    }
    if (changed) this.#deps.sessions.update(session);
  }
}
