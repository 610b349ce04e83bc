// The `?` help overlay, generated from the keymap table (grouped by scope), so it lists exactly
// the bindings that exist; dangerous ones (they destroy or lose something) are marked ⚠ and drawn
// in the bad tone. It is drawn over the panes: every cell of its box is written (lines are
// padded with spaces), so nothing underneath shows through. Scrolls when the screen is short.
import {Box, Text} from 'ink';
import {bindingsByScope} from '../keymap.js';
import {fit} from './text-fit.js';
import {useTheme} from './theme.js';

export interface HelpLine {
  kind: 'group' | 'binding' | 'blank';
  keys: string;
  text: string;
  dangerous?: boolean;
}

const KEYS_WIDTH = 13;
/** Widest the overlay gets; narrower terminals get the full width. */
export const HELP_MAX_WIDTH = 72;

export function helpLines(): HelpLine[] {
  return bindingsByScope().flatMap((group, index) => [
    ...(index > 0 ? [{kind: 'blank' as const, keys: '', text: ''}] : []),
    {kind: 'group' as const, keys: '', text: group.title},
    ...group.bindings.map(binding => ({kind: 'binding' as const, keys: binding.keys, text: binding.description, dangerous: binding.dangerous === true})),
  ]);
}

/** Rows of help text that fit in a box of `height` (border, title line and footer excluded). */
export function helpVisibleRows(height: number): number {
  return Math.max(1, height - 4);
}

interface HelpOverlayProps {
  width: number;
  height: number;
  /** First help line shown; App clamps it with helpLines().length and helpVisibleRows. */
  scroll: number;
}

export function HelpOverlay({width, height, scroll}: HelpOverlayProps) {
  const theme = useTheme();
  const lines = helpLines();
  const rows = helpVisibleRows(height);
  const inner = Math.max(1, width - 2);
  const shown = lines.slice(scroll, scroll + rows);
  const more = lines.length > rows ? ` (${scroll + 1}–${Math.min(lines.length, scroll + rows)} of ${lines.length}, j/k or Space scroll)` : '';
  const border = theme.borderFocused;

  return (
    <Box flexDirection="column" width={width} height={height} borderStyle={border.style} borderColor={border.color} borderDimColor={border.dimColor} flexShrink={0}>
      <Text wrap="truncate" {...theme.accent}>{fit(` Keys${more}`, inner)}</Text>
      {Array.from({length: rows}, (_unused, index) => {
        const line = shown[index];
        if (!line || line.kind === 'blank') return <Text key={index}>{' '.repeat(inner)}</Text>;
        if (line.kind === 'group') return <Text key={index} bold>{fit(` ${line.text}`, inner)}</Text>;
        return (
          <Text key={index} wrap="truncate">
            <Text {...(line.dangerous ? theme.bad : theme.accent)}>{fit(`   ${line.keys}`, KEYS_WIDTH + 3)}</Text>
            <Text>{fit(` ${line.dangerous ? '⚠ ' : ''}${line.text}`, Math.max(0, inner - KEYS_WIDTH - 3))}</Text>
          </Text>
        );
      })}
      <Text {...theme.muted}>{fit(' Esc, ? or q closes this help.', inner)}</Text>
    </Box>
  );
}
