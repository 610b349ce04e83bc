// The live fleet: every instance this install has on the account, as rows the Instances pane
// draws. One paced instance-list call per interval serves the whole fleet (never one call per
// instance); each instance's SSH log stream and ComfyUI probe run in its InstanceWatch. The verbs
// (rent, clean up, reconcile) are use cases (core/usecases/); this model only shows their effects:
// creates in flight, cleanup progress, and instances found by the reconcile its first list feeds.
import type {FleetSnapshot, InstanceRow, LogView, OtherInstance} from '../deck-types.js';
import {untilNextMultiple} from '../clock.js';
import {toVastdeckError} from '../errors.js';
import type {Ledger} from '../ledger/ledger.js';
import {Model} from '../model.js';
import type {KnownHosts} from '../ssh/known-hosts.js';
import {findSshIdentity, NO_SSH_KEY_MESSAGE, type SshIdentity} from '../ssh/keys.js';
import type {VastClient} from '../vast/client.js';
import {listInstances} from '../vast/instances-api.js';
import {InstanceWatch} from './instance-watch.js';
import type {ProbeFunction} from './probe.js';
import type {StageState} from './stages.js';
import type {Instance, LedgerInstance} from './types.js';

export interface FleetOptions {
  client: VastClient;
  ledger: Ledger;
  /** scheme://host:port of the API: ledger entries of other APIs are not ours to show. */
  apiOrigin: string;
  knownHosts: KnownHosts;
  /** Called with the first successful instance list (the reconcile); returns other installs' instances. */
  onFirstList?: (instances: Instance[]) => {others: Instance[]};
  /** Other installs' instances in later lists (labels only: never watched or touched). */
  isOther?: (instance: Instance) => boolean;
  /** Vast losing an instance this install tracks (one sentence each). */
  onGone?: (entry: LedgerInstance) => void;
  /** Every instance list, with the provisioning bytes the watched instances' logs showed (the spend book's look). */
  onList?: (instances: Instance[], provisionedBytes: (instanceId: number) => number | undefined) => void;
  /** What a ledger entry has cost so far, for its row (0 before its first look). */
  spentUsd?: (entry: LedgerInstance) => number;
  /** List interval while something is booting (5 s) and when everything is settled (15 s), in the cloud's time. */
  pollMs?: {busy: number; idle: number};
  /** Cloud seconds per local second (a simulator's speed): the intervals shrink by it, to no less than 250 ms. */
  cloudRate?: () => number;
  probe?: ProbeFunction;
  env?: NodeJS.ProcessEnv;
  now?: () => number;
  /** Between autostop heartbeats per instance (60 s live; shorter against a fast simulator). */
  heartbeatMs?: number | (() => number);
  /** Cloud seconds per local second (usecases/pace.ts). */
  cloudSpeed?: () => number;
}

const ACTIVE_STATES = new Set(['creating', 'active', 'destroying']);
/** How long watch changes are gathered before the rows are rebuilt. */
const PUBLISH_MS = 100;

/**
 * The snapshot as the dashboard shows it: the log's line counters and the last heartbeat's time
 * left out (neither is drawn), money to four significant digits — or, with `withMoney` false,
 * without the money, which ticks on its own.
 */
function visibleSignature(snapshot: FleetSnapshot, withMoney = true): string {
  return JSON.stringify(snapshot, (key, value: unknown) => {
    if (key === 'lines' || key === 'endSeq' || key === 'lastLineAtMs' || key === 'lastBeatAtMs') return undefined;
    if (key === 'accruedUsd' && typeof value === 'number') return withMoney ? Number(value.toPrecision(4)) : undefined;
    if (key === 'lastPollAtMs' && !withMoney) return undefined;
    return value;
  });
}
/** A change of money (or of the last poll's time) alone waits for the next whole second of the wall clock. */
const MONEY_TICK_MS = 1000;
const SETTLED = new Set(['READY', 'FAILED']);
/** Vast paces the instance list to one call a second; polling faster would only queue behind it. */
const MIN_POLL_MS = 1000;

