// The Instances pane: every instance of the fleet in a windowed table (stage with a spinner while it
// boots, download progress, uptime, money spent, the log connection), the creates in flight, and
// an honest empty state (with the way to an SSH key when there is none). Enter opens the selected
// instance's stages and log over the whole body; switching instances there is instant because the
// logs are already in memory (fleet.logs). d destroys the selected instance and D all of them,
// each after its confirm dialog. The selection stays on the same instance by key.
import {Box, Text} from 'ink';
import {Spinner} from '../shared/Spinner.js';
import {useEffect, useMemo} from 'react';
import type {FleetController, FleetSnapshot, InstanceRow} from '../../core/deck-types.js';
import {formatDuration} from '../../core/format.js';
import {Pane, type DetailPaneSlot} from '../shared/Pane.js';
import {Paragraph} from '../shared/Paragraph.js';
import {Table} from '../shared/Table.js';
import {useKeyLayer} from '../keys/Keyboard.js';
import {useClockSpeed} from '../shared/clock-speed.js';
import {useOpenDialog} from '../shared/useDialog.js';
import type {FleetActions} from '../shared/useFleetActions.js';
import {useListSelection} from '../shared/useListSelection.js';
import {useModel} from '../shared/useModel.js';
import {useNow} from '../shared/useNow.js';
import {useStateRef} from '../shared/useStateRef.js';
import {usd} from '../shared/money.js';
import {useTheme} from '../shared/theme.js';
import {instanceColumns, instanceTone} from './instance-columns.js';
import {cleanupStepText, gpuText, instanceName, isCleaningUp, isGone, isStoppedBilling, STOPPED_BILLING} from './instance-format.js';
import {DestroyAllDialog, destroyAllTargets} from './DestroyAllDialog.js';
import {DestroyDialog} from './DestroyDialog.js';
import {InstanceDetail} from './InstanceDetail.js';
import {portalLines} from './portal-lines.js';
import {INSTANCES_KEYS} from './instances-keys.js';
import {sshKeyDialog} from '../offers/rent-dialog.js';

export {INSTANCES_KEYS};

interface InstancesPaneProps extends DetailPaneSlot {
  fleet: FleetController;
  actions: FleetActions;
}

const keyOf = (row: InstanceRow): string => row.key;

/** An idle poll of an empty fleet shows nothing new: no frame for it. */
function sameEmptyFleet(shown: FleetSnapshot, next: FleetSnapshot): boolean {
  return (
    shown.rows.length === 0 &&
    next.rows.length === 0 &&
    shown.reconciled === next.reconciled &&
    shown.creating.length === 0 &&
    next.creating.length === 0 &&
    shown.error === next.error &&
    shown.sshKey.ok === next.sshKey.ok &&
    (shown.otherInstalls ?? []).length === 0 &&
    (next.otherInstalls ?? []).length === 0
  );
}

