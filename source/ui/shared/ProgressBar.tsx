// A one-line progress bar (█ filled, ░ empty) with an optional percentage, for download and
// generation progress in the Instances and Queue panes. In a table cell the bar takes a width
// that depends only on the cell's (barCells), so it never changes with the text beside it.
import {Text} from 'ink';
import {useTheme} from './theme.js';

/** The bar's share of a table cell `width` wide: the same for every row and every text. */
export function barCells(width: number): number {
  return Math.max(4, Math.min(12, Math.floor(width * 0.4)));
}

interface ProgressBarProps {
  /** 0..1; values outside are clamped. */
  fraction: number;
  /** Cells for the bar itself, not counting the percentage. */
  width: number;
  showPercent?: boolean;
}

export function ProgressBar({fraction, width, showPercent = true}: ProgressBarProps) {
  const theme = useTheme();
  const clamped = Number.isFinite(fraction) ? Math.min(1, Math.max(0, fraction)) : 0;
  const filled = Math.round(clamped * Math.max(0, width));
  return (
    <Text wrap="truncate">
      <Text {...theme.good}>{'█'.repeat(filled)}</Text>
      <Text {...theme.muted}>{'░'.repeat(Math.max(0, width - filled))}</Text>
      {showPercent ? <Text>{` ${Math.floor(clamped * 100)}%`.padStart(5)}</Text> : null}
    </Text>
  );
}
