// The dashboard: header, the auto-destroy banner while one counts down, the Offers pane, the
// Instances and Queue panes, the status bar, and over them the one open dialog, the `?` help or
// the message log. Keys go through the KeyboardProvider: every view registers its own key table
// (useKeyLayer) and App registers the keys that work everywhere (app-keys.ts). An instance's log
// view or a job's detail takes the whole body; the other panes stay mounted (hidden) so they keep
// their selection.
import {Box, Text} from 'ink';
import {Fragment, useCallback, useMemo, useReducer, type ReactNode} from 'react';
import type {DeckView} from '../core/deck-types.js';
import {toVastdeckError} from '../core/errors.js';
import {APP_KEYS} from './app-keys.js';
import {InstancesPane} from './instances/InstancesPane.js';
import {HELP_TABLES} from './help-tables.js';
import {KeyboardProvider, useKeyLayer} from './keys/Keyboard.js';
import {layoutFor} from './layout.js';
import {OffersPane} from './offers/OffersPane.js';
import {QueuePane} from './queue/QueuePane.js';
import {billingRows, QuitDialog} from './QuitDialog.js';
import {ClockSpeedContext} from './shared/clock-speed.js';
import {CountdownBanner} from './shared/CountdownBanner.js';
import {Dialog} from './shared/Dialog.js';
import {HELP_MAX_WIDTH, HelpOverlay, helpLines} from './shared/HelpOverlay.js';
import {MessageLog} from './shared/MessageLog.js';
import {balanceText, messageLines, StatusBar} from './shared/StatusBar.js';
import {DialogContext, isCustomDialog, type DialogContent, type OpenDialog} from './shared/useDialog.js';
import {useFleetActions} from './shared/useFleetActions.js';
import {useFreshMessage} from './shared/useFreshMessage.js';
import {useModel, useModelSelector} from './shared/useModel.js';
import {useStateRef} from './shared/useStateRef.js';
import {useTerminalSize} from './shared/useTerminalSize.js';
import {useTheme} from './shared/theme.js';
import {INITIAL_UI, PANES, roomyPane, uiReducer, type PaneId} from './ui-state.js';

const PANE_TITLES: Record<PaneId, string> = {offers: 'Offers', instances: 'Instances', queue: 'Queue'};

interface AppProps {
  deck: DeckView;
  /** Called to quit (after the quit question, when one is asked); the caller unmounts and restores the terminal. */
  onQuit: () => void;
}

/**
 * The dashboard with its own keyboard, or (`keyboard` false) inside one the caller already owns —
 * run-dashboard keeps one KeyboardProvider from the first (booting) frame on, so no key is lost
 * while the dashboard replaces the boot screen.
 */
export function App({deck, onQuit, keyboard = true}: AppProps & {keyboard?: boolean}) {
  const report = useCallback((error: unknown) => deck.notify(`That key failed: ${toVastdeckError(error).message}`, 'error'), [deck]);
  const body = <Dashboard deck={deck} onQuit={onQuit} />;
  return <ClockSpeedContext.Provider value={deck.clockSpeed ?? 1}>{keyboard ? <KeyboardProvider onError={report}>{body}</KeyboardProvider> : body}</ClockSpeedContext.Provider>;
}

