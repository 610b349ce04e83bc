// Where everything goes for a terminal size: header line (and the auto-destroy banner while one
// counts down), the Offers pane on top, Instances and Queue side by side below it (stacked and
// shortened when narrow), and the two status lines. Once there is something to watch (or a bottom
// pane has focus) the bottom row takes half the height, and the roomy pane (Instances or Queue)
// the wider part of it (most of the height, stacked, below 100 columns). The whole thing is
// rows - 1 tall: at exactly `rows` Ink clears the terminal on every frame. A long message grows
// the status bar by up to two rows, taken from the body.

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

export interface LayoutOptions {
  /** The bottom pane that gets half the height and the wider share; none keeps the bottom row short. */
  roomy?: 'instances' | 'queue';
  /** Rows of banner under the header (the auto-destroy countdown). */
  bannerRows?: number;
  /** Rows of the status bar: the message (1 to 3 rows) and the key hints (default 2). */
  statusRows?: number;
}

export function layoutFor(columns: number, rows: number, helpWidth: number, helpLines: number, options: LayoutOptions = {}): Layout {
  const {roomy, bannerRows = 0, statusRows = STATUS_ROWS} = options;
  const roomyBottom = roomy !== undefined;
  const width = Math.max(20, columns);
  const height = Math.max(8, rows - 1);
  const body = {width, height: height - HEADER_ROWS - bannerRows - statusRows};
  const sideBySide = width >= (roomyBottom ? ROOMY_SIDE_BY_SIDE_MIN_COLUMNS : SIDE_BY_SIDE_MIN_COLUMNS);

  const half = Math.floor(body.height / 2);
  let bottom = sideBySide ? (roomyBottom ? half : Math.min(12, Math.max(4, Math.floor(body.height * 0.28)))) : Math.max(2 * STACKED_PANE_ROWS, roomyBottom ? half : 0);
  // A short terminal gives the bottom panes up first: the offer list is what the user came for.
  bottom = Math.max(0, Math.min(bottom, body.height - MIN_OFFERS_ROWS));
  if (bottom < (sideBySide ? STACKED_PANE_ROWS : 2 * STACKED_PANE_ROWS)) bottom = 0;
  const offers = {width, height: body.height - bottom};

  const roomyWidth = Math.round(width * 0.65);
  const instancesWidth = roomy === 'instances' ? roomyWidth : roomy === 'queue' ? width - roomyWidth : Math.floor(width / 2);
  const stackedInstances = roomy === 'instances' ? bottom - STACKED_PANE_ROWS : roomy === 'queue' ? STACKED_PANE_ROWS : Math.ceil(bottom / 2);
  const instances = sideBySide ? {width: instancesWidth, height: bottom} : {width, height: stackedInstances};
  const queue = sideBySide ? {width: width - instancesWidth, height: bottom} : {width, height: bottom - stackedInstances};
  const help = {width: Math.min(helpWidth, width), height: Math.min(body.height, helpLines + 4)};

  return {width, height, body, offers, bottomDirection: sideBySide ? 'row' : 'column', instances, queue, help};
}
