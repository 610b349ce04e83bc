// Where everything goes for a terminal size: header line, the Offers pane on top, Instances and
// Queue side by side below it (stacked and shortened when narrow), and the two status lines.
// The whole thing is rows - 1 tall: at exactly `rows` Ink clears the terminal on every frame.

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
const STACKED_PANE_ROWS = 3;
const MIN_OFFERS_ROWS = 6;

export function layoutFor(columns: number, rows: number, helpWidth: number, helpLines: number): Layout {
  const width = Math.max(20, columns);
  const height = Math.max(8, rows - 1);
  const body = {width, height: height - HEADER_ROWS - STATUS_ROWS};
  const sideBySide = width >= SIDE_BY_SIDE_MIN_COLUMNS;

  let bottom = sideBySide ? Math.min(12, Math.max(4, Math.floor(body.height * 0.28))) : 2 * STACKED_PANE_ROWS;
  // A short terminal gives the bottom panes up first: the offer list is what the user came for.
  bottom = Math.max(0, Math.min(bottom, body.height - MIN_OFFERS_ROWS));
  if (bottom < (sideBySide ? STACKED_PANE_ROWS : 2 * STACKED_PANE_ROWS)) bottom = 0;
  const offers = {width, height: body.height - bottom};

  const half = Math.floor(width / 2);
  const instances = sideBySide ? {width: half, height: bottom} : {width, height: Math.ceil(bottom / 2)};
  const queue = sideBySide ? {width: width - half, height: bottom} : {width, height: Math.floor(bottom / 2)};
  const help = {width: Math.min(helpWidth, width), height: Math.min(body.height, helpLines + 4)};

  return {width, height, body, offers, bottomDirection: sideBySide ? 'row' : 'column', instances, queue, help};
}
