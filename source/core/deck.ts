// The facade that wires the service layer for the dashboard and the subcommands: one API
// client, the settings, and the live models (offers, account, messages). The dashboard gets
// it as a DeckView; nothing here knows whether the API is the real cloud or the simulator.
import {join} from 'node:path';
import {AccountModel} from './account-model.js';
import {openSettings, type SettingsStore} from './config.js';
import type {DeckView, MessageLevel} from './deck-types.js';
import {toVastdeckError} from './errors.js';
import {FleetModel} from './instances/fleet-model.js';
import {Ledger} from './ledger/ledger.js';
import {PoliciesModel} from './cleanup/policies.js';
import {MessageModel} from './messages.js';
import {GenerationQueue, type ReadyInstance} from './queue/generation-queue.js';
import {JobStore} from './queue/job-store.js';
import {QueueFacade} from './queue/queue-controller.js';
import {outputsRoot, queuePath} from './queue/paths.js';
import {OffersModel} from './offers/offers-model.js';
import {OnStartRunner} from './onstart/onstart-controller.js';
import {KnownHosts} from './ssh/known-hosts.js';
import {VastClient} from './vast/client.js';
import {VERSION} from './version.js';

export interface DeckOptions {
  mode: 'demo' | 'live';
  baseUrl: string;
  apiKey: string;
  /** One line for the status bar; never the key. */
  detail: string;
  settings?: SettingsStore;
  /** A folder for the ledger and pinned host keys instead of the user's (demo mode). */
  stateDir?: string;
  /** Poll intervals of the instance list (tests make them short). */
  fleetPollMs?: {busy: number; idle: number};
  /** The OnStart method's marker and instance-list polls (3 s and 5 s; shorter against a fast simulator). */
  onstartPollMs?: {marker: number; list: number};
}

export class Deck implements DeckView {
  readonly mode: 'demo' | 'live';
  readonly modeDetail: string;
  readonly client: VastClient;
  readonly settings: SettingsStore;
  readonly offers: OffersModel;
  readonly fleet: FleetModel;
  readonly generations: GenerationQueue;
  readonly policies: PoliciesModel;
  readonly queue: QueueFacade;
  readonly ledger: Ledger;
  readonly onstart: OnStartRunner;
  readonly account: AccountModel;
  readonly messages = new MessageModel();
  #closed = false;

  constructor(options: DeckOptions) {
    this.mode = options.mode;
    this.modeDetail = options.detail;
    this.settings = options.settings ?? openSettings();
    this.client = new VastClient({baseUrl: options.baseUrl, apiKey: options.apiKey, userAgent: `vastdeck/${VERSION}`});
    const settings = this.settings;
    this.offers = new OffersModel({
      search: query => this.client.searchOffers(query),
      settings: () => settings.all(),
      refreshMs: settings.all().refreshSeconds * 1000,
    });
    this.account = new AccountModel(this.client);
    this.ledger = Ledger.open(options.stateDir ? {path: join(options.stateDir, 'ledger.json')} : {});
    const knownHosts = options.stateDir ? KnownHosts.open(join(options.stateDir, 'known_hosts.json')) : KnownHosts.open();
    this.fleet = new FleetModel({
      client: this.client,
      ledger: this.ledger,
      apiOrigin: new URL(options.baseUrl).origin,
      settings: () => settings.all(),
      knownHosts,
      notify: (text, level) => this.notify(text, level),
      pollMs: options.fleetPollMs,
      logDir: join(outputsRoot(settings.all()), 'logs'),
      outputsDir: outputsRoot(settings.all()),
    });
    this.generations = new GenerationQueue({
      store: new JobStore(options.stateDir ? join(options.stateDir, 'queue.json') : queuePath()),
      instances: () => this.readyInstances(),
      outputsRoot: outputsRoot(settings.all()),
      notify: (text, level) => this.notify(text, level),
    });
    this.queue = new QueueFacade(this.generations);
    this.onstart = new OnStartRunner({
      client: this.client,
      settings,
      ledger: this.ledger,
      knownHosts,
      apiOrigin: new URL(options.baseUrl).origin,
      notify: (text, level) => this.notify(text, level),
      onCreated: () => void this.fleet.pollNow().catch(error => this.notify(toVastdeckError(error).message, 'error')),
      pollMs: options.onstartPollMs,
    });
    this.policies = new PoliciesModel({fleet: this.fleet, queue: this.generations, settings: () => settings.all().policies});
    for (const warning of this.ledger.warnings) this.notify(warning, 'warn');
  }

  /** READY instances with their portal URL and token, for the generation queue. */
  readyInstances(): ReadyInstance[] {
    return this.fleet.getSnapshot().rows.flatMap(row => {
      const secret = row.stage.stage === 'READY' ? this.fleet.portalSecret(row.key) : undefined;
      if (!secret?.comfyui) return [];
      return [{key: row.key, instanceId: row.instanceId, gpuName: row.gpuName, dphTotal: row.dphTotal, comfyui: secret.comfyui, token: secret.token}];
    });
  }

  start(): this {
    this.offers.start();
    this.account.start();
    void this.fleet.start().catch(error => this.notify(toVastdeckError(error).message, 'error'));
    this.generations.start();
    this.policies.start();
    return this;
  }

  notify(text: string, level: MessageLevel = 'info'): void {
    this.messages.post(text, level);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.offers.stop();
    this.account.stop();
    this.policies.stop();
    await this.onstart.stop();
    await this.generations.stop();
    await this.fleet.stop();
  }
}

export function openDeck(options: DeckOptions): Deck {
  return new Deck(options).start();
}
