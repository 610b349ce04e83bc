// The dashboard: header, the Offers pane, the Instances and Queue panes, the status bar, the `?`
// help overlay and the one open confirm dialog. App is the single keyboard owner: one useInput
// looks the key up in the keymap and dispatches the named command to itself (focus, help, quit) or
// to the pane, editor or dialog that registered for its scope. Key handling reads refs and a
// reducer, never a stale closure. An instance's log view takes the whole body; the other panes
// stay mounted (hidden) so they keep their selection.
import {Box, Text, useInput, type Key} from 'ink';
import {useCallback, useMemo, useReducer, useRef, useState, type ReactNode} from 'react';
import type {DeckView} from '../core/deck-types.js';
import {Dialog, type DialogSpec} from './components/Dialog.js';
import {HELP_MAX_WIDTH, HelpOverlay, helpLines, helpVisibleRows} from './components/HelpOverlay.js';
import {StatusBar} from './components/StatusBar.js';
import {CommandRouterContext, type CommandHandler, type CommandRouter} from './hooks/useCommands.js';
import {DialogContext, type OpenDialog} from './hooks/useDialog.js';
import {useFleetActions} from './hooks/useFleetActions.js';
import {useModelSelector} from './hooks/useModel.js';
import {useTerminalSize} from './hooks/useTerminalSize.js';
import {CAPTURING_SCOPES, EDITOR_SCOPES, findBinding, type Command, type Scope} from './keymap.js';
import {layoutFor} from './layout.js';
import {InstancesPane} from './panes/InstancesPane.js';
import {OffersPane} from './panes/OffersPane.js';
import {QueuePane} from './panes/QueuePane.js';
import {useTheme} from './theme.js';

const PANES = ['offers', 'instances', 'queue'] as const;
type PaneId = (typeof PANES)[number];
const PANE_TITLES: Record<PaneId, string> = {offers: 'Offers', instances: 'Instances', queue: 'Queue'};

interface UiState {
  focus: PaneId;
  helpOpen: boolean;
  helpScroll: number;
  /** The Instances pane shows the selected instance's stages and log over the whole body. */
  detailOpen: boolean;
}

type UiAction = {command: Command; maxHelpScroll: number; helpPage: number} | {focus: PaneId} | {detailOpen: boolean};

function uiReducer(state: UiState, action: UiAction): UiState {
  if ('focus' in action) return {...state, focus: action.focus, detailOpen: false};
  if ('detailOpen' in action) return {...state, detailOpen: action.detailOpen};
  const {command, maxHelpScroll, helpPage} = action;
  const step = (delta: number): PaneId => PANES[(PANES.indexOf(state.focus) + delta + PANES.length) % PANES.length]!;
  const scroll = (delta: number) => Math.min(maxHelpScroll, Math.max(0, state.helpScroll + delta));
  switch (command) {
    case 'pane.next':
      return {...state, focus: step(1), detailOpen: false};
    case 'pane.previous':
      return {...state, focus: step(-1), detailOpen: false};
    case 'pane.offers':
      return {...state, focus: 'offers', detailOpen: false};
    case 'pane.instances':
      return {...state, focus: 'instances', detailOpen: false};
    case 'pane.queue':
      return {...state, focus: 'queue', detailOpen: false};
    case 'help.open':
      return {...state, helpOpen: true, helpScroll: 0};
    case 'help.close':
      return {...state, helpOpen: false};
    case 'help.down':
      return {...state, helpScroll: scroll(1)};
    case 'help.up':
      return {...state, helpScroll: scroll(-1)};
    case 'help.pageDown':
      return {...state, helpScroll: scroll(helpPage)};
    case 'help.pageUp':
      return {...state, helpScroll: scroll(-helpPage)};
    default:
      return state;
  }
}

/** Who gets keys, most specific first: the help, else a dialog or editor, else the focused pane then global keys. */
function activeScopes(ui: UiState, capturing: Scope | undefined): Scope[] {
  if (ui.helpOpen) return ['help'];
  if (capturing) return EDITOR_SCOPES.includes(capturing) ? [capturing, 'editor'] : [capturing];
  return [ui.focus === 'instances' && ui.detailOpen ? 'log' : ui.focus, 'global'];
}

/** The capturing scope that has the keyboard: the first registered one in CAPTURING_SCOPES order. */
function capturingScope(registered: readonly Scope[]): Scope | undefined {
  return CAPTURING_SCOPES.find(scope => registered.includes(scope));
}

