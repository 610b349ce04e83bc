// Plain-text tables for the headless subcommands (`vastdeck offers`, `watch`, `down`, …):
// columns sized to their widest cell, numbers right-aligned, long cells cut with '…'.
// No colour and no terminal queries, so the output is the same in a pipe or a CI log.

export interface TextColumn<Row> {
  header: string;
  value: (row: Row) => string;
  /** Defaults to 'left'; use 'right' for figures. */
  align?: 'left' | 'right';
  /** Longer cells (and headers) are cut to this many characters, ending in '…'. */
  maxWidth?: number;
}

/** The table as lines: a header line, then one line per row; no trailing spaces. */
export function formatTextTable<Row>(columns: readonly TextColumn<Row>[], rows: readonly Row[], gap = 2): string[] {
  const cells = [
    columns.map(column => cut(column.header, column.maxWidth)),
    ...rows.map(row => columns.map(column => cut(column.value(row), column.maxWidth))),
  ];
  const widths = columns.map((_, index) => Math.max(...cells.map(line => width(line[index] ?? ''))));
  return cells.map(line =>
    line
      .map((cell, index) => {
        const padding = ' '.repeat((widths[index] ?? 0) - width(cell));
        return columns[index]?.align === 'right' ? padding + cell : cell + padding;
      })
      .join(' '.repeat(gap))
      .trimEnd(),
  );
}

/** Characters as the terminal counts them for the text we print (code points, no wide glyphs). */
function width(text: string): number {
  return [...text].length;
}

function cut(text: string, maxWidth: number | undefined): string {
  if (maxWidth === undefined || width(text) <= maxWidth) return text;
  return [...text].slice(0, Math.max(0, maxWidth - 1)).join('') + '…';
}
