// The status lines at the bottom. First the DEMO/LIVE badge, then the latest message in its
// level's tone while it is fresh (else where we are connected), and the balance when known. A
// message that does not fit takes up to MAX_MESSAGE_ROWS rows, word-wrapped, so the path, id or
// reason at its end stays readable; a longer one ends with a pointer to the message log (m).
// The last line: the key hints of whatever has the keyboard, generated from its key table.
import {Box, Text} from 'ink';
import type {AccountSnapshot, DeckView, Message, MessageLevel} from '../../core/deck-types.js';
import {formatDuration} from '../../core/format.js';
import type {MoneySnapshot} from '../../core/money/money-model.js';
import {useKeyHints} from '../keys/Keyboard.js';
import {cellWidth, truncate, wrapWords} from './text-fit.js';
import {useModel} from './useModel.js';
import {useTheme, type Theme, type Tone} from './theme.js';
import {usd} from './money.js';

export const MAX_MESSAGE_ROWS = 3;
const BADGE_WIDTH = 7;
const MORE = ' … m shows all';

function levelTone(theme: Theme, level: MessageLevel): Tone {
  if (level === 'error') return theme.bad;
  if (level === 'warn') return theme.warn;
  return {};
}

/**
 * The money line (core/money): `$0.41/h · session $0.12 of $5.00 · balance $24.12 (2d10h)` — what the
 * account burns (while anything bills) and this session's spend and cap (once it spent, or has a cap),
 * the balance when known ('balance unknown' when its lookup failed) with how long it lasts at that
 * burn; nothing before any of them is known. Kept short: it shares the message line's first row.
 */
export function balanceText(account: AccountSnapshot, money?: MoneySnapshot): string | undefined {
  const parts: string[] = [];
  if (money?.known && money.burnUsdPerHour > 0) parts.push(`${usd(money.burnUsdPerHour)}/h`);
  if (money?.known && (money.sessionUsd > 0 || money.capUsd > 0)) parts.push(`session ${usd(money.sessionUsd)}${money.capUsd > 0 ? ` of ${usd(money.capUsd)}` : ''}`);
  if (account.balanceUsd !== undefined) parts.push(`balance ${usd(account.balanceUsd)}${money?.runwayHours === undefined ? '' : ` (${formatDuration(money.runwayHours * 3600)})`}`);
  else if (account.error !== undefined) parts.push('balance unknown');
  return parts.length > 0 ? parts.join(' · ') : undefined;
}

/** The message's rows for a status bar `width` wide (the badge and the balance take the first row's sides). */
export function messageLines(text: string, width: number, balance: string | undefined): string[] {
  const room = Math.max(10, width - BADGE_WIDTH - (balance ? cellWidth(balance) + 1 : 0));
  const lines = wrapWords(text, room);
  if (lines.length <= MAX_MESSAGE_ROWS) return lines.length > 0 ? lines : [''];
  const kept = lines.slice(0, MAX_MESSAGE_ROWS);
  kept[MAX_MESSAGE_ROWS - 1] = `${truncate(kept[MAX_MESSAGE_ROWS - 1]!, room - cellWidth(MORE))}${MORE}`;
  return kept;
}

interface StatusBarProps {
  deck: DeckView;
  /** The fresh message, if any (App decides, because it gives the status bar its rows). */
  message: Message | undefined;
  width: number;
}

export function StatusBar({deck, message, width}: StatusBarProps) {
  const theme = useTheme();
  const balance = balanceText(useModel(deck.account), useModel(deck.money));
  const hints = useKeyHints();
  const live = deck.mode === 'live';
  const lines = message ? messageLines(message.text, width, balance) : [deck.modeDetail];
  const tone = message ? levelTone(theme, message.level) : theme.muted;

  return (
    <Box flexDirection="column" width={width} height={lines.length + 1} flexShrink={0}>
      {lines.map((line, index) => (
        <Box key={index} height={1} width={width}>
          <Box flexShrink={0} width={BADGE_WIDTH}>
            {index === 0 ? <Text {...(live ? theme.badgeLive : theme.badgeDemo)}>{live ? ' LIVE ' : ' DEMO '}</Text> : null}
          </Box>
          <Box flexGrow={1} flexShrink={1} height={1} overflow="hidden">
            <Text wrap="truncate" {...tone}>
              {line}
            </Text>
          </Box>
          {balance && index === 0 ? (
            <Box flexShrink={0} marginLeft={1}>
              <Text>{balance}</Text>
            </Box>
          ) : null}
        </Box>
      ))}
      <Box height={1} width={width} overflow="hidden">
        <Text wrap="truncate">
          {hints.map((hint, index) => (
            <Text key={`${hint.keys}-${hint.label}`}>
              {index > 0 ? '  ' : ''}
              <Text {...theme.accent}>{hint.keys}</Text>
              <Text {...theme.muted}>{` ${hint.label}`}</Text>
            </Text>
          ))}
        </Text>
      </Box>
    </Box>
  );
}