interface AppProps {
  deck: DeckView;
  /** Called on q / Ctrl-C; the caller unmounts and restores the terminal. */
  onQuit: () => void;
}

export function App({deck, onQuit}: AppProps) {
  const theme = useTheme();
  const {columns, rows} = useTerminalSize();
  const hasInstances = useModelSelector(deck.fleet, fleet => fleet.rows.length > 0 || fleet.creating.length > 0);
  const help = useMemo(() => helpLines(), []);
  const [ui, dispatch] = useReducer(uiReducer, {focus: 'offers', helpOpen: false, helpScroll: 0, detailOpen: false});
  const roomy = ui.focus === 'instances' || hasInstances;
  const layout = layoutFor(columns, rows, HELP_MAX_WIDTH, help.length, roomy);
  const helpPage = helpVisibleRows(layout.help.height);
  const maxHelpScroll = Math.max(0, help.length - helpPage);

  const handlers = useRef(new Map<Scope, CommandHandler>());
  const [capturingScopes, setCapturingScopes] = useState<readonly Scope[]>([]);
  const [dialog, setDialog] = useState<{spec: DialogSpec; id: number}>();
  const latest = useRef({ui, maxHelpScroll, helpPage, onQuit});
  latest.current = {ui, maxHelpScroll, helpPage, onQuit};

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
    return spec => {
      serial += 1;
      setDialog({spec, id: serial});
    };
  }, []);
  const actions = useFleetActions(deck, () => dispatch({focus: 'instances'}));
  const setDetailOpen = useCallback((open: boolean) => dispatch({detailOpen: open}), []);

  const onKey = useCallback((input: string, key: Key) => {
    const {ui: state, maxHelpScroll: maxScroll, helpPage: page, onQuit: quit} = latest.current;
    const open = capturingScope([...handlers.current.keys()]);
    const binding = findBinding(input, key, activeScopes(state, open));
    if (!binding) return;
    if (binding.command === 'app.quit') quit();
    else if (binding.scope === 'global' || binding.scope === 'help') dispatch({command: binding.command, maxHelpScroll: maxScroll, helpPage: page});
    else handlers.current.get(binding.scope === 'editor' && open ? open : binding.scope)?.(binding.command, input);
  }, []);
  useInput(onKey);

  // An open dialog takes the keyboard from this render on (its handler registers in an effect).
  const scopes = activeScopes(ui, dialog ? 'dialog' : capturingScope(capturingScopes));
  const helpScroll = Math.min(ui.helpScroll, maxHelpScroll);
  const {body} = layout;
  const showBottom = ui.detailOpen || layout.instances.height > 0;
  const overlay = (content: ReactNode) => (
    <Box position="absolute" width={body.width} height={body.height} justifyContent="center" alignItems="center">
      {content}
    </Box>
  );

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
          <Box flexDirection="column" width={body.width} height={body.height} flexShrink={0}>
            <Box display={ui.detailOpen ? 'none' : 'flex'} flexShrink={0}>
              <OffersPane deck={deck} actions={actions} focused={ui.focus === 'offers'} width={layout.offers.width} height={layout.offers.height} />
            </Box>
            <Box display={showBottom ? 'flex' : 'none'} flexDirection={ui.detailOpen ? 'column' : layout.bottomDirection} flexShrink={0}>
              <InstancesPane
                fleet={deck.fleet}
                actions={actions}
                focused={ui.focus === 'instances'}
                detailOpen={ui.detailOpen}
                onDetail={setDetailOpen}
                width={ui.detailOpen ? body.width : layout.instances.width}
                height={ui.detailOpen ? body.height : layout.instances.height}
              />
              <Box display={ui.detailOpen ? 'none' : 'flex'} flexShrink={0}>
                <QueuePane focused={ui.focus === 'queue'} width={layout.queue.width} height={layout.queue.height} />
              </Box>
            </Box>
            {ui.helpOpen ? overlay(<HelpOverlay width={layout.help.width} height={layout.help.height} scroll={helpScroll} />) : null}
            {dialog
              ? overlay(<Dialog key={dialog.id} spec={dialog.spec} width={body.width} maxHeight={body.height} onClose={() => setDialog(undefined)} />)
              : null}
          </Box>
          <StatusBar deck={deck} scopes={scopes} width={layout.width} />
        </Box>
      </DialogContext.Provider>
    </CommandRouterContext.Provider>
  );
}
