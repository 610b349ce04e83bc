// Plain-value fixtures for the UI tests: an Offer factory and a deck built from the real core
// models (OffersModel, MessageModel, AccountModel) over a search function that returns whatever
// offers the test puts in `market`, plus a TestFleet (fleet-fixtures.ts), a TestQueue and
// TestPolicies (queue-fixtures.ts) — no network, no simulator.
import type {DeckView, MessageLevel, OnStartController, OnStartJobSpec} from '../../source/core/deck-types.js';
import type {RankedOffer} from '../../source/core/offers/types.js';
import {AccountModel} from '../../source/core/account-model.js';
import {MessageModel} from '../../source/core/messages.js';
import {OffersModel} from '../../source/core/offers/offers-model.js';
import {DEFAULT_SETTINGS} from '../../source/core/settings.js';
import type {Offer} from '../../source/core/vast/types.js';
import {TestFleet} from './fleet-fixtures.js';
import {TestPolicies, TestQueue} from './queue-fixtures.js';

export function makeOffer(overrides: Partial<Offer> & {id: number}): Offer {
  return {
    machineId: 10_000 + overrides.id,
    hostId: 500,
    gpuName: 'RTX 4090',
    numGpus: 1,
    gpuRamMb: 24_564,
    computeCap: 890,
    cudaMaxGood: 12.8,
    dphBase: 0.35,
    dphTotal: 0.4,
    storageCostPerGbMonth: 0.1,
    inetDownMbps: 800,
    inetUpMbps: 400,
    inetDownCostPerGb: 0.002,
    inetUpCostPerGb: 0.002,
    reliability: 0.99,
    geolocation: 'Oregon, US',
    countryCode: 'US',
    diskSpaceGb: 200,
    verified: true,
    cpuArch: 'amd64',
    directPortCount: 20,
    dlperf: 80,
    totalFlops: 82.6,
    score: 100,
    ...overrides,
  };
}

/** `count` offers whose job cost rises with the id (id 1 is the cheapest). */
export function makeOffers(count: number, start = 1): Offer[] {
  return Array.from({length: count}, (_unused, index) => makeOffer({id: start + index, dphTotal: 0.3 + (start + index) * 0.01}));
}

/** Records each OnStart start; answers with `answer` (an error sentence) or undefined. */
export class TestOnStart implements OnStartController {
  calls: Array<{spec: OnStartJobSpec; candidates: RankedOffer[]}> = [];
  answer: string | undefined;

  async start(spec: OnStartJobSpec, candidates: readonly RankedOffer[]): Promise<string | undefined> {
    this.calls.push({spec, candidates: [...candidates]});
    return this.answer;
  }
}

export interface TestDeck extends DeckView {
  onstart: TestOnStart;
  offers: OffersModel;
  fleet: TestFleet;
  queue: TestQueue;
  policies: TestPolicies;
  account: AccountModel;
  messages: MessageModel;
  /** What the search answers; change it and call offers.refreshNow() to move the market. */
  market: Offer[];
  /** When set, the search fails with it (a refresh error). */
  failure?: Error;
  /** Every query the search was called with. */
  queries: Array<Record<string, unknown>>;
  close(): void;
}

/** A model whose snapshot never changes (the same object every read, as useSyncExternalStore needs). */
function staticModel<T>(snapshot: T): {subscribe: () => () => void; getSnapshot: () => T} {
  return {subscribe: () => () => {}, getSnapshot: () => snapshot};
}

/** A deck over `market`; the first search and the balance load start right away. */
export function makeDeck(market: Offer[], options: {balanceUsd?: number; mode?: 'demo' | 'live'; hang?: boolean; failure?: Error; fleet?: TestFleet; queue?: TestQueue; policies?: TestPolicies; onstart?: TestOnStart} = {}): TestDeck {
  const queries: Array<Record<string, unknown>> = [];
  const messages = new MessageModel();
  const deck: TestDeck = {
    mode: options.mode ?? 'demo',
    modeDetail: 'simulated Vast.ai cloud on 127.0.0.1:40123',
    market,
    queries,
    failure: options.failure,
    offers: new OffersModel({
      search: async query => {
        queries.push(query);
        if (options.hang) return new Promise<Offer[]>(() => {});
        if (deck.failure) throw deck.failure;
        return deck.market;
      },
      settings: () => DEFAULT_SETTINGS,
      refreshMs: 3_600_000,
    }),
    fleet: options.fleet ?? new TestFleet(),
    queue: options.queue ?? new TestQueue([], 0),
    policies: options.policies ?? new TestPolicies(),
    onstart: options.onstart ?? new TestOnStart(),
    account: new AccountModel({currentUser: async () => ({email: 'demo@example.com', balanceUsd: options.balanceUsd ?? 25})}),
    money: staticModel({burnUsdPerHour: 0, sessionUsd: 0, sessionBurnUsdPerHour: 0, capUsd: 0, allTimeUsd: 0, known: true}),
    messages,
    notify: (text: string, level?: MessageLevel) => messages.post(text, level),
    close: () => deck.offers.stop(),
  };
  void deck.offers.refreshNow();
  void deck.account.refresh();
  return deck;
}
