// A DeckContext (what every use case works with) against a simulated cloud, built by the same
// buildContext the composition root uses, with pacing off so tests run at loopback speed; and a
// dashboard Deck on top of it.
import {mkdtempSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import type {SettingsStore} from '../../source/core/config.js';
import {Deck, type DeckOptions} from '../../source/core/deck.js';
import {buildContext, type DeckContext} from '../../source/core/usecases/context.js';
import type {SimCloud} from '../../source/sim/cloud.js';

export interface TestContextOptions {
  /** A state folder (ledger, host keys, queue, install id); default a fresh temporary one. */
  stateDir?: string;
  settings?: SettingsStore;
  mode?: 'demo' | 'live';
}

export function simContext(sim: Pick<SimCloud, 'baseUrl' | 'apiKey'> & {speed?: number}, options: TestContextOptions = {}): DeckContext {
  return buildContext({
    mode: options.mode ?? 'live',
    baseUrl: sim.baseUrl,
    apiKey: sim.apiKey,
    detail: 'test',
    speed: sim.speed ?? 1,
    stateDir: options.stateDir ?? mkdtempSync(join(tmpdir(), 'vastdeck-test-state-')),
    ...(options.settings ? {settings: options.settings} : {}),
    clientOptions: {pacingScale: 0},
  });
}

/** A started Deck over simContext. */
export function openTestDeck(sim: Pick<SimCloud, 'baseUrl' | 'apiKey'> & {speed?: number}, options: TestContextOptions & DeckOptions = {}): Deck {
  const {stateDir, settings, mode, ...deckOptions} = options;
  return new Deck(simContext(sim, {stateDir, settings, mode}), deckOptions).start();
}
