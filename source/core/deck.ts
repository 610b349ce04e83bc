// The dashboard's service layer: the live models (offers, fleet rows, queue, policies, account,
// messages) over one DeckContext, and the fleet's verbs bound to the use cases every front end
// shares (rent, clean up, reconcile). The dashboard gets it as a DeckView; the composition root
// (source/compose.ts) builds it. Nothing here knows whether the API is the real cloud or the simulator.
import {mkdir} from 'node:fs/promises';
import {join} from 'node:path';
import {AccountModel} from './account-model.js';
import type {DeckView, FleetController, FleetSnapshot, LogView, MessageLevel} from './deck-types.js';
import {toVastdeckError} from './errors.js';
import {FleetModel} from './instances/fleet-model.js';
import type {ProbeFunction} from './instances/probe.js';
import {MessageModel} from './messages.js';
import {spendOf} from './money/billing.js';
import {MoneyModel} from './money/money-model.js';
import {OffersModel} from './offers/offers-model.js';
import type {RankedOffer} from './offers/types.js';
import {OnStartRunner} from './onstart/onstart-controller.js';
import {GenerationQueue, type ReadyInstance} from './queue/generation-queue.js';
import {JobStore} from './queue/job-store.js';
import {QueueFacade} from './queue/queue-controller.js';
import {heartbeatPace} from './ssh/heartbeat.js';
import {createVastdeckKey} from './ssh/keys.js';
import {cleanUpInstance, isOwnInstance, outputsNotHome} from './usecases/clean-up.js';
import type {DeckContext} from './usecases/context.js';
import {cloudSpeed} from './usecases/pace.js';
import {reconcileWith} from './usecases/reconcile.js';
import {rent} from './usecases/rent.js';
import {PoliciesModel, sessionSpendOf} from './usecases/spend-guard.js';

export interface DeckOptions {
  /** Poll intervals of the instance list (tests make them short). */
  fleetPollMs?: {busy: number; idle: number};
  /** The OnStart method's marker and instance-list polls (3 s and 5 s; shorter against a fast simulator). */
  onstartPollMs?: {marker: number; list: number};
  /** Opens a URL or folder on the desktop (an OS helper from outside core); false when there is no desktop. */
  open?: (target: string) => boolean;
  probe?: ProbeFunction;
}

export class Deck implements DeckView {
  readonly mode: 'demo' | 'live';
  readonly modeDetail: string;
  readonly clockSpeed: number;
  readonly ctx: DeckContext;
  readonly offers: OffersModel;
  readonly fleetModel: FleetModel;
  readonly fleet: FleetController;
  readonly generations: GenerationQueue;
  readonly policies: PoliciesModel;
  readonly queue: QueueFacade;
  readonly onstart: OnStartRunner;
  readonly account: AccountModel;
  readonly money: MoneyModel;
  readonly messages = new MessageModel();
  #closed = false;

