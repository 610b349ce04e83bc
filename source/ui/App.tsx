// The dashboard: header, the Offers pane, the Instances and Queue panes, the status bar and the
// `?` help overlay. App is the single keyboard owner: one useInput looks the key up in the keymap
// and dispatches the named command to itself (focus, help, quit) or to the pane or editor that
// registered for its scope. Key handling reads refs and a reducer, never a stale closure.
import {Box, Text, useInput, type Key} from 'ink';
import {useCallback, useMemo, useReducer, useRef, useState} from 'react';
import type {DeckView} from '../core/deck-types.js';
import {HELP_MAX_WIDTH, HelpOverlay, helpLines, helpVisibleRows} from './components/HelpOverlay.js';
import {StatusBar} from './components/StatusBar.js';
import {CommandRouterContext, type CommandHandler, type CommandRouter} from './hooks/useCommands.js';
import {useTerminalSize} from './hooks/useTerminalSize.js';
import {CAPTURING_SCOPES, findBinding, type Command, type Scope} from './keymap.js';
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
}

type UiAction = {command: Command; maxHelpScroll: number};

function uiReducer(state: UiState, {command, maxHelpScroll}: UiAction): UiState {
  const step = (delta: number): PaneId => PANES[(PANES.indexOf(state.focus) + delta + PANES.length) % PANES.length]!;
  const scroll = (delta: number) => Math.min(maxHelpScroll, Math.max(0, state.helpScroll + delta));
  switch (command) {
    case 'pane.next':
      return {...state, focus: step(1)};
    case 'pane.previous':
      return {...state, focus: step(-1)};
    case 'pane.offers':
      return {...state, focus: 'offers'};
    case 'pane.instances':
      return {...state, focus: 'instances'};
    case 'pane.queue':
      return {...state, focus: 'queue'};
    case 'help.open':
      return {...state, helpOpen: true, helpScroll: 0};
    case 'help.close':
      return {...state, helpOpen: false};
    case 'help.down':
      return {...state, helpScroll: scroll(1)};
    case 'help.up':
      return {...state, helpScroll: scroll(-1)};
    default:
      return state;
  }
}

/** Who gets keys, most specific first: the help, else an open editor, else the focused pane then global keys. */
function activeScopes(ui: UiState, capturing: Scope | undefined): Scope[] {
  if (ui.helpOpen) return ['help'];
  if (capturing) return [capturing];
  return [ui.focus, 'global'];
}

interface AppProps {
  deck: DeckView;
  /** Called on q / Ctrl-C; the caller unmounts and restores the terminal. */
  onQuit: () => void;
}

export function App({deck, onQuit}: AppProps) {
  const theme = useTheme();
  const {columns, rows} = useTerminalSize();
  const help = useMemo(() => helpLines(), []);
  const layout = layoutFor(columns, rows, HELP_MAX_WIDTH, help.length);
  const maxHelpScroll = Math.max(0, help.length - helpVisibleRows(layout.help.height));

  const [ui, dispatch] = useReducer(uiReducer, {focus: 'offers', helpOpen: false, helpScroll: 0});
  const handlers = useRef(new Map<Scope, CommandHandler>());
  const [capturing, setCapturing] = useState<Scope | undefined>();
  const latest = useRef({ui, maxHelpScroll, onQuit});
  latest.current = {ui, maxHelpScroll, onQuit};

  const router = useMemo<CommandRouter>(
    () => ({
      register(scope, handler) {
        handlers.current.set(scope, handler);
        const captures = CAPTURING_SCOPES.includes(scope);
        if (captures) setCapturing(scope);
        return () => {
          if (handlers.current.get(scope) === handler) handlers.current.delete(scope);
          if (captures) setCapturing(current => (current === scope ? undefined : current));
        };
      },
    }),
    [],
  );

  const onKey = useCallback((input: string, key: Key) => {
    const {ui: state, maxHelpScroll: maxScroll, onQuit: quit} = latest.current;
    const open = CAPTURING_SCOPES.find(scope => handlers.current.has(scope));
    const binding = findBinding(input, key, activeScopes(state, open));
    if (!binding) return;
    if (binding.command === 'app.quit') quit();
    else if (binding.scope === 'global' || binding.scope === 'help') dispatch({command: binding.command, maxHelpScroll: maxScroll});
    else handlers.current.get(binding.scope)?.(binding.command, input);
  }, []);
  useInput(onKey);

  const scopes = activeScopes(ui, capturing);
  const helpScroll = Math.min(ui.helpScroll, maxHelpScroll);

  return (
    <CommandRouterContext.Provider value={router}>
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
        <Box flexDirection="column" width={layout.body.width} height={layout.body.height} flexShrink={0}>
          <OffersPane offers={deck.offers} focused={ui.focus === 'offers'} width={layout.offers.width} height={layout.offers.height} />
          {layout.instances.height > 0 ? (
            <Box flexDirection={layout.bottomDirection} flexShrink={0}>
              <InstancesPane focused={ui.focus === 'instances'} width={layout.instances.width} height={layout.instances.height} />
              <QueuePane focused={ui.focus === 'queue'} width={layout.queue.width} height={layout.queue.height} />
            </Box>
          ) : null}
          {ui.helpOpen ? (
            <Box position="absolute" width={layout.body.width} height={layout.body.height} justifyContent="center" alignItems="center">
              <HelpOverlay width={layout.help.width} height={layout.help.height} scroll={helpScroll} />
            </Box>
          ) : null}
        </Box>
        <StatusBar deck={deck} scopes={scopes} width={layout.width} />
      </Box>
    </CommandRouterContext.Provider>
  );
}
