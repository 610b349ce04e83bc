// Reconciles the ledger with the account's instance list (one listInstances call), on every start
// and after a lost create answer: nothing that bills may stay unknown, nothing gone may stay
// "active". Pure over its inputs apart from the ledger mutations it makes.
import {parseLabel} from '../instances/create-body.js';
import type {Instance, LedgerInstance} from '../instances/types.js';
import type {Ledger} from './ledger.js';

export interface Reconciliation {
  /** Ledger entries whose instance is on the account (including creates found again by label). */
  tracked: LedgerInstance[];
  /** vastdeck-labelled instances the ledger did not know, now recorded as 'active'. */
  adopted: LedgerInstance[];
  /** 'active'/'destroying' entries whose instance is no longer on the account, now 'gone'. */
  vanished: LedgerInstance[];
  /** 'creating' entries with no instance yet: a create whose answer was lost, not (yet) on the account. */
  unresolved: LedgerInstance[];
  /** vastdeck-labelled instances of another install (or of a label without an install id): listed, never touched. */
  others: Instance[];
}

/** A lost create that has not shown up on the account after this long never happened. */
const UNRESOLVED_GIVE_UP_MS = 24 * 60 * 60 * 1000;

export function reconcile(ledger: Ledger, apiOrigin: string, instances: readonly Instance[], options: {nowMs?: number; installId?: string} = {}): Reconciliation {
  const nowMs = options.nowMs ?? Date.now();
  const installId = options.installId ?? ledger.installId;
  const result: Reconciliation = {tracked: [], adopted: [], vanished: [], unresolved: [], others: []};
  const entries = ledger.forOrigin(apiOrigin);
  const matched = new Set<string>();
  for (const instance of instances) {
    const entry =
      entries.find(candidate => candidate.instanceId === instance.id) ??
      entries.find(candidate => candidate.instanceId === undefined && instance.label !== null && candidate.label === instance.label);
    if (entry) {
      matched.add(entry.localId);
      result.tracked.push(resume(ledger, entry, instance));
    } else {
      const label = parseLabel(instance.label);
      if (!label.vastdeck) continue;
      // Ours but unknown to the ledger (the ledger was lost or reset): adopt it, it bills us.
      if (label.installId !== undefined && label.installId === installId) result.adopted.push(ledger.adopt(apiOrigin, instance, 'found on the account'));
      else result.others.push(instance);
    }
  }
  for (const entry of entries) {
    if (matched.has(entry.localId)) continue;
    if (entry.state === 'active' || entry.state === 'destroying') {
      result.vanished.push(ledger.markGone(entry.localId, "not in the account's instance list any more"));
    } else if (entry.state === 'creating') {
      if (nowMs - entry.createdAtMs > UNRESOLVED_GIVE_UP_MS) ledger.markCreateFailed(entry.localId, 'never appeared on the account');
      else result.unresolved.push(entry);
    }
  }
  return result;
}

/** An entry whose instance is on the account: make sure the ledger says it lives (and bills). */
function resume(ledger: Ledger, entry: LedgerInstance, instance: Instance): LedgerInstance {
  switch (entry.state) {
    case 'active':
    case 'destroying':
      return entry;
    case 'creating':
      return ledger.markCreated(entry.localId, instance.id, `found on the account as instance ${instance.id} after the create answer was lost`);
    default:
      return ledger.markCreated(entry.localId, instance.id, `still on the account as instance ${instance.id} although marked ${entry.state}`);
  }
}
