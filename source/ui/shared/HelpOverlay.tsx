// The `?` help overlay, generated from the views' key tables (one group per table), so it lists
// exactly the keys that exist; dangerous ones (they destroy or lose something) are marked ⚠ and
// drawn in the bad tone. The text-field keys every editor shares are listed once. It is drawn
// over the panes: every cell of its box is written (lines are padded with spaces), so nothing
// underneath shows through. It scrolls when the screen is short, and takes the keyboard while open.
import {Box, Text} from 'ink';
import {useKeyLayer} from '../keys/Keyboard.js';
import {keysLabel, type KeyAction, type KeyTable} from '../keys/key-table.js';
import {scrolledTop, scrollKeys, type ScrollContext} from './scroll-keys.js';
import {fit} from './text-fit.js';
import {EDITOR_KEYS} from './TextInput.js';
import {useStateRef} from './useStateRef.js';
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

const SHARED: ReadonlySet<KeyAction<never>> = new Set(EDITOR_KEYS);
export const EDITOR_TABLE: KeyTable<never> = {title: 'Every text field (filters, forms, the destroy confirmation)', actions: EDITOR_KEYS};

/** One group per table, in the order given; the shared text-field keys only in their own group. */
export function helpLines(tables: ReadonlyArray<KeyTable<never>>): HelpLine[] {
  return tables.flatMap((table, index) => {
    const actions = table === EDITOR_TABLE ? table.actions : table.actions.filter(action => !SHARED.has(action));
    return [
      ...(index > 0 ? [{kind: 'blank' as const, keys: '', text: ''}] : []),
      {kind: 'group' as const, keys: '', text: table.title},
      ...actions.map(action => ({kind: 'binding' as const, keys: keysLabel(action.keys), text: action.help, dangerous: action.dangerous === true})),
    ];
  });
}

/** Rows of help text that fit in a box of `height` (border, title line and footer excluded). */
export function helpVisibleRows(height: number): number {
  return Math.max(1, height - 4);
}

interface HelpKeyContext extends ScrollContext {
  close(): void;
}

export const HELP_KEYS: KeyTable<HelpKeyContext> = {
  title: 'This help',
  actions: [...scrollKeys(), {keys: ['escape', '?', 'q', 'f1'], label: 'close', help: 'Close the help', run: context => context.close(), switchesView: true}],
};

interface HelpOverlayProps {
  lines: readonly HelpLine[];
  width: number;
  height: number;
  onClose(): void;
}

export function HelpOverlay({lines, width, height, onClose}: HelpOverlayProps) {
  const theme = useTheme();
  const rows = helpVisibleRows(height);
  const maxScroll = Math.max(0, lines.length - rows);
  const [scroll, setScroll, scrollRef] = useStateRef(0);
  const top = Math.min(scroll, maxScroll);

  useKeyLayer(
    HELP_KEYS,
    {
      scroll: step => setScroll(scrolledTop(Math.min(scrollRef.current, maxScroll), step, rows, maxScroll)),
      close: onClose,
    },
    {kind: 'modal'},
  );

  const inner = Math.max(1, width - 2);
  const shown = lines.slice(top, top + rows);
  const more = lines.length > rows ? ` (${top + 1}–${Math.min(lines.length, top + rows)} of ${lines.length}, j/k or Space scroll)` : '';
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