function Dashboard({deck, onQuit}: AppProps) {
  const theme = useTheme();
  const {columns, rows} = useTerminalSize();
  const hasInstances = useModelSelector(deck.fleet, fleet => fleet.rows.length > 0 || fleet.creating.length > 0);
  const hasJobs = useModelSelector(deck.queue, queue => queue.jobs.length > 0);
  const countingDown = useModelSelector(deck.policies, policies => policies.countdown !== undefined);
  const message = useFreshMessage(deck.messages);
  const balance = balanceText(useModel(deck.account), useModel(deck.money));
  const help = useMemo(() => helpLines(HELP_TABLES), []);
  const [ui, dispatch] = useReducer(uiReducer, INITIAL_UI);
  const statusRows = (message ? messageLines(message.text, columns, balance).length : 1) + 1;
  const layout = layoutFor(columns, rows, HELP_MAX_WIDTH, help.length, {roomy: roomyPane(ui.focus, hasInstances, hasJobs), bannerRows: countingDown ? 1 : 0, statusRows});

  const [dialog, setDialog, dialogRef] = useStateRef<{content: DialogContent; id: number} | undefined>(undefined);
  const openDialog = useMemo<OpenDialog>(() => {
    let serial = 0;
    return content => {
      serial += 1;
      setDialog({content, id: serial});
    };
  }, [setDialog]);
  const closeDialog = useCallback(
    (id: number) => {
      if (dialogRef.current?.id === id) setDialog(undefined);
    },
    [dialogRef, setDialog],
  );
  const actions = useFleetActions(deck, () => dispatch({focus: 'instances'}));
  const setInstanceDetail = useCallback((open: boolean) => dispatch({detail: open ? 'instance' : undefined}), []);
  const setJobDetail = useCallback((open: boolean) => dispatch({detail: open ? 'job' : undefined}), []);
  const closeOverlay = useCallback(() => dispatch({overlay: undefined}), []);

  const quit = () => {
    const billing = billingRows(deck.fleet.getSnapshot().rows);
    if (deck.mode !== 'live' || billing.length === 0) {
      onQuit();
      return;
    }
    const current = dialogRef.current?.content;
    if (current && isCustomDialog(current) && current.kind === 'quit') return;
    openDialog({
      kind: 'quit',
      render: frame => <QuitDialog fleet={deck.fleet} policies={deck.policies.getSnapshot()} actions={actions} onQuit={onQuit} {...frame} />,
    });
  };

  useKeyLayer(
    APP_KEYS,
    {
      quit,
      stepPane: delta => dispatch({step: delta}),
      focus: pane => dispatch({focus: pane}),
      openHelp: () => dispatch({overlay: 'help'}),
      openMessages: () => dispatch({overlay: 'messages'}),
      countingDown: () => deck.policies.getSnapshot().countdown !== undefined,
      cancelCountdown: () => {
        deck.policies.cancelCountdown();
        deck.notify('Auto-destroy cancelled: the instances keep running (and billing).', 'warn');
      },
      toggleDrained: () => {
        const on = !deck.policies.getSnapshot().destroyWhenDrained;
        deck.policies.toggleDestroyWhenDrained();
        deck.notify(on ? 'Destroy when drained is on: instances are destroyed once the queue is empty.' : 'Destroy when drained is off: instances keep running (and billing) when idle.');
      },
    },
    {kind: 'global'},
  );

  const {body} = layout;
  const {detail} = ui;
  const showBottom = detail !== undefined || layout.instances.height > 0;
  const overlay = (content: ReactNode) => (
    <Box position="absolute" width={body.width} height={body.height} justifyContent="center" alignItems="center">
      {content}
    </Box>
  );
  const dialogView = (open: {content: DialogContent; id: number}) => {
    const close = () => closeDialog(open.id);
    if (isCustomDialog(open.content)) return <Fragment key={open.id}>{open.content.render({width: body.width, maxHeight: body.height, onClose: close})}</Fragment>;
    return <Dialog key={open.id} spec={open.content} width={body.width} maxHeight={body.height} onClose={close} />;
  };

  return (
    <DialogContext.Provider value={openDialog}>
      <Box flexDirection="column" width={layout.width} height={layout.height}>
        <Box height={1} width={layout.width} flexShrink={0}>
          <Text wrap="truncate">
            <Text {...theme.accent}>{' vastdeck '}</Text>
            {PANES.map((pane, index) => (
              <Text key={pane} {...(ui.focus === pane ? theme.selected : theme.muted)}>{` ${index + 1} ${PANE_TITLES[pane]} `}</Text>
            ))}
            <Text {...theme.muted}>{'  cheapest GPU for the whole ComfyUI job'}</Text>
          </Text>
        </Box>
        <CountdownBanner policies={deck.policies} width={layout.width} />
        <Box flexDirection="column" width={body.width} height={body.height} flexShrink={0}>
          <Box display={detail ? 'none' : 'flex'} flexShrink={0}>
            <OffersPane deck={deck} actions={actions} focused={ui.focus === 'offers'} width={layout.offers.width} height={layout.offers.height} />
          </Box>
          <Box display={showBottom ? 'flex' : 'none'} flexDirection={detail ? 'column' : layout.bottomDirection} flexShrink={0}>
            <Box display={detail === 'job' ? 'none' : 'flex'} flexShrink={0}>
              <InstancesPane
                fleet={deck.fleet}
                actions={actions}
                focused={ui.focus === 'instances'}
                detailOpen={detail === 'instance'}
                onDetail={setInstanceDetail}
                width={detail === 'instance' ? body.width : layout.instances.width}
                height={detail === 'instance' ? body.height : layout.instances.height}
              />
            </Box>
            <Box display={detail === 'instance' ? 'none' : 'flex'} flexShrink={0}>
              <QueuePane
                queue={deck.queue}
                policies={deck.policies}
                actions={actions}
                focused={ui.focus === 'queue'}
                detailOpen={detail === 'job'}
                onDetail={setJobDetail}
                width={detail === 'job' ? body.width : layout.queue.width}
                height={detail === 'job' ? body.height : layout.queue.height}
              />
            </Box>
          </Box>
          {dialog ? overlay(dialogView(dialog)) : null}
          {ui.overlay === 'messages' ? overlay(<MessageLog messages={deck.messages} width={body.width} height={body.height} onClose={closeOverlay} />) : null}
          {ui.overlay === 'help' ? overlay(<HelpOverlay lines={help} width={layout.help.width} height={layout.help.height} onClose={closeOverlay} />) : null}
        </Box>
        <StatusBar deck={deck} message={message} width={layout.width} />
      </Box>
    </DialogContext.Provider>
  );
}
