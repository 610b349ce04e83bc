// The d dialog: destroy one instance. It says what is not home yet (fleet.pendingOutputs, asked
// when it opens: "checking…" until it answers) and offers [Cancel] (highlighted first), [Destroy]
// (outputs and logs come home first) and [Force destroy (skip download)], which asks a second
// time, in red, before it destroys anything.
import {useEffect, useState} from 'react';
import type {FleetController, InstanceRow} from '../../core/deck-types.js';
import {toVastdeckError} from '../../core/errors.js';
import {Dialog, type DialogLine, type DialogSpec} from '../shared/Dialog.js';
import type {FleetActions} from '../shared/useFleetActions.js';
import {usd} from '../shared/money.js';
import {gpuText, instanceName, isStoppedBilling, STOPPED_BILLING} from './instance-format.js';

/** undefined while fleet.pendingOutputs has not answered. */
type PendingOutputs = {files: number; note?: string} | {error: string} | undefined;

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

/** What is not home yet: the count (unless only the fleet's note can say), then the note. */
function pendingLines(pending: PendingOutputs): DialogLine[] {
  if (!pending) return [{text: 'checking which outputs are not downloaded yet…', tone: 'muted'}];
  if ('error' in pending) return [{text: `Could not check the outputs (${pending.error}); Destroy still tries to bring everything home first.`, tone: 'warn'}];
  const note: DialogLine[] = pending.note ? [{text: pending.note, tone: 'muted'}] : [];
  if (pending.files > 0) return [{text: `${plural(pending.files, 'output file')} and the logs will be brought home first.`}, ...note];
  return [...note, {text: note.length > 0 ? 'The logs will be brought home first.' : 'No output files are waiting; the logs will be brought home first.'}];
}

/** What a forced destroy loses. */
function lostText(pending: PendingOutputs): string {
  if (pending && !('error' in pending) && pending.files > 0) return `${plural(pending.files, 'output file')} and the logs`;
  return 'any outputs and logs not yet home';
}

function destroyDialogSpec(row: InstanceRow, pending: PendingOutputs, forceAsked: boolean, actions: {destroy(): void; askForce(): void; force(): void}): DialogSpec {
  const lines: DialogLine[] = [
    {text: `${gpuText(row)} · ${usd(row.dphTotal)}/h · ${usd(row.accruedUsd)} spent · ${row.label}`, tone: 'muted'},
    ...(isStoppedBilling(row) ? [{text: `${STOPPED_BILLING} until it is destroyed.`, tone: 'warn' as const}] : []),
    {text: ''},
    ...pendingLines(pending),
    {text: 'Then vastdeck destroys it and checks the instance list until it is gone.', tone: 'muted'},
  ];
  if (!forceAsked) {
    return {
      title: `Destroy instance ${instanceName(row)}?`,
      tone: 'bad',
      lines,
      buttons: [
        {label: 'Cancel', keys: ['n']},
        {label: 'Destroy', keys: ['d'], onChoose: actions.destroy},
        {label: 'Force destroy (skip download)', keys: ['f'], onChoose: actions.askForce, keepOpen: true},
      ],
    };
  }
  return {
    title: `Force destroy instance ${instanceName(row)}? Nothing is brought home`,
    tone: 'bad',
    lines: [
      ...lines.slice(0, 1),
      {text: ''},
      {text: `Force destroy skips the download: ${lostText(pending)} on the instance are lost for good.`, tone: 'bad'},
      {text: 'Choose "Yes, force destroy" (y) to confirm; Cancel keeps everything.'},
    ],
    buttons: [
      {label: 'Cancel', keys: ['n']},
      {label: 'Yes, force destroy', keys: ['y'], onChoose: actions.force},
    ],
  };
}

interface DestroyDialogProps {
  fleet: FleetController;
  row: InstanceRow;
  actions: FleetActions;
  width: number;
  maxHeight: number;
  onClose(): void;
}

export function DestroyDialog({fleet, row, actions, width, maxHeight, onClose}: DestroyDialogProps) {
  const [pending, setPending] = useState<PendingOutputs>(undefined);
  const [forceAsked, setForceAsked] = useState(false);
  const {key} = row;

  useEffect(() => {
    let open = true;
    fleet.pendingOutputs(key).then(
      answer => open && setPending(answer),
      (error: unknown) => open && setPending({error: toVastdeckError(error).message}),
    );
    return () => {
      open = false;
    };
  }, [fleet, key]);

  const spec = destroyDialogSpec(row, pending, forceAsked, {
    destroy: () => actions.destroy(key),
    askForce: () => setForceAsked(true),
    force: () => actions.destroy(key, {force: true}),
  });
  // A new key when force is asked: the second question starts on Cancel again.
  return <Dialog key={forceAsked ? 'force' : 'destroy'} spec={spec} width={width} maxHeight={maxHeight} onClose={onClose} />;
}