export function InstancesPane({fleet, actions, focused, detailOpen, onDetail, width, height}: InstancesPaneProps) {
  const theme = useTheme();
  const snapshot = useModel(fleet, sameEmptyFleet);
  const openDialog = useOpenDialog();
  // Uptime and spend tick every second while instances exist; the empty pane costs no frames.
  const nowMs = useNow(snapshot.rows.length > 0 ? 1000 : 30_000);
  /** The instance whose portal secret is shown; moving to another instance hides it. */
  const [revealedKey, setRevealedKey, revealedRef] = useStateRef<string | undefined>(undefined);

  const rows = snapshot.rows;
  const list = useListSelection({items: rows, latest: () => fleet.getSnapshot().rows, keyOf, onMove: () => setRevealedKey(undefined)});
  const {selectedIndex, selected} = list;
  const portalShown = selected !== undefined && revealedKey === selected.key;
  const clockSpeed = useClockSpeed();
  const columns = useMemo(() => instanceColumns(nowMs, clockSpeed), [nowMs, clockSpeed]);

  const withRow = (act: (row: InstanceRow) => void) => {
    const row = list.current();
    if (row) act(row);
  };
  const createKey = () => {
    const key = fleet.getSnapshot().sshKey;
    if (key.ok) actions.notify(`vastdeck already has an SSH key: ${key.description}.`);
    else openDialog(sshKeyDialog(key.message, actions));
  };
  const destroySelected = () => {
    const row = list.current();
    if (!row) actions.notify('No instance to destroy.');
    else if (isGone(row)) actions.notify(`Instance ${instanceName(row)} is already gone: it bills nothing.`);
    else if (isCleaningUp(row)) actions.notify(`Instance ${instanceName(row)} is already being destroyed: ${cleanupStepText(row.cleanup?.step ?? '')}.`);
    else openDialog({render: frame => <DestroyDialog fleet={fleet} row={row} actions={actions} {...frame} />});
  };
  const destroyAll = () => {
    const targets = destroyAllTargets(fleet.getSnapshot().rows);
    if (targets.length === 0) actions.notify('No instances to destroy: every one is gone or already being destroyed.');
    else openDialog({render: frame => <DestroyAllDialog rows={targets} actions={actions} {...frame} />});
  };
  const togglePortal = () => withRow(row => setRevealedKey(revealedRef.current === row.key ? undefined : row.key));

  useKeyLayer(
    INSTANCES_KEYS,
    {
      list: list.controls,
      hasSelection: () => list.current() !== undefined,
      openLog: () => withRow(() => onDetail(true)),
      togglePortal,
      copyToken: () => withRow(row => actions.copyToken(row.key)),
      openPortal: () => withRow(row => actions.openPortal(row.key)),
      noSshKey: () => !fleet.getSnapshot().sshKey.ok,
      createKey,
      destroy: destroySelected,
      destroyAll,
    },
    {active: focused && !detailOpen},
  );

  // The instance under the detail view left the list: back to the (empty) list.
  useEffect(() => {
    if (detailOpen && !selected) onDetail(false);
  }, [detailOpen, selected, onDetail]);

  if (detailOpen && selected) {
    return (
      <InstanceDetail
        fleet={fleet}
        row={selected}
        actions={actions}
        portalShown={portalShown}
        focused={focused}
        width={width}
        height={height}
        onBack={() => onDetail(false)}
        onStep={delta => list.controls.move(delta)}
        current={list.current}
        onTogglePortal={togglePortal}
      />
    );
  }

  const innerWidth = Math.max(10, width - 4);
  const innerHeight = Math.max(1, height - 2);
  const notes = noteLines(snapshot);
  const portal = portalShown && selected ? portalLines(fleet.portalSecret(selected.key)) : [];
  const footer = selected ? 1 + portal.length : 0;
  const tableRows = Math.max(1, innerHeight - 1 - notes.length - footer);

  return (
    <Pane title="2 Instances" info={<TitleInfo snapshot={snapshot} nowMs={nowMs} />} focused={focused} width={width} height={height}>
      {notes.map(note => (
        <Text key={note.text} wrap="truncate" {...(note.tone === 'bad' ? theme.warn : theme.muted)}>
          {note.spinner ? (
            <Text {...theme.accent}>
              <Spinner />{' '}
            </Text>
          ) : null}
          {note.text}
        </Text>
      ))}
      {rows.length > 0 ? (
        <Box height={tableRows + 1} flexShrink={0}>
          <Table columns={columns} rows={rows} rowKey={row => row.key} selectedIndex={selectedIndex} height={tableRows} width={innerWidth} rowTone={row => instanceTone(theme, row)} />
        </Box>
      ) : (
        <EmptyState snapshot={snapshot} width={innerWidth} />
      )}
      {selected ? (
        <Text wrap="truncate" {...theme.muted}>
          {selectedLine(selected)}
        </Text>
      ) : null}
      {portal.map(line => (
        <Text key={line.text} wrap="truncate" {...theme[line.tone]}>
          {line.text}
        </Text>
      ))}
    </Pane>
  );
}

