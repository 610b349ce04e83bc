// The message log (m, like k9s' :events): every message of the session in full, oldest first,
// each with its time and level, word-wrapped to the width so no path, id or reason is cut. It
// opens at the newest messages and scrolls; it takes the keyboard while open.
import {Box, Text} from 'ink';
import type {Message, MessageSnapshot, ModelView} from '../../core/deck-types.js';
import {useKeyLayer} from '../keys/Keyboard.js';
import type {KeyTable} from '../keys/key-table.js';
import {scrolledTop, scrollKeys, type ScrollContext} from './scroll-keys.js';
import {fit, wrapWords} from './text-fit.js';
import {useModel} from './useModel.js';
import {useStateRef} from './useStateRef.js';
import {useTheme, type Theme, type Tone} from './theme.js';

const TIME_WIDTH = 9;

interface MessageKeyContext extends ScrollContext {
  close(): void;
}

export const MESSAGE_KEYS: KeyTable<MessageKeyContext> = {
  title: 'Message log (m; g the oldest, G the newest)',
  actions: [...scrollKeys({ends: true}), {keys: ['escape', 'm', 'q'], label: 'close', help: 'Close the message log', run: context => context.close(), switchesView: true}],
};

function clock(atMs: number): string {
  const at = new Date(atMs);
  return [at.getHours(), at.getMinutes(), at.getSeconds()].map(part => String(part).padStart(2, '0')).join(':');
}

function levelTone(theme: Theme, message: Message): Tone {
  if (message.level === 'error') return theme.bad;
  if (message.level === 'warn') return theme.warn;
  return {};
}

/** Each message as screen rows: the time on its first row, the text wrapped under itself. */
export function messageRows(log: readonly Message[], width: number): Array<{time: string; text: string; message: Message}> {
  const room = Math.max(10, width - TIME_WIDTH);
  return log.flatMap(message => wrapWords(message.text, room).map((text, index) => ({time: index === 0 ? clock(message.atMs) : '', text, message})));
}

interface MessageLogProps {
  messages: ModelView<MessageSnapshot>;
  width: number;
  height: number;
  onClose(): void;
}

export function MessageLog({messages, width, height, onClose}: MessageLogProps) {
  const theme = useTheme();
  const {history: log} = useModel(messages);
  // Every cell inside the border is written (no padding left undrawn), so nothing shows through.
  const inner = Math.max(10, width - 2);
  const textWidth = inner - 2;
  const rows = Math.max(1, height - 3);
  const all = messageRows(log, textWidth);
  const maxTop = Math.max(0, all.length - rows);
  // undefined: follow the newest messages.
  const [top, setTop, topRef] = useStateRef<number | undefined>(undefined);
  const start = top === undefined ? maxTop : Math.min(top, maxTop);

  useKeyLayer(
    MESSAGE_KEYS,
    {
      scroll: step => {
        const to = scrolledTop(topRef.current === undefined ? maxTop : Math.min(topRef.current, maxTop), step, rows, maxTop);
        setTop(to >= maxTop ? undefined : to);
      },
      close: onClose,
    },
    {kind: 'modal'},
  );

  const border = theme.borderFocused;
  const where = all.length > rows ? ` · rows ${start + 1}–${start + rows} of ${all.length}` : '';
  return (
    <Box flexDirection="column" width={width} height={height} borderStyle={border.style} borderColor={border.color} borderDimColor={border.dimColor} flexShrink={0}>
      <Text wrap="truncate" {...theme.accent}>{fit(` Messages · ${log.length} this session${where} · Esc closes`, inner)}</Text>
      {Array.from({length: rows}, (_unused, index) => {
        const row = all[start + index];
        if (!row) return <Text key={index} {...theme.muted}>{fit(index === 0 && log.length === 0 ? ' No messages yet.' : '', inner)}</Text>;
        return (
          <Text key={index} wrap="truncate">
            <Text {...theme.muted}>{fit(` ${row.time}`, TIME_WIDTH + 1)}</Text>
            <Text {...levelTone(theme, row.message)}>{fit(row.text, inner - TIME_WIDTH - 1)}</Text>
          </Text>
        );
      })}
    </Box>
  );
}
