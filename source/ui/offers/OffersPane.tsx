// The Offers pane: the live, ranked offer list from deck.offers. It keeps the selection on the same
// offer across refreshes (by offer id; clamped to the same position when the offer vanishes), shows
// the top of the list with the first row selected after a sort, marks new, changed and vanished
// rows, edits the filter in place, explains the selected offer's cost, and rents it on c (after a
// confirm dialog that shows what it will cost), or on O with an OnStart job. Keys: offers-keys.ts.
import {Box, Text} from 'ink';
import {Spinner} from '../shared/Spinner.js';
import {useEffect, useMemo} from 'react';
import type {DeckView} from '../../core/deck-types.js';
import {formatDuration} from '../../core/format.js';
import {SORT_KEYS} from '../../core/offers/rank.js';
import type {OffersSnapshot, RankedOffer} from '../../core/offers/types.js';
import {Pane} from '../shared/Pane.js';
import {Paragraph} from '../shared/Paragraph.js';
import {Table, type Column} from '../shared/Table.js';
import {useClockSpeed} from '../shared/clock-speed.js';
import {useKeyLayer} from '../keys/Keyboard.js';
import {editLine, lineAtEnd, TextInput, type LineState} from '../shared/TextInput.js';
import {useOpenDialog} from '../shared/useDialog.js';
import type {FleetActions} from '../shared/useFleetActions.js';
import {useListSelection} from '../shared/useListSelection.js';
import {useStateRef} from '../shared/useStateRef.js';
import {useModel} from '../shared/useModel.js';
import {useNow} from '../shared/useNow.js';
import {wrapWords} from '../shared/text-fit.js';
import {useTheme, type Theme, type Tone} from '../shared/theme.js';
import {AddJobDialog} from '../queue/AddJobDialog.js';
import {offerColumns, offerDetailLines} from './offer-columns.js';
import {FILTER_KEYS, OFFERS_KEYS} from './offers-keys.js';
import {rentCandidates, rentDialog} from './rent-dialog.js';

export {FILTER_KEYS, OFFERS_KEYS};

interface OffersPaneProps {
  deck: DeckView;
  actions: FleetActions;
  focused: boolean;
  width: number;
  height: number;
}

const keyOf = (row: RankedOffer): number => row.offer.id;
/** A vanished offer stays in the list, marked, but does not keep the selection. */
const holds = (row: RankedOffer): boolean => row.change !== 'vanished';

interface FilterEditor {
  line: LineState;
  error?: string;
}

/** An error sentence gets this many lines at most under the filter editor. */
const MAX_ERROR_LINES = 3;

function clampLines(lines: string[], max: number): string[] {
  if (lines.length <= max) return lines;
  const kept = lines.slice(0, max);
  kept[max - 1] = `${kept[max - 1]!.replace(/.$/u, '')}…`;
  return kept;
}

function rowTone(theme: Theme, row: RankedOffer): Tone {
  if (row.change === 'vanished') return theme.vanished;
  if (row.change === 'new') return theme.new;
  if (row.change === 'changed') return theme.changed;
  return {};
}

