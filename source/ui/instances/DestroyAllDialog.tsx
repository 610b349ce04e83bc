// The D dialog: destroy every instance. It lists them with what they cost, and nothing happens
// until the word destroy is typed and Enter pressed (k9s-style typed confirmation); each instance
// then gets the normal destroy (outputs and logs come home first). Esc cancels. It owns the
// keyboard while open (CONFIRM_KEYS and the shared text-editing keys).
import {Text} from 'ink';
import {useState} from 'react';
import type {InstanceRow} from '../../core/deck-types.js';
import {DialogFrame, dialogWidth, type DialogLine} from '../shared/Dialog.js';
import {useKeyLayer} from '../keys/Keyboard.js';
import type {KeyTable} from '../keys/key-table.js';
import {EDITOR_KEYS, editLine, lineAtEnd, TextInput, type EditorContext} from '../shared/TextInput.js';
import type {FleetActions} from '../shared/useFleetActions.js';
import {useStateRef} from '../shared/useStateRef.js';
import {usd} from '../shared/money.js';
import {fit, wrapWords} from '../shared/text-fit.js';
import {useTheme} from '../shared/theme.js';
import {gpuText, instanceName, isCleaningUp, isGone, isStoppedBilling, STOPPED_BILLING} from './instance-format.js';

const CONFIRM_WORD = 'destroy';
const MAX_LISTED = 6;

/** The instances D destroys: every one still there and not already being destroyed. */
export function destroyAllTargets(rows: readonly InstanceRow[]): InstanceRow[] {
  return rows.filter(row => !isGone(row) && !isCleaningUp(row));
}

function instanceLine(row: InstanceRow): string {
  const state = isStoppedBilling(row) ? STOPPED_BILLING : row.stage.stage;
  return `  ${fit(instanceName(row), 9)} ${fit(gpuText(row), 14)} ${usd(row.dphTotal)}/h · ${state}`;
}

interface ConfirmKeyContext extends EditorContext {
  confirm(): void;
  cancel(): void;
}

export const CONFIRM_KEYS: KeyTable<ConfirmKeyContext> = {
  title: 'Destroy-all confirmation (type destroy)',
  actions: [
    {keys: ['enter'], label: 'confirm', help: 'Destroy them all, once the word destroy is typed', run: context => context.confirm(), dangerous: true, switchesView: true},
    {keys: ['escape'], label: 'cancel', help: 'Cancel: destroy nothing', run: context => context.cancel(), switchesView: true},
    ...EDITOR_KEYS,
  ],
};

interface DestroyAllDialogProps {
  rows: readonly InstanceRow[];
  actions: FleetActions;
  width: number;
  maxHeight: number;
  onClose(): void;
}

export function DestroyAllDialog({rows, actions, width, maxHeight, onClose}: DestroyAllDialogProps) {
  const theme = useTheme();
  const [line, setLine, lineRef] = useStateRef(lineAtEnd(''));
  const [problem, setProblem] = useState<string>();

  useKeyLayer(
    CONFIRM_KEYS,
    {
      edit: change => {
        setLine(editLine(lineRef.current, change));
        setProblem(undefined);
      },
      cancel: onClose,
      confirm: () => {
        const typed = lineRef.current.value.trim();
        if (typed !== CONFIRM_WORD) {
          setProblem(`Type the word ${CONFIRM_WORD} to confirm${typed ? ` (not "${typed}")` : ''}, or press Esc.`);
          return;
        }
        onClose();
        for (const row of rows) actions.destroy(row.key);
        actions.notify(`Destroying ${rows.length} ${rows.length === 1 ? 'instance' : 'instances'}: outputs and logs come home first (m shows every step's message).`, 'warn');
      },
    },
    {kind: 'modal'},
  );

  const boxWidth = dialogWidth(width);
  const inner = Math.max(10, boxWidth - 2);
  const burn = rows.reduce((sum, row) => sum + row.dphTotal, 0);
  const armed = line.value.trim() === CONFIRM_WORD;
  const one = rows.length === 1;
  const intro = wrapWords(`${one ? 'This instance' : `All ${rows.length} instances`} (${usd(burn)}/h${one ? '' : ' together'}) will be destroyed:`, inner - 2);
  const outro = wrapWords(`${one ? 'Its' : "Each one's"} outputs and logs are brought home first; then it is destroyed and confirmed gone.`, inner - 2);
  // Title, blank, intro, the list, outro, blank, the input and the status line fit in maxHeight.
  const listRoom = Math.max(1, Math.min(MAX_LISTED, maxHeight - 2 - 5 - intro.length - outro.length));
  const listed = rows.length > listRoom ? rows.slice(0, listRoom - 1) : rows;
  const body: DialogLine[] = [
    ...intro.map(text => ({text})),
    ...listed.map(row => ({text: instanceLine(row), tone: 'muted' as const})),
    ...(listed.length < rows.length ? [{text: `  … and ${rows.length - listed.length} more`, tone: 'muted' as const}] : []),
    ...outro.map(text => ({text})),
  ];
  const status = armed
    ? {text: `Enter destroys ${one ? 'it' : `all ${rows.length}`}. Esc cancels.`, tone: theme.bad}
    : {text: problem ?? `Nothing is destroyed until you type ${CONFIRM_WORD} and press Enter. Esc cancels.`, tone: problem ? theme.warn : theme.muted};

  return (
    <DialogFrame title={one ? 'Destroy the only instance?' : `Destroy ALL ${rows.length} instances?`} tone="bad" width={boxWidth} rows={body.length + 5}>
      <Text> </Text>
      {body.map((entry, index) => (
        <Text key={index} wrap="truncate" {...(entry.tone ? theme[entry.tone] : {})}>
          {` ${entry.text}`}
        </Text>
      ))}
      <Text> </Text>
      <TextInput label={` Type ${CONFIRM_WORD}:`} state={line} width={inner} />
      <Text wrap="truncate" {...status.tone}>
        {` ${status.text}`}
      </Text>
    </DialogFrame>
  );
}
