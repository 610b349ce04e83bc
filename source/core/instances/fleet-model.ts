// Every instance this account has from vastdeck, watched at once. One paced instance-list call
// per interval serves the whole fleet (never one call per instance); each instance's SSH log
// stream and ComfyUI probe run in its InstanceWatch. Reconciles the ledger on the first list.
import {spawn} from 'node:child_process';
import {mkdir} from 'node:fs/promises';
import {join} from 'node:path';
import type {FleetController, FleetSnapshot, InstanceRow, LogView, MessageLevel} from '../deck-types.js';
import {toVastdeckError} from '../errors.js';
import type {Ledger} from '../ledger/ledger.js';
import {reconcile} from '../ledger/reconcile.js';
import {Model} from '../model.js';
import type {RankedOffer} from '../offers/types.js';
import type {VastdeckSettings} from '../settings.js';
import type {KnownHosts} from '../ssh/known-hosts.js';
import {createVastdeckKey, findSshIdentity, NO_SSH_KEY_MESSAGE, type SshIdentity} from '../ssh/keys.js';
import type {VastClient} from '../vast/client.js';
import {listInstances} from '../vast/instances-api.js';
import {cleanUp, pendingOutputs, type CleanupDeps} from '../cleanup/destroy.js';
import {createFromRanking} from './create.js';
import {InstanceWatch} from './instance-watch.js';
import type {ProbeFunction} from './probe.js';
import type {Instance, LedgerInstance} from './types.js';

export interface FleetOptions {
  client: VastClient;
  ledger: Ledger;
  /** scheme://host:port of the API: ledger entries of other APIs are not ours to show. */
  apiOrigin: string;
  settings: () => VastdeckSettings;
  knownHosts: KnownHosts;
  notify: (text: string, level?: MessageLevel) => void;
  /** List interval while something is booting (5 s) and when everything is settled (15 s). */
  pollMs?: {busy: number; idle: number};
  probe?: ProbeFunction;
  env?: NodeJS.ProcessEnv;
  /** Where saved logs go (default: the current folder); created when needed. */
  logDir?: string;
  /** The outputs folder: cleanups put each instance's run folder (outputs, logs) in its runs/. */
  outputsDir: string;
}

const ACTIVE_STATES = new Set(['creating', 'active', 'destroying']);

export class FleetModel extends Model<FleetSnapshot> implements FleetController {
  readonly #options: FleetOptions;
  readonly #watches = new Map<string, InstanceWatch>();
  #identity: SshIdentity | undefined;
  #creating: string[] = [];
  #timer: NodeJS.Timeout | undefined;
  #polling: Promise<void> | undefined;
  #started = false;
  #reconciled = false;
  #error: string | undefined;
  #lastPollAtMs: number | undefined;
  readonly #cleanups = new Map<string, {step: string; message: string; failed?: boolean}>();

