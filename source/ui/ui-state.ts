// The dashboard's own state (not the cloud's): which pane has focus, which overlay is open (the
// help or the message log), and which detail view (an instance's log or a job's detail) takes the
// whole body. App keeps it in a reducer, so key handlers never read a stale copy.

export const PANES = ['offers', 'instances', 'queue'] as const;
export type PaneId = (typeof PANES)[number];

/** 'instance': the selected instance's stages and log; 'job': the selected job's detail. */
export type DetailView = 'instance' | 'job';

export type Overlay = 'help' | 'messages';

export interface UiState {
  focus: PaneId;
  overlay?: Overlay;
  detail?: DetailView;
}

export type UiAction = {focus: PaneId} | {step: 1 | -1} | {detail: DetailView | undefined} | {overlay: Overlay | undefined};

export const INITIAL_UI: UiState = {focus: 'offers'};

export function uiReducer(state: UiState, action: UiAction): UiState {
  if ('focus' in action) return {...state, focus: action.focus, detail: undefined};
  if ('step' in action) return {...state, focus: PANES[(PANES.indexOf(state.focus) + action.step + PANES.length) % PANES.length]!, detail: undefined};
  if ('detail' in action) return {...state, detail: action.detail};
  return {...state, overlay: action.overlay};
}

/** The bottom pane that gets the room: the focused one, else Instances once there are any, else Queue once it has jobs. */
export function roomyPane(focus: PaneId, hasInstances: boolean, hasJobs: boolean): 'instances' | 'queue' | undefined {
  if (focus === 'instances' || focus === 'queue') return focus;
  if (hasInstances) return 'instances';
  return hasJobs ? 'queue' : undefined;
}
