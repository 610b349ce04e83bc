// Our own windowed table (ink-table cannot load under Ink 6). It renders only the rows that fit,
// keeps the selected row inside that window, drops low-priority columns when the width is short,
// and truncates every cell with '…' so nothing ever wraps. Each row is one <Text>: cheap to draw.
// A column may draw its cell itself (a spinner, a progress bar) in exactly its width.
import {Box, Text} from 'ink';
import {Fragment, useRef, type ReactNode} from 'react';
import {fit} from './text-fit.js';
import {useTheme, type Tone} from './theme.js';

interface ColumnLayout {
  key: string;
  header: string;
  /** Minimum width in cells. */
  width: number;
  align?: 'left' | 'right';
  /** 0 = always shown; higher numbers are dropped first when the table is too narrow. */
  priority: number;
  /** Takes a share of any spare width. */
  grow?: boolean;
}

/** A column shows `format`'s text fitted to its width, or draws `cell` (exactly `width` cells wide). */
export type Column<T> = ColumnLayout & ({format(row: T): string; cell?: never} | {cell(row: T, width: number): ReactNode; format?: never});

interface TableProps<T> {
  columns: ReadonlyArray<Column<T>>;
  rows: readonly T[];
  rowKey(row: T): string | number;
  /** -1 when nothing is selected. */
  selectedIndex: number;
  /** Visible data rows (the header comes on top of these). */
  height: number;
  width: number;
  /** Tone of a whole row (new, changed, vanished …); the selected row is also drawn inverse. */
  rowTone?(row: T): Tone;
  /** Column key whose header is highlighted (the sort key). */
  highlightColumn?: string;
}

const GAP = 1;

/** The columns that fit in `width`, widest-first by priority, with spare width given to `grow` columns. */
export function fitColumns<T>(columns: ReadonlyArray<Column<T>>, width: number): Array<Column<T>> {
  let kept = [...columns];
  const total = (list: ReadonlyArray<Column<T>>) => list.reduce((sum, column) => sum + column.width, 0) + GAP * Math.max(0, list.length - 1);
  while (kept.length > 1 && total(kept) > width) {
    const drop = kept.reduce((worst, column) => (column.priority >= worst.priority ? column : worst));
    kept = kept.filter(column => column !== drop);
  }
  const growing = kept.filter(column => column.grow);
  const spare = Math.max(0, width - total(kept));
  if (growing.length === 0 || spare === 0) return kept;
  const share = Math.floor(spare / growing.length);
  let remainder = spare - share * growing.length;
  return kept.map(column => {
    if (!column.grow) return column;
    const extra = share + (remainder > 0 ? 1 : 0);
    remainder = Math.max(0, remainder - 1);
    return {...column, width: column.width + extra};
  });
}

/** First visible row: the previous start when the selection is still inside, else the nearest start that shows it. */
export function windowStart(previousStart: number, selectedIndex: number, height: number, total: number): number {
  if (total <= height || height <= 0) return 0;
  let start = Math.min(Math.max(0, previousStart), total - height);
  if (selectedIndex < 0) return start;
  if (selectedIndex < start) start = selectedIndex;
  else if (selectedIndex >= start + height) start = selectedIndex - height + 1;
  return start;
}

export function Table<T>({columns, rows, rowKey, selectedIndex, height, width, rowTone, highlightColumn}: TableProps<T>) {
  const theme = useTheme();
  const startRef = useRef(0);
  const start = windowStart(startRef.current, selectedIndex, height, rows.length);
  startRef.current = start;

  const shown = fitColumns(columns, width);
  const visible = rows.slice(start, start + Math.max(0, height));

  return (
    <Box flexDirection="column" width={width} flexShrink={0}>
      <Text wrap="truncate">
        {shown.map((column, index) => (
          <Text key={column.key} {...(column.key === highlightColumn ? theme.accent : theme.muted)}>
            {(index > 0 ? ' '.repeat(GAP) : '') + fit(column.header, column.width, column.align)}
          </Text>
        ))}
      </Text>
      {visible.map((row, offset) => {
        const selected = start + offset === selectedIndex;
        const tone = rowTone?.(row) ?? {};
        return (
          <Text key={rowKey(row)} wrap="truncate" {...tone} inverse={selected || tone.inverse}>
            {shown.map((column, index) => (
              <Fragment key={column.key}>
                {index > 0 ? ' '.repeat(GAP) : ''}
                {column.cell ? column.cell(row, column.width) : fit(column.format(row), column.width, column.align)}
              </Fragment>
            ))}
          </Text>
        );
      })}
    </Box>
  );
}