  constructor(ctx: DeckContext, options: DeckOptions = {}) {
    this.ctx = ctx;
    this.mode = ctx.mode;
    this.modeDetail = ctx.detail;
    this.clockSpeed = ctx.speed;
    const open = options.open ?? (() => false);
    this.offers = new OffersModel({
      search: query => ctx.client.searchOffers(query),
      settings: () => ctx.settings(),
      refreshMs: ctx.settings().refreshSeconds * 1000,
    });
    this.account = new AccountModel(ctx.client);
    this.fleetModel = new FleetModel({
      client: ctx.client,
      ledger: ctx.ledger,
      apiOrigin: ctx.apiOrigin,
      knownHosts: ctx.knownHosts,
      pollMs: options.fleetPollMs,
      cloudRate: () => ctx.client.cloudClock.rate(),
      probe: options.probe,
      env: ctx.env,
      now: () => ctx.clock.now(),
      heartbeatMs: heartbeatPace(ctx),
      cloudSpeed: () => cloudSpeed(ctx),
      onFirstList: instances => {
        const view = reconcileWith(ctx, instances);
        for (const message of view.messages) this.notify(message.text, message.level);
        return {others: view.reconciliation.others};
      },
      isOther: instance => /^vastdeck:/.test(instance.label ?? '') && !isOwnInstance(ctx, instance),
      onGone: entry => this.notify(`Instance ${entry.instanceId} is no longer on the account.`, 'warn'),
      onList: (instances, provisionedBytes) => ctx.spend.observe(instances, provisionedBytes),
      spentUsd: entry => (entry.billing ? spendOf(entry.billing, ctx.client.cloudClock.now() / 1000).totalUsd : 0),
    });
    this.fleet = new FleetActions(ctx, this.fleetModel, (text, level) => this.notify(text, level), open, () => this.policies.checkRent());
    this.generations = new GenerationQueue({
      store: new JobStore(join(ctx.stateDir, 'queue.json')),
      instances: () => this.readyInstances(),
      outputsRoot: ctx.outputsRoot(),
      notify: (text, level) => this.notify(text, level),
      onOutputsHome: (key, paths) => this.fleetModel.watchOf(key)?.heartbeat.markHome(paths),
    });
    this.queue = new QueueFacade(this.generations, open);
    this.onstart = new OnStartRunner(ctx, {
      notify: (text, level) => this.notify(text, level),
      onCreated: () => void this.fleetModel.pollNow().catch(error => this.notify(toVastdeckError(error).message, 'error')),
      pollMs: options.onstartPollMs,
      beforeCreate: () => this.policies.checkRent(),
    });
    this.policies = new PoliciesModel({
      fleet: {getSnapshot: () => this.fleetModel.getSnapshot(), destroy: key => this.fleet.destroy(key)},
      queue: this.generations,
      settings: () => ctx.settings().policies,
      spend: () => sessionSpendOf(ctx),
      now: () => ctx.clock.now(),
    });
    this.money = new MoneyModel({spend: ctx.spend, account: this.account, capUsd: () => ctx.settings().policies.spendCapUsd});
    for (const warning of ctx.ledger.warnings) this.notify(warning, 'warn');
  }

  /** READY instances with their portal URL and token, for the generation queue. */
  readyInstances(): ReadyInstance[] {
    return this.fleetModel.getSnapshot().rows.flatMap(row => {
      const secret = row.stage.stage === 'READY' && !row.cleanup ? this.fleetModel.portalSecret(row.key) : undefined;
      if (!secret?.comfyui) return [];
      const billing = row.instanceId === undefined ? {} : {billing: this.ctx.spend.jobBilling(row.instanceId)};
      return [{key: row.key, instanceId: row.instanceId, gpuName: row.gpuName, dphTotal: row.dphTotal, comfyui: secret.comfyui, token: secret.token, ...billing}];
    });
  }

  start(): this {
    // The dashboard is a session: what it rents, and what the install's instances bill while it runs, count against the cap.
    if (!this.ctx.spend.session) this.ctx.spend.beginSession('dashboard', this.ctx.settings().policies.spendCapUsd);
    this.offers.start();
    this.account.start();
    this.money.start();
    void this.fleetModel.start().catch(error => this.notify(toVastdeckError(error).message, 'error'));
    this.generations.start();
    this.policies.start();
    return this;
  }

  notify(text: string, level: MessageLevel = 'info'): void {
    this.messages.post(text, level, this.ctx.clock.now());
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.offers.stop();
    this.account.stop();
    this.money.stop();
    this.policies.stop();
    await this.onstart.stop();
    await this.generations.stop();
    await this.fleetModel.stop();
    this.ctx.spend.endSession();
  }
}

/** The Instances pane's verbs: each one a use case, its progress shown on the fleet's rows. */
class FleetActions implements FleetController {
  constructor(
    readonly ctx: DeckContext,
    readonly model: FleetModel,
    readonly notify: (text: string, level?: MessageLevel) => void,
    readonly open: (target: string) => boolean,
    readonly beforeCreate: () => void,
  ) {}

  subscribe = (listener: () => void): (() => void) => this.model.subscribe(listener);
  getSnapshot = (): FleetSnapshot => this.model.getSnapshot();