interface NoteLine {
  text: string;
  tone: 'muted' | 'bad';
  spinner: boolean;
}

/** Lines above the table: the first account check, creates in flight, a failed refresh. */
function noteLines(snapshot: FleetSnapshot): NoteLine[] {
  return [
    ...(snapshot.reconciled ? [] : [{text: 'checking the account for instances…', tone: 'muted' as const, spinner: true}]),
    ...snapshot.creating.map(text => ({text, tone: 'muted' as const, spinner: true})),
    ...(snapshot.error ? [{text: `Instance list refresh failed: ${snapshot.error}`, tone: 'bad' as const, spinner: false}] : []),
    ...otherInstallsNote(snapshot),
  ];
}

/** Another vastdeck install's instances on this account: they bill it, but nothing here touches them. */
function otherInstallsNote(snapshot: FleetSnapshot): NoteLine[] {
  const others = snapshot.otherInstalls ?? [];
  if (others.length === 0) return [];
  const burn = others.reduce((sum, other) => sum + other.dphTotal, 0);
  const ids = others.map(other => other.instanceId).join(', ');
  return [{text: `${others.length} ${others.length === 1 ? 'instance' : 'instances'} of another vastdeck install on this account (${usd(burn)}/h, not touched here): ${ids}`, tone: 'muted', spinner: false}];
}

/** The selected instance in one line: what the table has no room for. */
function selectedLine(row: InstanceRow): string {
  const vast = `Vast ${row.actualStatus ?? 'no status yet'}${row.statusMsg ? `: ${row.statusMsg}` : ''}`;
  const log = `log ${row.log.state}${row.log.error ? ` (${row.log.error})` : ''}, ${row.log.lines} lines`;
  const failure = row.stage.failure ? `failed: ${row.stage.failure.reason}` : '';
  const flag = row.cleanup ? `destroy: ${row.cleanup.message}` : isStoppedBilling(row) ? STOPPED_BILLING : '';
  return [instanceName(row), flag, failure, row.label, gpuText(row), `${usd(row.dphTotal)}/h`, `${usd(row.accruedUsd)} spent`, vast, log, row.note ?? '', 'Enter: stages and log'].filter(Boolean).join(' · ');
}

function EmptyState({snapshot, width}: {snapshot: FleetSnapshot; width: number}) {
  const theme = useTheme();
  if (!snapshot.reconciled || snapshot.creating.length > 0) return null;
  return (
    <Box flexDirection="column" flexShrink={0}>
      <Paragraph text="No instances yet. Select an offer in Offers and press c to rent it." width={width} tone={theme.muted} />
      {snapshot.sshKey.ok ? (
        <Paragraph text={`Logs stream over SSH with ${snapshot.sshKey.description}.`} width={width} tone={theme.muted} />
      ) : (
        <Paragraph text="No SSH key yet: press K to let vastdeck create ~/.ssh/vastdeck_ed25519." width={width} tone={theme.warn} />
      )}
    </Box>
  );
}

function TitleInfo({snapshot, nowMs}: {snapshot: FleetSnapshot; nowMs: number}) {
  const theme = useTheme();
  const billing = snapshot.rows.filter(row => !isGone(row));
  if (billing.length === 0) return null;
  const burn = billing.reduce((sum, row) => sum + row.dphTotal, 0);
  const spent = snapshot.rows.reduce((sum, row) => sum + row.accruedUsd, 0);
  const polled = snapshot.lastPollAtMs === undefined ? '' : ` · polled ${formatDuration(Math.max(0, nowMs - snapshot.lastPollAtMs) / 1000)} ago`;
  return <Text {...theme.muted}>{`${billing.length} billing · ${usd(burn)}/h · ${usd(spent)} spent${polled} `}</Text>;
}
