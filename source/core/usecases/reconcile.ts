// Reconcile: the ledger against the account's instance list, in every front end (the dashboard's
// first poll, `up`, `run`, `watch`, `down`). A create whose answer was lost is found by its label
// and merged into its one ledger entry; this install's instances the ledger forgot are adopted;
// gone ones are settled; another install's instances are listed, never adopted or touched.
import {reconcile, type Reconciliation} from '../ledger/reconcile.js';
import type {Instance} from '../instances/types.js';
import {listInstances} from '../vast/instances-api.js';
import type {DeckContext} from './context.js';

export interface AccountView {
  instances: Instance[];
  reconciliation: Reconciliation;
  /** One sentence each, for the message line or stderr. */
  messages: Array<{text: string; level: 'info' | 'warn'}>;
}

/** One instance-list call, then the ledger brought in line with it. */
export async function reconcileAccount(ctx: DeckContext): Promise<AccountView> {
  return reconcileWith(ctx, await listInstances(ctx.client));
}

/** The ledger brought in line with a list already fetched (the dashboard's fleet poll), and every instance's billing looked at. */
export function reconcileWith(ctx: DeckContext, instances: Instance[]): AccountView {
  const reconciliation = reconcile(ctx.ledger, ctx.apiOrigin, instances, {nowMs: ctx.clock.now(), installId: ctx.installId});
  ctx.spend.observe(instances);
  return {instances, reconciliation, messages: reconcileMessages(reconciliation)};
}

export function reconcileMessages(result: Reconciliation): AccountView['messages'] {
  const messages: AccountView['messages'] = [];
  for (const entry of result.tracked.filter(entry => entry.events.at(-1)?.what.includes('after the create answer was lost'))) {
    messages.push({text: `A create whose answer was lost went through: it is instance ${entry.instanceId} (${entry.label}), and it bills.`, level: 'warn'});
  }
  for (const entry of result.adopted) messages.push({text: `Found ${entry.label} (instance ${entry.instanceId}) on the account: it bills, so vastdeck tracks it again.`, level: 'warn'});
  for (const entry of result.vanished) messages.push({text: `Instance ${entry.instanceId} from an earlier session is gone from the account.`, level: 'info'});
  for (const entry of result.unresolved) messages.push({text: `A create from an earlier session (offer ${entry.offerId}) never answered and is not on the account.`, level: 'warn'});
  if (result.others.length > 0) {
    const ids = result.others.map(instance => instance.id).join(', ');
    messages.push({text: `${result.others.length === 1 ? 'Instance' : 'Instances'} ${ids} belong to another vastdeck install on this account: left alone (\`vastdeck down ID\` names one explicitly).`, level: 'info'});
  }
  return messages;
}