  constructor(options: FleetOptions) {
    super({rows: [], reconciled: false, creating: [], sshKey: {ok: false, message: 'Looking for your SSH key…'}});
    this.#options = options;
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

  async create(candidates: readonly RankedOffer[]): Promise<void> {
    const identity = this.#identity;
    if (!identity) {
      this.#options.notify(NO_SSH_KEY_MESSAGE, 'error');
      return;
    }
    const first = candidates[0]?.offer;
    const line = first ? `renting ${first.gpuName} ×${first.numGpus} (offer ${first.id})…` : 'renting…';
    this.#creating = [...this.#creating, line];
    this.#publish();
    try {
      const created = await createFromRanking(
        {
          client: this.#options.client,
          ledger: this.#options.ledger,
          settings: this.#options.settings(),
          apiOrigin: this.#options.apiOrigin,
          identity,
          env: this.#options.env,
          onEvent: event => this.#options.notify(event.message, event.kind === 'offer-taken' || event.kind === 'key-attach-failed' ? 'warn' : 'info'),
        },
        candidates.filter(row => row.change !== 'vanished').map(row => row.offer),
      );
      this.#watch(created.ledgerEntry);
      this.#options.notify(`Rented ${created.offer.gpuName} ×${created.offer.numGpus} as instance ${created.instanceId} at $${created.offer.dphTotal.toFixed(3)}/h: watching it boot.`, 'info');
      void this.pollNow();
    } catch (error) {
      this.#options.notify(toVastdeckError(error).message, 'error');
    } finally {
      this.#creating = this.#creating.filter(entry => entry !== line);
      this.#publish();
    }
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

  async openPortal(key: string): Promise<string> {
    const url = this.#watches.get(key)?.portal().comfyui;
    if (!url) return 'This instance has no ComfyUI address yet: it appears once the instance runs.';
    const env = this.#options.env ?? process.env;
    if (!env.DISPLAY && !env.WAYLAND_DISPLAY) return `No desktop to open a browser on: open ${url} yourself (user vastai, password: the token, y copies it).`;
    const child = spawn('xdg-open', [url], {stdio: 'ignore', detached: true});
    child.on('error', () => {});
    child.unref();
    return `Opening ${url} in your browser: log in as vastai with the token (y copies it).`;
  }

  async saveLog(key: string): Promise<string> {
    const watch = this.#watches.get(key);
    if (!watch) throw toVastdeckError(new Error(`there is no instance ${key}`));
    const name = `vastdeck-${watch.entry.instanceId ?? watch.key}-${new Date().toISOString().replace(/[:.]/g, '-')}.log`;
    const folder = this.#options.logDir ?? '.';
    await mkdir(folder, {recursive: true});
    return watch.logs.saveTo(join(folder, name));
  }

  async createSshKey(): Promise<void> {
    this.#identity = await createVastdeckKey(this.#options.env);
    this.#options.notify(`Created ${this.#identity.path ?? 'an SSH key'}; vastdeck registers it with your account on the next rent.`, 'info');
    this.#publish();
  }

  async destroy(key: string, options: {force?: boolean} = {}): Promise<void> {
    const watch = this.#watches.get(key);
    const instanceId = watch?.entry.instanceId;
    if (!watch || instanceId === undefined) return;
    if (this.#cleanups.has(key) && !this.#cleanups.get(key)?.failed) return;
    this.#setCleanup(key, {step: 'starting', message: options.force ? 'destroying without extraction' : 'bringing outputs home'});
    try {
      const result = await cleanUp(
        {...this.#cleanupDeps(), onStep: (step, message) => this.#setCleanup(key, {step, message})},
        {instanceId, entry: watch.entry},
        {force: options.force},
      );
      await watch.stop();
      this.#watches.delete(key);
      this.#cleanups.delete(key);
      const where = result.runDir ? `; outputs and logs in ${result.runDir}` : '';
      this.#options.notify(result.outcome === 'already-gone' ? `Instance ${instanceId} was already gone${where}.` : `Destroyed instance ${instanceId} and confirmed it is gone${where}.`, 'info');
    } catch (error) {
      const message = toVastdeckError(error).message;
      this.#setCleanup(key, {step: 'failed', message, failed: true});
      this.#options.notify(message, 'error');
    } finally {
      this.#publish();
    }
  }

  async pendingOutputs(key: string): Promise<{files: number; note?: string}> {
    const instanceId = this.#watches.get(key)?.entry.instanceId;
    if (instanceId === undefined) return {files: 0, note: 'This instance has no id yet.'};
    const pending = await pendingOutputs(this.#cleanupDeps(), instanceId);
    const storage = pending.stillBillingStorage ? ' It is stopped and still bills storage.' : '';
    if (!pending.reachable) return {files: 0, note: `Cannot check its files (${pending.problem}).${storage}`};
    return {files: pending.pendingFiles, note: `${pending.safeFiles} of ${pending.totalFiles} output files are already home.${storage}`};
  }

  /** The watch of one instance (for `vastdeck up` / `watch` and tests). */
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
    const now = Date.now();
    this.#error = undefined;
    this.#lastPollAtMs = now;
    if (!this.#reconciled) this.#reconcile(instances);
    for (const entry of this.#options.ledger.forOrigin(this.#options.apiOrigin)) {
      if (ACTIVE_STATES.has(entry.state) && entry.instanceId !== undefined) this.#watch(entry);
    }
    for (const watch of this.#watches.values()) {
      const fresh = this.#options.ledger.find(watch.key);
      if (fresh) watch.entry = fresh;
      const instance = instances.find(candidate => candidate.id === watch.entry.instanceId);
      if (!instance && watch.entry.state === 'active' && watch.entry.instanceId !== undefined) {
        watch.entry = this.#options.ledger.markGone(watch.key, 'no longer in the instance list');
        this.#options.notify(`Instance ${watch.entry.instanceId} is no longer on the account.`, 'warn');
        void watch.logs.stop();
      }
      watch.feedInstance(instance, now);
      watch.tick(now);
    }
    this.#publish();
  }

  #reconcile(instances: Instance[]): void {
    const result = reconcile(this.#options.ledger, this.#options.apiOrigin, instances);
    this.#reconciled = true;
    for (const entry of result.adopted) this.#options.notify(`Found ${entry.label} (instance ${entry.instanceId}) on the account: it bills, so it is listed under Instances.`, 'warn');
    for (const entry of result.vanished) this.#options.notify(`Instance ${entry.instanceId} from an earlier session is gone from the account.`, 'info');
    for (const entry of result.unresolved) this.#options.notify(`A create from an earlier session (offer ${entry.offerId}) never answered and is not on the account.`, 'warn');
  }

  #cleanupDeps(): CleanupDeps {
    return {client: this.#options.client, ledger: this.#options.ledger, apiOrigin: this.#options.apiOrigin, knownHosts: this.#options.knownHosts, identity: this.#identity, outputsDir: this.#options.outputsDir};
  }

  #setCleanup(key: string, cleanup: {step: string; message: string; failed?: boolean}): void {
    this.#cleanups.set(key, cleanup);
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
        onChange: () => this.#publish(),
      }),
    );
  }

  #schedule(): void {
    if (!this.#started) return;
    if (this.#timer) clearTimeout(this.#timer);
    const {busy, idle} = this.#options.pollMs ?? {busy: 5000, idle: 15_000};
    const booting = [...this.#watches.values()].some(watch => !['READY', 'FAILED'].includes(watch.stage.stage) && ACTIVE_STATES.has(watch.entry.state));
    this.#timer = setTimeout(() => void this.pollNow(), booting || this.#creating.length > 0 ? busy : idle);
    this.#timer.unref();
  }

  #publish(): void {
    const now = Date.now();
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
      accruedUsd: watch.accruedUsd(now),
      log: watch.logState(),
      portal: watch.portal(),
      note: watch.entry.events.find(event => event.what === 'found on the account') ? 'found on the account, not created in this session' : undefined,
      cleanup: this.#cleanups.get(watch.key),
    }));
    const identity = this.#identity;
    this.update({
      rows,
      reconciled: this.#reconciled,
      creating: this.#creating,
      error: this.#error,
      lastPollAtMs: this.#lastPollAtMs,
      sshKey: identity ? {ok: true, description: identity.path ?? 'ssh-agent'} : {ok: false, message: NO_SSH_KEY_MESSAGE},
    });
  }
}