export class FleetModel extends Model<FleetSnapshot> {
  readonly #options: FleetOptions;
  readonly #now: () => number;
  readonly #watches = new Map<string, InstanceWatch>();
  readonly #settleWaiters = new Map<string, Array<(state: StageState) => void>>();
  #identity: SshIdentity | undefined;
  #creating: string[] = [];
  #others: OtherInstance[] = [];
  #timer: NodeJS.Timeout | undefined;
  #polling: Promise<void> | undefined;
  #started = false;
  #reconciled = false;
  #error: string | undefined;
  #lastPollAtMs: number | undefined;
  readonly #cleanups = new Map<string, {step: string; message: string; failed?: boolean}>();
  #publishTimer: NodeJS.Timeout | undefined;
  #signature = '';
  #shape = '';
  #moneyTimer: NodeJS.Timeout | undefined;

  constructor(options: FleetOptions) {
    super({rows: [], reconciled: false, creating: [], otherInstalls: [], sshKey: {ok: false, message: 'Looking for your SSH key…'}});
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    this.#identity = await findSshIdentity(this.#options.env).catch(() => undefined);
    this.#publish();
    await this.pollNow();
  }

  async stop(): Promise<void> {
    this.#started = false;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#publishTimer) clearTimeout(this.#publishTimer);
    this.#publishTimer = undefined;
    clearTimeout(this.#moneyTimer);
    this.#moneyTimer = undefined;
    await Promise.all([...this.#watches.values()].map(watch => watch.stop()));
  }

  /** One instance-list call for the whole fleet, then the next one scheduled. */
  pollNow(): Promise<void> {
    this.#polling ??= this.#poll().finally(() => {
      this.#polling = undefined;
      this.#schedule();
    });
    return this.#polling;
  }

  get identity(): SshIdentity | undefined {
    return this.#identity;
  }

  setIdentity(identity: SshIdentity): void {
    this.#identity = identity;
    this.#publish();
  }

  /** Shows a create in flight ("renting RTX 4090 ×1 (offer 123)…"); call the returned function when it ends. */
  beginCreating(line: string): () => void {
    this.#creating = [...this.#creating, line];
    this.#publish();
    return () => {
      this.#creating = this.#creating.filter(entry => entry !== line);
      this.#publish();
    };
  }

  /** Starts watching a ledger entry now (right after its create) instead of at the next poll. */
  track(entry: LedgerInstance): void {
    this.#watch(entry);
    void this.pollNow();
  }

  /** Resolves with the instance's stage once it is READY or FAILED (or at once if it already is). */
  settled(key: string): Promise<StageState> {
    const stage = this.#watches.get(key)?.stage;
    if (stage && SETTLED.has(stage.stage)) return Promise.resolve(stage);
    return new Promise(resolve => this.#settleWaiters.set(key, [...(this.#settleWaiters.get(key) ?? []), resolve]));
  }

  /** The cleanup in progress for the row (undefined clears it). */
  setCleanup(key: string, cleanup: {step: string; message: string; failed?: boolean} | undefined): void {
    if (cleanup) this.#cleanups.set(key, cleanup);
    else this.#cleanups.delete(key);
    this.#publish();
  }

  cleanupOf(key: string): {step: string; message: string; failed?: boolean} | undefined {
    return this.#cleanups.get(key);
  }

  /** Stops watching an instance that is gone (after its cleanup). */
  async forget(key: string): Promise<void> {
    const watch = this.#watches.get(key);
    this.#watches.delete(key);
    this.#cleanups.delete(key);
    for (const resolve of this.#settleWaiters.get(key) ?? []) resolve(watch?.stage ?? {stage: 'FAILED', sinceMs: this.#now(), evidence: 'forgotten', warnings: [], timeline: [], appListening: false, provisioningFailed: false});
    this.#settleWaiters.delete(key);
    await watch?.stop();
    this.#publish();
  }

  logs(key: string): LogView | undefined {
    const stream = this.#watches.get(key)?.logs;
    if (!stream) return undefined;
    return {
      subscribe: stream.subscribe,
      getSnapshot: stream.getSnapshot,
      slice: (fromSeq, count) => stream.ring.slice(fromSeq, count),
      firstSeq: () => stream.ring.firstSeq,
      endSeq: () => stream.ring.endSeq,
    };
  }

  portalSecret(key: string): {token: string; comfyui?: string; instancePortal?: string} | undefined {
    const watch = this.#watches.get(key);
    const token = watch?.token();
    if (!watch || !token) return undefined;
    return {token, ...watch.portal()};
  }

  /** The watch of one instance (tests, and the log save). */
  watchOf(key: string): InstanceWatch | undefined {
    return this.#watches.get(key);
  }

  async #poll(): Promise<void> {
    let instances: Instance[];
    try {
      instances = await listInstances(this.#options.client);
    } catch (error) {
      this.#error = toVastdeckError(error).message;
      this.#publish();
      return;
    }
    const now = this.#now();
    this.#error = undefined;
    this.#lastPollAtMs = now;
    if (!this.#reconciled) {
      this.#reconciled = true;
      this.#options.onFirstList?.(instances);
    }
    const isOther = this.#options.isOther;
    this.#others = isOther ? instances.filter(isOther).map(instance => ({instanceId: instance.id, label: instance.label ?? '', gpuName: instance.gpuName, numGpus: instance.numGpus, dphTotal: instance.dphTotal, actualStatus: instance.actualStatus})) : [];
    for (const entry of this.#options.ledger.forOrigin(this.#options.apiOrigin)) {
      if (ACTIVE_STATES.has(entry.state) && entry.instanceId !== undefined) this.#watch(entry);
    }
    for (const watch of this.#watches.values()) {
      const fresh = this.#options.ledger.find(watch.key);
      if (fresh) watch.entry = fresh;
      const instance = instances.find(candidate => candidate.id === watch.entry.instanceId);
      if (!instance && watch.entry.state === 'active' && watch.entry.instanceId !== undefined) {
        watch.entry = this.#options.ledger.markGone(watch.key, 'no longer in the instance list');
        watch.tracker.feedGone(now);
        this.#options.onGone?.(watch.entry);
        void watch.logs.stop();
      }
      watch.feedInstance(instance, now);
      watch.tick(now);
    }
    if (this.#options.onList) {
      const watches = [...this.#watches.values()];
      this.#options.onList(instances, instanceId => watches.find(watch => watch.entry.instanceId === instanceId)?.tracker.downloadedBytes || undefined);
      for (const watch of watches) watch.entry = this.#options.ledger.find(watch.key) ?? watch.entry;
    }
    this.#publish();
  }

  #watch(entry: LedgerInstance): void {
    if (this.#watches.has(entry.localId)) return;
    this.#watches.set(
      entry.localId,
      new InstanceWatch({
        entry,
        apiOrigin: this.#options.apiOrigin,
        identity: this.#identity,
        knownHosts: this.#options.knownHosts,
        probe: this.#options.probe,
        now: this.#now,
        heartbeatMs: this.#options.heartbeatMs,
        cloudSpeed: this.#options.cloudSpeed,
        onChange: () => this.#publish(),
      }),
    );
  }

  #schedule(): void {
    if (!this.#started) return;
    if (this.#timer) clearTimeout(this.#timer);
    const {busy, idle} = this.#options.pollMs ?? {busy: 5000, idle: 15_000};
    const booting = [...this.#watches.values()].some(watch => !SETTLED.has(watch.stage.stage) && ACTIVE_STATES.has(watch.entry.state));
    const intervalMs = booting || this.#creating.length > 0 ? busy : idle;
    this.#timer = setTimeout(() => void this.pollNow(), Math.min(intervalMs, Math.max(MIN_POLL_MS, intervalMs / Math.max(1, this.#options.cloudRate?.() ?? 1))));
    this.#timer.unref();
  }

  /**
   * Rebuilds the rows soon: a watch changes with every log line (hundreds a second from a busy
   * fleet), so changes are gathered for PUBLISH_MS and the rows built once; and a snapshot whose
   * visible content did not change (only the log's line counters moved) is not published at all,
   * so a streaming log costs the dashboard no frame.
   */
  #publish(): void {
    if (this.#publishTimer) return;
    this.#publishTimer = setTimeout(() => {
      this.#publishTimer = undefined;
      this.#build();
    }, PUBLISH_MS);
    this.#publishTimer.unref();
  }

  /** Rows now (tests and flush), instead of at the next gathered publish. */
  override flush(): void {
    if (this.#publishTimer || this.#moneyTimer) {
      clearTimeout(this.#publishTimer);
      this.#publishTimer = undefined;
      this.#build(true);
    }
    super.flush();
  }

  /** Rebuilds the rows and publishes them if what is shown changed (`immediately`: a money-only change too, now). */
  #build(immediately = false): void {
    const now = this.#now();
    const rows: InstanceRow[] = [...this.#watches.values()].map(watch => ({
      key: watch.key,
      instanceId: watch.entry.instanceId,
      label: watch.entry.label,
      gpuName: watch.instance?.gpuName ?? watch.entry.gpuName,
      numGpus: watch.instance?.numGpus ?? watch.entry.numGpus,
      dphTotal: watch.instance?.dphTotal ?? watch.entry.dphTotal,
      ledgerState: watch.entry.state,
      actualStatus: watch.instance?.actualStatus ?? null,
      statusMsg: watch.instance?.statusMsg ?? null,
      stage: watch.stage,
      createdAtMs: watch.entry.createdAtMs,
      runningSinceMs: watch.runningSinceMs,
      accruedUsd: this.#options.spentUsd?.(watch.entry) ?? 0,
      log: watch.logState(),
      autostop: watch.autostop(),
      portal: watch.portal(),
      note: watch.entry.events.find(event => event.what === 'found on the account') ? 'found on the account, not created in this session' : undefined,
      cleanup: this.#cleanups.get(watch.key),
    }));
    for (const row of rows) {
      if (!SETTLED.has(row.stage.stage)) continue;
      const waiters = this.#settleWaiters.get(row.key);
      if (!waiters) continue;
      this.#settleWaiters.delete(row.key);
      for (const resolve of waiters) resolve(row.stage);
    }
    const identity = this.#identity;
    const snapshot: FleetSnapshot = {
      rows,
      reconciled: this.#reconciled,
      creating: this.#creating,
      otherInstalls: this.#others,
      error: this.#error,
      lastPollAtMs: this.#lastPollAtMs,
      sshKey: identity ? {ok: true, description: identity.path ?? 'ssh-agent'} : {ok: false, message: NO_SSH_KEY_MESSAGE},
    };
    const signature = visibleSignature(snapshot);
    if (signature === this.#signature) return;
    const shape = visibleSignature(snapshot, false);
    if (shape === this.#shape && !immediately) {
      // Only the accrued money or the poll time moved: shown with the dashboard's other once-a-second
      // labels (core/clock.ts alignedInterval), in their frame rather than one of its own.
      this.#moneyTimer ??= setTimeout(() => {
        this.#moneyTimer = undefined;
        this.#build(true);
      }, untilNextMultiple(MONEY_TICK_MS));
      this.#moneyTimer.unref?.();
      return;
    }
    clearTimeout(this.#moneyTimer);
    this.#moneyTimer = undefined;
    this.#signature = signature;
    this.#shape = shape;
    this.update(snapshot);
  }
}
