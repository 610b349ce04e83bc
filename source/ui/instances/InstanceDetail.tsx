// One instance over the whole body: its stages (DetailHeader) and its live log below. The log is
// read from fleet.logs(key) through useSyncExternalStore (the model notifies at most 10 Hz) and only
// the rows that fit are drawn. It follows the tail until the user scrolls up (k, PgUp, g) and again
// after G or scrolling back to the bottom; `/` filters (live, case-insensitive), w wraps, t shows
// file tags, S saves the log. The view options stay when ] and [ switch instances.
import {Box, Text} from 'ink';
import {useMemo, useRef, useState} from 'react';
import type {FleetController, InstanceRow, ModelView} from '../../core/deck-types.js';
import {LogLines} from './LogLines.js';
import {Pane} from '../shared/Pane.js';
import {useKeyLayer} from '../keys/Keyboard.js';
import {useClockSpeed} from '../shared/clock-speed.js';
import {editLine, lineAtEnd, TextInput, type LineState} from '../shared/TextInput.js';
import type {FleetActions} from '../shared/useFleetActions.js';
import {useModel} from '../shared/useModel.js';
import {useNow} from '../shared/useNow.js';
import {useStateRef} from '../shared/useStateRef.js';
import {fit} from '../shared/text-fit.js';
import {usd} from '../shared/money.js';
import {useTheme} from '../shared/theme.js';
import {detailHeaderLines} from './DetailHeader.js';
import {emptyLogSentence, gpuText, instanceName} from './instance-format.js';
import {bufferLines, filteredLines, logWindow, type LogLines as Lines, type LogWindow} from './log-window.js';
import {LOG_FILTER_KEYS, LOG_KEYS} from './instances-keys.js';
import {portalLines} from './portal-lines.js';

export {LOG_FILTER_KEYS, LOG_KEYS};

/** Stands in for the log until the fleet has one for this instance. */
const NO_LOG: ModelView<{endSeq: number; lines: number}> = {subscribe: () => () => {}, getSnapshot: () => NO_LOG_SNAPSHOT};
const NO_LOG_SNAPSHOT = {endSeq: 0, lines: 0};
const NO_WINDOW: LogWindow = {rows: [], topIndex: 0, below: 0};

interface Scroll {
  /** The instance the position belongs to; another instance starts at its tail. */
  key: string;
  follow: boolean;
  topSeq: number;
}

interface InstanceDetailProps {
  fleet: FleetController;
  row: InstanceRow;
  actions: FleetActions;
  portalShown: boolean;
  focused: boolean;
  width: number;
  height: number;
  onBack(): void;
  onStep(delta: 1 | -1): void;
  /** The selected instance as keys see it (after ] or [ earlier in the same read). */
  current(): InstanceRow | undefined;
  onTogglePortal(): void;
}