export function OffersPane({deck, actions, focused, width, height}: OffersPaneProps) {
  const theme = useTheme();
  const clockSpeed = useClockSpeed();
  const columns = useMemo(() => offerColumns(clockSpeed), [clockSpeed]);
  const {offers} = deck;
  const snapshot = useModel(offers);
  const openDialog = useOpenDialog();
  const [editor, setEditor, editorRef] = useStateRef<FilterEditor | undefined>(undefined);

  const rows = snapshot.rows;
  const innerWidth = Math.max(10, width - 4);
  const innerHeight = Math.max(1, height - 2);
  const errorLines = editor?.error ? clampLines(wrapWords(editor.error, innerWidth), MAX_ERROR_LINES) : [];
  const editorLines = editor ? 1 + errorLines.length : 0;
  const staleLine = snapshot.error !== undefined && rows.length > 0 ? 1 : 0;
  const detailLines = innerHeight >= 16 ? 2 : 1;
  const tableRows = Math.max(1, innerHeight - 1 - editorLines - staleLine - detailLines);
  const list = useListSelection({items: rows, latest: () => offers.getSnapshot().rows, keyOf, holds, pageRows: tableRows});
  const {selectedIndex, selected} = list;

  // Remember which offer is under the selection and where: after the first load, after the
  // selected offer vanished, and whenever a refresh moved it.
  useEffect(() => list.remember(), [selected, selectedIndex]);

  const rent = () => {
    const row = list.current();
    if (!row) return;
    if (row.change === 'vanished') {
      actions.notify(`Offer ${row.offer.id} is gone from the market: pick another one.`, 'warn');
      return;
    }
    openDialog(rentDialog(rentCandidates(row, offers.getSnapshot().rows), deck.fleet.getSnapshot().sshKey, deck.mode === 'live', actions, clockSpeed));
  };

  // O: the add-job form in its OnStart variant; the job rides in the rented instance.
  const rentWithOnstart = () => {
    const current = offers.getSnapshot().rows;
    const row = list.current();
    if (!row) return;
    if (row.change === 'vanished') {
      actions.notify(`Offer ${row.offer.id} is gone from the market: pick another one.`, 'warn');
      return;
    }
    const target = {controller: deck.onstart, candidates: rentCandidates(row, current), live: deck.mode === 'live'};
    openDialog({render: frame => <AddJobDialog queue={deck.queue} notify={actions.notify} onstart={target} {...frame} />});
  };

  useKeyLayer(
    OFFERS_KEYS,
    {
      list: list.controls,
      sort: () => {
        offers.cycleSort();
        // The new order's best offers, from the top (as htop and k9s do).
        list.reset();
      },
      refresh: () => offers.refreshNow(),
      editFilter: () => setEditor({line: lineAtEnd(offers.getSnapshot().filterText)}),
      rent,
      rentWithOnstart,
    },
    {active: focused && editor === undefined},
  );

  useKeyLayer(
    FILTER_KEYS,
    {
      edit: change => {
        const current = editorRef.current;
        if (current) setEditor({...current, line: editLine(current.line, change)});
      },
      apply: () => {
        const current = editorRef.current;
        if (!current) return;
        const error = offers.setFilter(current.line.value);
        setEditor(error ? {...current, error} : undefined);
      },
      cancel: () => setEditor(undefined),
    },
    {kind: 'modal', active: editor !== undefined},
  );

  return (
    <Pane title="1 Offers" info={<TitleInfo snapshot={snapshot} />} focused={focused} width={width} height={height}>
      {editor ? (
        <Box flexDirection="column" flexShrink={0}>
          <TextInput label="Filter:" state={editor.line} width={innerWidth} placeholder="e.g. gpu=RTX_4090 dph<=0.6 inet_down>=500" />
          {errorLines.map((line, index) => (
            <Text key={index} {...theme.bad}>
              {line}
            </Text>
          ))}
        </Box>
      ) : null}
      <OffersBody snapshot={snapshot} columns={columns} selectedIndex={selectedIndex} width={innerWidth} tableRows={tableRows} theme={theme} />
      {staleLine ? (
        <Text wrap="truncate" {...theme.warn}>
          {`Refresh failed, showing the last good list: ${snapshot.error ?? ''}`}
        </Text>
      ) : null}
      {selected
        ? offerDetailLines(selected, detailLines, clockSpeed).map(line => (
            <Text key={line} wrap="truncate" {...(selected.change === 'vanished' ? theme.vanished : theme.muted)}>
              {line}
            </Text>
          ))
        : null}
    </Pane>
  );
}

interface OffersBodyProps {
  columns: ReadonlyArray<Column<RankedOffer>>;
  snapshot: OffersSnapshot;
  selectedIndex: number;
  width: number;
  tableRows: number;
  theme: Theme;
}

function OffersBody({snapshot, columns, selectedIndex, width, tableRows, theme}: OffersBodyProps) {
  if (snapshot.rows.length === 0) {
    if (snapshot.status === 'loading') {
      return (
        <Text>
          <Text {...theme.accent}>
            <Spinner />
          </Text>
          {' Searching offers…'}
        </Text>
      );
    }
    if (snapshot.status === 'error') {
      return <Paragraph text={`${snapshot.error ?? 'The offer search failed.'} Press r to retry or / to change the filter.`} width={width} tone={theme.bad} />;
    }
    return <Paragraph text="No offers match this filter. Press / to change it." width={width} tone={theme.muted} />;
  }
  return (
    <Box height={tableRows + 1} flexShrink={0}>
      <Table
        columns={columns}
        rows={snapshot.rows}
        rowKey={row => row.offer.id}
        selectedIndex={selectedIndex}
        height={tableRows}
        width={width}
        rowTone={row => rowTone(theme, row)}
        highlightColumn={snapshot.sortKey}
      />
    </Box>
  );
}

function TitleInfo({snapshot}: {snapshot: OffersSnapshot}) {
  const theme = useTheme();
  const sortLabel = SORT_KEYS.find(entry => entry.key === snapshot.sortKey)?.label ?? snapshot.sortKey;
  const live = snapshot.rows.filter(row => row.change !== 'vanished').length;
  return (
    <Text wrap="truncate">
      <Text {...theme.muted}>{'sort '}</Text>
      <Text {...theme.accent}>{sortLabel}</Text>
      <Text {...theme.muted}>{`${snapshot.jobText ? ` of ${snapshot.jobText}` : ''} · ${live} offers · `}</Text>
      {snapshot.refreshing ? (
        <Text {...theme.accent}>
          <Spinner /> refreshing
        </Text>
      ) : (
        <RefreshAge updatedAtMs={snapshot.updatedAtMs} />
      )}
      <Text {...theme.muted}>{' · filter '}</Text>
      <Text>{snapshot.filterText || 'none'}</Text>
      <Text> </Text>
    </Text>
  );
}

function RefreshAge({updatedAtMs}: {updatedAtMs?: number}) {
  const theme = useTheme();
  // "updated 10s ago" in 10-second steps: each tick redraws the whole screen (ink-notes.md A4).
  const now = useNow(10_000);
  if (updatedAtMs === undefined) return <Text {...theme.muted}>not loaded yet</Text>;
  return <Text {...theme.muted}>{`updated ${formatDuration(Math.max(0, (now - updatedAtMs) / 1000))} ago`}</Text>;
}
