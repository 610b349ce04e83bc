// The confirm dialogs that spend money or touch ~/.ssh: renting the selected offer (with what it
// will cost) and creating vastdeck's own SSH key. Pure: they describe the dialog; the buttons call
// the fleet actions they are given.
import type {FleetSnapshot} from '../../core/deck-types.js';
import {formatDuration, formatMbps, formatPercent} from '../../core/format.js';
import {BILLING_SUMMARY} from '../../core/money/billing.js';
import type {RankedOffer} from '../../core/offers/types.js';
import type {DialogLine, DialogSpec} from '../shared/Dialog.js';
import type {FleetActions} from '../shared/useFleetActions.js';
import {usd} from '../shared/money.js';
import {placeText} from './offer-columns.js';

const KEY_PATH = '~/.ssh/vastdeck_ed25519';

/** The offer first, then the rest of the ranking that is still on the market, in rank order. */
export function rentCandidates(selected: RankedOffer, rows: readonly RankedOffer[]): RankedOffer[] {
  return [selected, ...rows.filter(row => row !== selected && row.change !== 'vanished')];
}

export function rentDialog(candidates: readonly RankedOffer[], sshKey: FleetSnapshot['sshKey'], live: boolean, actions: FleetActions, clockSpeed = 1): DialogSpec {
  const selected = candidates[0]!;
  if (!sshKey.ok) return sshKeyDialog(sshKey.message, actions, 'Rent: no SSH key yet', 'vastdeck watches every instance boot over SSH, so it needs a key before it rents. Create one, then press c again.');
  const {offer, cost} = selected;
  const others = candidates.length - 1;
  const lines: DialogLine[] = [
    {text: `${offer.gpuName} ×${offer.numGpus} · ${usd(offer.dphTotal)}/h · ${usd(offer.inetDownCostPerGb)}/GB down · ${formatMbps(offer.inetDownMbps)} · reliability ${formatPercent(offer.reliability)}`},
    {text: `${offer.geolocation ? placeText(offer.geolocation) : 'Location unknown'} · offer ${offer.id} on machine ${offer.machineId}${offer.verified ? '' : ' (unverified host)'}`, tone: 'muted'},
    {text: ''},
    {text: `Job ${usd(cost.jobCostUsd)} · ${usd(cost.perGenerationUsd)}/generation · done in about ${formatDuration(cost.lastResultSec / clockSpeed)}`},
    {text: `= ${usd(cost.pullStorageUsd)} disk during pull + ${usd(cost.gpuUsd)} GPU (${formatDuration(cost.gpuSec / clockSpeed)}) + ${usd(cost.downloadUsd)} download`},
    {text: `Ready in about ${formatDuration(cost.etaReadySec / clockSpeed)} · 10-minute rule ${usd(cost.windowCostUsd)}`},
    {text: ''},
    {text: others > 0 ? 'If it is taken, vastdeck falls through to the next ranked offer.' : 'If it is taken, no other offer in the list is left to fall through to.', tone: 'muted'},
    ...BILLING_SUMMARY.map(text => ({text, tone: 'warn' as const})),
  ];
  return {
    title: live ? 'Rent this offer? LIVE: this spends real money' : 'Rent this offer? (demo: the simulated cloud)',
    lines,
    buttons: [
      {label: 'Cancel', keys: ['n']},
      {label: 'Rent', keys: ['y'], onChoose: () => actions.rent(candidates)},
    ],
  };
}

export function sshKeyDialog(message: string, actions: FleetActions, title = 'Create an SSH key?', why = 'vastdeck streams each instance’s logs over SSH.'): DialogSpec {
  return {
    title,
    lines: [
      {text: message, tone: 'warn'},
      {text: ''},
      {text: why},
      {text: `Create key writes ${KEY_PATH} (ed25519, no passphrase, readable only by you); vastdeck adds its public key to your Vast.ai account on the next rent.`, tone: 'muted'},
    ],
    buttons: [
      {label: 'Cancel', keys: ['n']},
      {label: 'Create key', keys: ['k', 'y'], onChoose: () => actions.createSshKey()},
    ],
  };
}