export function InstanceDetail({fleet, row, actions, portalShown, focused, width, height, onBack, onStep, current, onTogglePortal}: InstanceDetailProps) {
  const theme = useTheme();
  const nowMs = useNow(1000);
  const clockSpeed = useClockSpeed();
  // A new row object arrives with every fleet snapshot; asking again picks up a log that appeared.
  const source = useMemo(() => fleet.logs(row.key), [fleet, row]);
  const logState = useModel(source ?? NO_LOG);
  const [view, setView, viewRef] = useStateRef({wrap: false, tags: true, filter: ''});
  const [editor, setEditor, editorRef] = useStateRef<LineState | undefined>(undefined);
  const [scroll, setScroll] = useState<Scroll>({key: row.key, follow: true, topSeq: 0});

  const following = scroll.key !== row.key || scroll.follow;
  const filter = editor ? editor.value : view.filter;
  const lines = useMemo<Lines | undefined>(
    () => (source ? (filter ? filteredLines(source, filter) : bufferLines(source)) : undefined),
    // logState: the buffer behind `source` changed.
    [source, filter, logState],
  );

  const innerWidth = Math.max(10, width - 4);
  const innerHeight = Math.max(3, height - 2);
  const logMin = Math.max(3, Math.ceil(innerHeight * 0.4));
  const portal = portalShown ? portalLines(fleet.portalSecret(row.key)) : undefined;
  const header = detailHeaderLines(row, nowMs, innerWidth, theme, portal, clockSpeed).slice(0, Math.max(1, innerHeight - 1 - logMin));
  const logRows = Math.max(1, innerHeight - header.length - 1);
  const visible = lines ? logWindow(lines, {rows: logRows, width: innerWidth, wrap: view.wrap, tags: view.tags, follow: following, topSeq: scroll.topSeq}) : NO_WINDOW;
  // What the keys scroll from: the window drawn last, moved on by keys that came before the next draw.
  const shown = useRef({lines, following, topIndex: visible.topIndex, below: visible.below});
  shown.current = {lines, following, topIndex: visible.topIndex, below: visible.below};

  const follow = () => {
    shown.current = {...shown.current, following: true, below: 0};
    setScroll({key: row.key, follow: true, topSeq: 0});
  };
  const pauseAt = (index: number) => {
    const {lines: current, topIndex, below} = shown.current;
    const seq = current?.at(index, 1)[0]?.seq;
    if (seq === undefined) return;
    shown.current = {...shown.current, following: false, topIndex: index, below: Math.max(0, below - (index - topIndex))};
    setScroll({key: row.key, follow: false, topSeq: seq});
  };
  const scrollUp = (count: number) => {
    const {topIndex} = shown.current;
    if (topIndex > 0) pauseAt(Math.max(0, topIndex - count));
  };
  const scrollDown = (count: number) => {
    const {following: now, topIndex, below} = shown.current;
    if (now) return;
    if (below <= count) follow();
    else pauseAt(topIndex + count);
  };
  const changeView = (change: Partial<typeof view>) => setView({...viewRef.current, ...change});

  useKeyLayer(
    LOG_KEYS,
    {
      back: () => {
        if (!viewRef.current.filter) {
          onBack();
          return;
        }
        changeView({filter: ''});
        follow();
      },
      scroll: delta => {
        if (delta === 'page') scrollDown(logRows);
        else if (delta === '-page') scrollUp(logRows);
        else if (delta > 0) scrollDown(delta);
        else scrollUp(-delta);
      },
      top: () => pauseAt(0),
      follow,
      editFilter: () => setEditor(lineAtEnd(viewRef.current.filter)),
      toggleWrap: () => changeView({wrap: !viewRef.current.wrap}),
      toggleTags: () => changeView({tags: !viewRef.current.tags}),
      save: () => {
        const shown = current();
        if (shown) actions.saveLog(shown.key, instanceName(shown));
      },
      togglePortal: onTogglePortal,
      copyToken: () => {
        const shown = current();
        if (shown) actions.copyToken(shown.key);
      },
      openPortal: () => {
        const shown = current();
        if (shown) actions.openPortal(shown.key);
      },
      step: onStep,
    },
    {active: focused && editor === undefined},
  );

  useKeyLayer(
    LOG_FILTER_KEYS,
    {
      edit: change => {
        const current = editorRef.current;
        if (!current) return;
        setEditor(editLine(current, change));
        follow();
      },
      keep: () => {
        changeView({filter: (editorRef.current?.value ?? '').trim()});
        setEditor(undefined);
        follow();
      },
      clear: () => {
        changeView({filter: ''});
        setEditor(undefined);
        follow();
      },
    },
    {kind: 'modal', active: editor !== undefined},
  );

  const title = `2 Instances › ${instanceName(row)}`;
  const info = <Text {...theme.muted}>{`${gpuText(row)} · ${usd(row.dphTotal)}/h · ${row.label} · Esc back `}</Text>;

  return (
    <Pane title={title} info={info} focused={focused} width={width} height={height}>
      {header}
      {editor ? (
        <TextInput label="Filter:" state={editor} width={innerWidth} placeholder="text to look for, e.g. error" />
      ) : (
        <StatusLine lines={lines} visible={visible} following={following} filter={view.filter} wrap={view.wrap} tags={view.tags} width={innerWidth} />
      )}
      {lines && lines.count > 0 ? (
        <LogLines rows={visible.rows} tags={view.tags} filter={filter} />
      ) : (
        <Box flexShrink={0}>
          <Text wrap="truncate" {...theme.muted}>
            {filter ? `No line matches "${filter}" (Esc clears the filter).` : emptyLogSentence(row)}
          </Text>
        </Box>
      )}
    </Pane>
  );
}

interface StatusLineProps {
  lines: Lines | undefined;
  visible: LogWindow;
  following: boolean;
  filter: string;
  wrap: boolean;
  tags: boolean;
  width: number;
}

/** The rule above the log: following or paused, how many lines (or matches), the view options. */
function StatusLine({lines, visible, following, filter, wrap, tags, width}: StatusLineProps) {
  const theme = useTheme();
  const count = lines?.count ?? 0;
  const parts = [
    following ? 'following the tail' : `paused: ${visible.below} newer below, G follows`,
    filter ? `filter "${filter}": ${count} lines` : `${count} lines`,
    wrap ? 'wrap' : 'cut',
    tags ? 'tags' : 'no tags',
  ];
  const text = `── Log · ${parts.join(' · ')} `;
  return (
    <Text wrap="truncate" {...(following ? theme.muted : theme.warn)}>
      {fit(text, width).replace(/ +$/, match => ` ${'─'.repeat(Math.max(0, match.length - 1))}`)}
    </Text>
  );
}