  async create(candidates: readonly RankedOffer[]): Promise<void> {
    const live = candidates.filter(row => row.change !== 'vanished');
    const first = live[0]?.offer;
    const done = this.model.beginCreating(first ? `renting ${first.gpuName} ×${first.numGpus} (offer ${first.id})…` : 'renting…');
    try {
      const rented = await rent(this.ctx, {
        offers: {candidates: live.map(row => row.offer)},
        beforeCreate: this.beforeCreate,
        onEvent: event => {
          if (event.kind === 'offer-taken' || event.kind === 'key-attach-failed') this.notify(event.message, 'warn');
          else if (event.kind === 'created') this.notify(event.message, 'info');
        },
      });
      this.model.track(rented.ledgerEntry);
      this.notify(`Rented ${rented.offer.gpuName} ×${rented.offer.numGpus} as instance ${rented.instanceId} at $${rented.offer.dphTotal.toFixed(3)}/h: watching it boot.`, 'info');
      // The rest of the rent use case (watch to READY/FAILED) is the fleet's watch; its end is announced.
      void this.model.settled(rented.ledgerEntry.localId).then(state => {
        if (state.stage === 'READY') this.notify(`Instance ${rented.instanceId} is READY: jobs in the queue start on it.`, 'info');
        else if (state.failure) this.notify(`Instance ${rented.instanceId} FAILED: ${state.failure.reason}. It bills until destroyed (d).`, 'error');
      });
    } catch (error) {
      this.notify(toVastdeckError(error).message, 'error');
    } finally {
      done();
    }
  }

  logs(key: string): LogView | undefined {
    return this.model.logs(key);
  }

  portalSecret(key: string): {token: string; comfyui?: string; instancePortal?: string} | undefined {
    return this.model.portalSecret(key);
  }

  async openPortal(key: string): Promise<string> {
    const url = this.model.portalSecret(key)?.comfyui ?? this.model.watchOf(key)?.portal().comfyui;
    if (!url) return 'This instance has no ComfyUI address yet: it appears once the instance runs.';
    if (!this.open(url)) return `No desktop to open a browser on: open ${url} yourself (user vastai, password: the token, y copies it).`;
    return `Opening ${url} in your browser: log in as vastai with the token (y copies it).`;
  }

  async saveLog(key: string): Promise<string> {
    const watch = this.model.watchOf(key);
    if (!watch) throw toVastdeckError(new Error(`there is no instance ${key}`));
    const name = `vastdeck-${watch.entry.instanceId ?? watch.key}-${new Date(this.ctx.clock.now()).toISOString().replace(/[:.]/g, '-')}.log`;
    const folder = join(this.ctx.outputsRoot(), 'logs');
    await mkdir(folder, {recursive: true});
    return watch.logs.saveTo(join(folder, name));
  }

  async createSshKey(): Promise<void> {
    const identity = await createVastdeckKey(this.ctx.env);
    this.model.setIdentity(identity);
    this.notify(`Created ${identity.path ?? 'an SSH key'}; vastdeck registers it with your account on the next rent.`, 'info');
  }

  async destroy(key: string, options: {force?: boolean} = {}): Promise<void> {
    const watch = this.model.watchOf(key);
    const instanceId = watch?.entry.instanceId;
    if (!watch || instanceId === undefined) return;
    const running = this.model.cleanupOf(key);
    if (running && !running.failed) return;
    this.model.setCleanup(key, {step: 'starting', message: options.force ? 'destroying without extraction' : 'bringing outputs home'});
    try {
      const result = await cleanUpInstance(this.ctx, {instanceId, entry: watch.entry}, {force: options.force, identity: this.model.identity, onStep: (step, message) => this.model.setCleanup(key, {step, message})});
      await this.model.forget(key);
      const where = result.runDir ? `; outputs and logs in ${result.runDir}` : '';
      this.notify(result.outcome === 'already-gone' ? `Instance ${instanceId} was already gone${where}.` : `Destroyed instance ${instanceId} and confirmed it is gone${where}.`, 'info');
    } catch (error) {
      const message = toVastdeckError(error).message;
      this.model.setCleanup(key, {step: 'failed', message, failed: true});
      this.notify(message, 'error');
    }
  }

  async pendingOutputs(key: string): Promise<{files: number; note?: string}> {
    const instanceId = this.model.watchOf(key)?.entry.instanceId;
    if (instanceId === undefined) return {files: 0, note: 'This instance has no id yet.'};
    const pending = await outputsNotHome(this.ctx, instanceId, this.model.identity);
    const storage = pending.stillBillingStorage ? ' It is stopped and still bills storage.' : '';
    if (!pending.reachable) return {files: 0, note: `Cannot check its files (${pending.problem}).${storage}`};
    return {files: pending.pendingFiles, note: `${pending.safeFiles} of ${pending.totalFiles} output files are already home.${storage}`};
  }
}
