// Where everything goes for a terminal size: header line, the Offers pane on top, Instances and
// Queue side by side below it (stacked and shortened when narrow), and the two status lines.
// Once there are instances to watch (or the Instances pane has focus) the bottom row takes half
// the height and Instances the wider part of it (the full width, over Queue, below 100 columns). The whole thing is rows - 1 tall: at exactly
// `rows` Ink clears the terminal on every frame.

export interface Rect {
  width: number;
  height: number;
}

export interface Layout {
  width: number;
  height: number;
  body: Rect;
  offers: Rect;
  /** 'row' = Instances and Queue side by side. */
  bottomDirection: 'row' | 'column';
  instances: Rect;
  queue: Rect;
  help: Rect;
}

export const HEADER_ROWS = 1;
export const STATUS_ROWS = 2;
const SIDE_BY_SIDE_MIN_COLUMNS = 70;
/** Below this the Instances table needs the full width, so a roomy bottom row stacks. */
const ROOMY_SIDE_BY_SIDE_MIN_COLUMNS = 100;
const STACKED_PANE_ROWS = 3;
const MIN_OFFERS_ROWS = 6;

/** `roomyInstances`: give the Instances pane half the height and the wider share. */
export function layoutFor(columns: number, rows: number, helpWidth: number, helpLines: number, roomyInstances = false): Layout {
  const width = Math.max(20, columns);
  const height = Math.max(8, rows - 1);
  const body = {width, height: height - HEADER_ROWS - STATUS_ROWS};
  const sideBySide = width >= (roomyInstances ? ROOMY_SIDE_BY_SIDE_MIN_COLUMNS : SIDE_BY_SIDE_MIN_COLUMNS);

  const half = Math.floor(body.height / 2);
  let bottom = sideBySide ? (roomyInstances ? half : Math.min(12, Math.max(4, Math.floor(body.height * 0.28)))) : Math.max(2 * STACKED_PANE_ROWS, roomyInstances ? half : 0);
  // A short terminal gives the bottom panes up first: the offer list is what the user came for.
  bottom = Math.max(0, Math.min(bottom, body.height - MIN_OFFERS_ROWS));
  if (bottom < (sideBySide ? STACKED_PANE_ROWS : 2 * STACKED_PANE_ROWS)) bottom = 0;
  const offers = {width, height: body.height - bottom};

  const instancesWidth = roomyInstances ? Math.round(width * 0.65) : Math.floor(width / 2);
  const stackedInstances = roomyInstances ? bottom - STACKED_PANE_ROWS : Math.ceil(bottom / 2);
  const instances = sideBySide ? {width: instancesWidth, height: bottom} : {width, height: stackedInstances};
  const queue = sideBySide ? {width: width - instancesWidth, height: bottom} : {width, height: bottom - stackedInstances};
  const help = {width: Math.min(helpWidth, width), height: Math.min(body.height, helpLines + 4)};

  return {width, height, body, offers, bottomDirection: sideBySide ? 'row' : 'column', instances, queue, help};
}
