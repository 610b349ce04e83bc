// The dashboard: header, the auto-destroy banner while one counts down, the Offers pane, the
// Instances and Queue panes, the status bar, the `?` help overlay and the one open dialog. App is
// the single keyboard owner: one useInput looks the key up in the keymap and dispatches the named
// command to itself (focus, help, quit, policies) or to the pane, editor or dialog that registered
// for its scope. Key handling reads refs and a reducer, never a stale closure. An instance's log
// view or a job's detail takes the whole body; the other panes stay mounted (hidden) so they keep
// their selection.
import {Box, Text, useInput, type Key} from 'ink';
import {Fragment, useCallback, useMemo, useReducer, useRef, useState, type ReactNode} from 'react';
import type {DeckView} from '../core/deck-types.js';
import {CountdownBanner} from './shared/CountdownBanner.js';
import {Dialog} from './shared/Dialog.js';
import {HELP_MAX_WIDTH, HelpOverlay, helpLines, helpVisibleRows} from './shared/HelpOverlay.js';
import {StatusBar} from './shared/StatusBar.js';
import {CommandRouterContext, type CommandHandler, type CommandRouter} from './shared/useCommands.js';
import {DialogContext, isCustomDialog, type DialogContent, type OpenDialog} from './shared/useDialog.js';
import {useFleetActions} from './shared/useFleetActions.js';
import {useModelSelector} from './shared/useModel.js';
import {useTerminalSize} from './shared/useTerminalSize.js';
import {CAPTURING_SCOPES, findBinding, type Scope} from './keymap.js';
import {layoutFor} from './layout.js';
import {InstancesPane} from './instances/InstancesPane.js';
import {OffersPane} from './offers/OffersPane.js';
import {QueuePane} from './queue/QueuePane.js';
import {runPolicyCommand} from './policy-commands.js';
import {useTheme} from './shared/theme.js';
import {activeScopes, capturingScope, INITIAL_UI, PANES, roomyPane, uiReducer, type PaneId} from './ui-state.js';

const PANE_TITLES: Record<PaneId, string> = {offers: 'Offers', instances: 'Instances', queue: 'Queue'};

interface AppProps {
  deck: DeckView;
  /** Called on q / Ctrl-C; the caller unmounts and restores the terminal. */
  onQuit: () => void;
}

export function App({deck, onQuit}: AppProps) {
  const theme = useTheme();
  const {columns, rows} = useTerminalSize();
  const hasInstances = useModelSelector(deck.fleet, fleet => fleet.rows.length > 0 || fleet.creating.length > 0);
  const hasJobs = useModelSelector(deck.queue, queue => queue.jobs.length > 0);
  const countingDown = useModelSelector(deck.policies, policies => policies.countdown !== undefined);
  const help = useMemo(() => helpLines(), []);
  const [ui, dispatch] = useReducer(uiReducer, INITIAL_UI);
  const layout = layoutFor(columns, rows, HELP_MAX_WIDTH, help.length, {roomy: roomyPane(ui.focus, hasInstances, hasJobs), bannerRows: countingDown ? 1 : 0});
  const helpPage = helpVisibleRows(layout.help.height);
  const maxHelpScroll = Math.max(0, help.length - helpPage);

  const handlers = useRef(new Map<Scope, CommandHandler>());
  const [capturingScopes, setCapturingScopes] = useState<readonly Scope[]>([]);
  const [dialog, setDialog] = useState<{content: DialogContent; id: number}>();
  const latest = useRef({ui, maxHelpScroll, helpPage, onQuit, deck, dialogOpen: dialog !== undefined});
  latest.current = {ui, maxHelpScroll, helpPage, onQuit, deck, dialogOpen: dialog !== undefined};

  const router = useMemo<CommandRouter>(
    () => ({
      register(scope, handler) {
        handlers.current.set(scope, handler);
        const captures = CAPTURING_SCOPES.includes(scope);
        if (captures) setCapturingScopes(current => [...current.filter(entry => entry !== scope), scope]);
        return () => {
          if (handlers.current.get(scope) === handler) handlers.current.delete(scope);
          if (captures) setCapturingScopes(current => current.filter(entry => entry !== scope));
        };
      },
    }),
    [],
  );
  const openDialog = useMemo<OpenDialog>(() => {
    let serial = 0;
    return content => {
      serial += 1;
      setDialog({content, id: serial});
    };
  }, []);
  const closeDialog = useCallback((id: number) => setDialog(current => (current?.id === id ? undefined : current)), []);
  const actions = useFleetActions(deck, () => dispatch({focus: 'instances'}));
  const setInstanceDetail = useCallback((open: boolean) => dispatch({detail: open ? 'instance' : undefined}), []);
  const setJobDetail = useCallback((open: boolean) => dispatch({detail: open ? 'job' : undefined}), []);

  const onKey = useCallback((input: string, key: Key) => {
    const {ui: state, maxHelpScroll: maxScroll, helpPage: page, onQuit: quit, deck: current, dialogOpen} = latest.current;
    const open = capturingScope([...handlers.current.keys()]);
    // A dialog that has not registered its keys yet still takes the keyboard (only Ctrl-C gets past).
    const binding = findBinding(input, key, dialogOpen && !open ? [] : activeScopes(state, open));
    if (!binding) return;
    if (binding.command === 'app.quit') quit();
    else if (binding.command.startsWith('policy.')) runPolicyCommand(current, binding.command);
    else if (binding.scope === 'global' || binding.scope === 'help') dispatch({command: binding.command, maxHelpScroll: maxScroll, helpPage: page});
    else handlers.current.get(binding.scope === 'editor' && open ? open : binding.scope)?.(binding.command, input);
  }, []);
  useInput(onKey);

  // A confirm dialog takes the keyboard from this render on (its handler registers in an effect).
  const scopes = activeScopes(ui, dialog && !isCustomDialog(dialog.content) ? 'dialog' : capturingScope(capturingScopes));
  const helpScroll = Math.min(ui.helpScroll, maxHelpScroll);
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
    <CommandRouterContext.Provider value={router}>
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
            {ui.helpOpen ? overlay(<HelpOverlay width={layout.help.width} height={layout.help.height} scroll={helpScroll} />) : null}
            {dialog ? overlay(dialogView(dialog)) : null}
          </Box>
          <StatusBar deck={deck} scopes={scopes} width={layout.width} />
        </Box>
      </DialogContext.Provider>
    </CommandRouterContext.Provider>
  );
}
