// What every use case works with: the API client, the settings, the ledger, the pinned host keys,
// this install's id, where state and outputs live, and the clock. Built once per process by the
// composition root (source/compose.ts) for the dashboard and for every subcommand alike; nothing
// here knows whether the API is the real cloud or the simulator.
import {join} from 'node:path';
import {systemClock, type Clock} from '../clock.js';
import {openSettings, type SettingsStore} from '../config.js';
import {loadInstallId} from '../install-id.js';
import {Ledger} from '../ledger/ledger.js';
import {Sessions} from '../money/sessions.js';
import {SpendBook} from '../money/spend-book.js';
import {outputsRoot} from '../queue/paths.js';
import type {VastdeckSettings} from '../settings.js';
import {KnownHosts} from '../ssh/known-hosts.js';
import {stateDir} from '../state-paths.js';
import {VastClient, type VastClientOptions} from '../vast/client.js';
import {VERSION} from '../version.js';

export interface DeckContext {
  mode: 'demo' | 'live';
  /** One line saying where we are connected; never the key. */
  detail: string;
  /** Time compression of the simulated cloud (1 live): waits and polls shrink by it. */
  speed: number;
  client: VastClient;
  settingsStore: SettingsStore;
  /** The settings as they are now (re-read each call: `vastdeck config set` in another terminal applies). */
  settings(): VastdeckSettings;
  ledger: Ledger;
  /** Billing of every instance the front end lists, the session and its spend (core/money). */
  spend: SpendBook;
  knownHosts: KnownHosts;
  /** scheme://host:port of the API: ledger entries of other APIs are not ours. */
  apiOrigin: string;
  /** Six hex digits carried in every label this install creates (install-id.ts). */
  installId: string;
  /** The folder of the ledger, pinned host keys, queue and install id. */
  stateDir: string;
  /** The absolute outputs folder (settings.outputsDir resolved). */
  outputsRoot(): string;
  clock: Clock;
  env: NodeJS.ProcessEnv;
}

export interface ContextOptions {
  mode: 'demo' | 'live';
  baseUrl: string;
  apiKey: string;
  detail: string;
  speed?: number;
  /** A private state folder (demo runs, tests) instead of $XDG_STATE_HOME/vastdeck. */
  stateDir?: string;
  settings?: SettingsStore;
  /** Client tuning (tests turn pacing off against the simulator). */
  clientOptions?: Pick<VastClientOptions, 'pacingScale' | 'timeoutMs' | 'maxAttempts' | 'backoff'>;
  clock?: Clock;
  env?: NodeJS.ProcessEnv;
}

export function buildContext(options: ContextOptions): DeckContext {
  const env = options.env ?? process.env;
  const dir = options.stateDir ?? stateDir(env);
  const installId = loadInstallId(dir);
  const settingsStore = options.settings ?? openSettings();
  const client = new VastClient({baseUrl: options.baseUrl, apiKey: options.apiKey, userAgent: `vastdeck/${VERSION}`, ...options.clientOptions});
  const cloudNowSec = (): number => client.cloudClock.now() / 1000;
  const ledger = Ledger.open({path: join(dir, 'ledger.json'), installId, cloudNowSec});
  const apiOrigin = new URL(options.baseUrl).origin;
  return {
    mode: options.mode,
    detail: options.detail,
    speed: options.speed && options.speed > 0 ? options.speed : 1,
    client,
    settingsStore,
    settings: () => settingsStore.all(),
    ledger,
    spend: new SpendBook({ledger, apiOrigin, sessions: new Sessions(dir), cloudNowSec, imageGb: () => settingsStore.all().cost.imageGb}),
    knownHosts: KnownHosts.open(join(dir, 'known_hosts.json')),
    apiOrigin,
    installId,
    stateDir: dir,
    outputsRoot: () => outputsRoot(settingsStore.all(), env),
    clock: options.clock ?? systemClock,
    env,
  };
}
