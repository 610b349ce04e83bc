// Clean up: outputs and logs home and verified → destroy with its volumes → confirmed gone
// (core/cleanup/destroy.ts does the steps, resumably). This file decides *what* a front end may
// clean up: `vastdeck down --all`, the dashboard's D and the auto-destroy policies take only this
// install's instances; another install's need to be named (or --any-install).
import {cleanUp, pendingOutputs, type CleanupOptions, type CleanupResult, type PendingOutputs} from '../cleanup/destroy.js';
import type {CleanupStep} from '../cleanup/cleanup-state.js';
import {parseLabel} from '../instances/create-body.js';
import type {Instance, LedgerInstance} from '../instances/types.js';
import {heartbeatPace} from '../ssh/heartbeat.js';
import type {SshIdentity} from '../ssh/keys.js';
import type {DeckContext} from './context.js';

/** Ledger states whose instance may still exist (and bill). */
const MAYBE_BILLING: ReadonlySet<string> = new Set(['creating', 'active', 'destroying']);

export interface CleanupTarget {
  instanceId: number;
  entry?: LedgerInstance;
  /** False for an id neither the account nor the ledger knows. */
  known: boolean;
}

export interface TargetChoice {
  targets: CleanupTarget[];
  /** vastdeck instances of other installs left out of `all` (listed so the user knows they bill). */
  othersLeft: Instance[];
}

/** Whether an instance on the account is this install's (its label, or the ledger knows it). */
export function isOwnInstance(ctx: DeckContext, instance: Instance): boolean {
  if (ctx.ledger.findByInstanceId(ctx.apiOrigin, instance.id)) return true;
  const label = parseLabel(instance.label);
  return label.vastdeck && label.installId === ctx.installId;
}

/**
 * The given ids as they are, or for 'all': this install's instances on the account plus ledger
 * entries that may still bill — and, with anyInstall, every vastdeck-labelled instance.
 */
export function chooseCleanupTargets(ctx: DeckContext, instances: readonly Instance[], wanted: readonly number[] | 'all', options: {anyInstall?: boolean} = {}): TargetChoice {
  const entries = ctx.ledger.forOrigin(ctx.apiOrigin);
  const entryOf = (instanceId: number): LedgerInstance | undefined => entries.find(entry => entry.instanceId === instanceId);
  if (wanted !== 'all') {
    const targets = [...new Set(wanted)].map(instanceId => {
      const entry = entryOf(instanceId);
      return {instanceId, ...(entry ? {entry} : {}), known: entry !== undefined || instances.some(instance => instance.id === instanceId)};
    });
    return {targets, othersLeft: []};
  }
  const labelled = instances.filter(instance => parseLabel(instance.label).vastdeck);
  const own = labelled.filter(instance => isOwnInstance(ctx, instance));
  const othersLeft = labelled.filter(instance => !own.includes(instance));
  const ids = new Set([
    ...(options.anyInstall ? labelled : own).map(instance => instance.id),
    ...entries.filter(entry => MAYBE_BILLING.has(entry.state) && entry.instanceId !== undefined).map(entry => entry.instanceId!),
  ]);
  const targets = [...ids].map(instanceId => {
    const entry = entryOf(instanceId);
    return {instanceId, ...(entry ? {entry} : {}), known: true};
  });
  return {targets, othersLeft: options.anyInstall ? [] : othersLeft};
}

export interface CleanupRun extends CleanupOptions {
  onStep?: (step: CleanupStep, message: string) => void;
  identity?: SshIdentity;
}

/** One instance: outputs and logs home, verified, destroyed with its volumes, confirmed gone. */
export function cleanUpInstance(ctx: DeckContext, target: {instanceId: number; entry?: LedgerInstance}, run: CleanupRun = {}): Promise<CleanupResult> {
  const {onStep, identity, ...options} = run;
  return cleanUp(
    {client: ctx.client, ledger: ctx.ledger, apiOrigin: ctx.apiOrigin, knownHosts: ctx.knownHosts, outputsDir: ctx.outputsRoot(), identity, onStep, onList: instances => ctx.spend.observe(instances), heartbeatMs: heartbeatPace(ctx)},
    target,
    options,
  );
}

/** For the destroy dialog: remote output files not yet safely home. */
export function outputsNotHome(ctx: DeckContext, instanceId: number, identity?: SshIdentity): Promise<PendingOutputs> {
  return pendingOutputs({client: ctx.client, ledger: ctx.ledger, apiOrigin: ctx.apiOrigin, knownHosts: ctx.knownHosts, outputsDir: ctx.outputsRoot(), identity}, instanceId);
}
