// The dashboard's own state (not the cloud's): which pane has focus, whether the help is open and
// scrolled, and which detail view (an instance's log or a job's detail) takes the whole body.
// App keeps it in a reducer so key handlers never read a stale copy; activeScopes says which
// keymap scopes get the keys in that state.
import {CAPTURING_SCOPES, EDITOR_SCOPES, type Command, type Scope} from './keymap.js';

export const PANES = ['offers', 'instances', 'queue'] as const;
export type PaneId = (typeof PANES)[number];

/** 'instance': the selected instance's stages and log; 'job': the selected job's detail. */
export type DetailView = 'instance' | 'job';

export interface UiState {
  focus: PaneId;
  helpOpen: boolean;
  helpScroll: number;
  detail?: DetailView;
}

export type UiAction = {command: Command; maxHelpScroll: number; helpPage: number} | {focus: PaneId} | {detail: DetailView | undefined};

export const INITIAL_UI: UiState = {focus: 'offers', helpOpen: false, helpScroll: 0};

export function uiReducer(state: UiState, action: UiAction): UiState {
  if ('focus' in action) return {...state, focus: action.focus, detail: undefined};
  if ('detail' in action) return {...state, detail: action.detail};
  const {command, maxHelpScroll, helpPage} = action;
  const step = (delta: number): PaneId => PANES[(PANES.indexOf(state.focus) + delta + PANES.length) % PANES.length]!;
  const scroll = (delta: number) => Math.min(maxHelpScroll, Math.max(0, state.helpScroll + delta));
  switch (command) {
    case 'pane.next':
      return {...state, focus: step(1), detail: undefined};
    case 'pane.previous':
      return {...state, focus: step(-1), detail: undefined};
    case 'pane.offers':
      return {...state, focus: 'offers', detail: undefined};
    case 'pane.instances':
      return {...state, focus: 'instances', detail: undefined};
    case 'pane.queue':
      return {...state, focus: 'queue', detail: undefined};
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

/** Who gets keys, most specific first: the help, else a dialog or editor, else the focused pane (or its detail view) then global keys. */
export function activeScopes(ui: UiState, capturing: Scope | undefined): Scope[] {
  if (ui.helpOpen) return ['help'];
  if (capturing) return EDITOR_SCOPES.includes(capturing) ? [capturing, 'editor'] : [capturing];
  if (ui.detail === 'instance' && ui.focus === 'instances') return ['log', 'global'];
  if (ui.detail === 'job' && ui.focus === 'queue') return ['job', 'global'];
  return [ui.focus, 'global'];
}

/** The capturing scope that has the keyboard: the first registered one in CAPTURING_SCOPES order. */
export function capturingScope(registered: readonly Scope[]): Scope | undefined {
  return CAPTURING_SCOPES.find(scope => registered.includes(scope));
}

/** The bottom pane that gets the room: the focused one, else Instances once there are any, else Queue once it has jobs. */
export function roomyPane(focus: PaneId, hasInstances: boolean, hasJobs: boolean): 'instances' | 'queue' | undefined {
  if (focus === 'instances' || focus === 'queue') return focus;
  if (hasInstances) return 'instances';
  return hasJobs ? 'queue' : undefined;
}
