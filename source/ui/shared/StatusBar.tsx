// The two status lines at the bottom. Line one: the DEMO/LIVE badge, then the latest message in
// its level's tone while it is fresh (else where we are connected), and the balance when known.
// Line two: the key hints of whatever has the keyboard, generated from the keymap.
import {Box, Text} from 'ink';
import type {AccountSnapshot, DeckView, MessageLevel} from '../../core/deck-types.js';
import {formatUsd} from '../../core/format.js';
import {useFreshMessage} from './useFreshMessage.js';
import {useModel} from './useModel.js';
import {hintsFor, type Scope} from '../keymap.js';
import {useTheme, type Theme, type Tone} from './theme.js';

interface StatusBarProps {
  deck: DeckView;
  /** Scopes that receive keys right now, most specific first. */
  scopes: readonly Scope[];
  width: number;
}

function levelTone(theme: Theme, level: MessageLevel): Tone {
  if (level === 'error') return theme.bad;
  if (level === 'warn') return theme.warn;
  return {};
}

/** The balance when known; 'balance unknown' when the last lookup failed; nothing before the first. */
function balanceText(account: AccountSnapshot): string | undefined {
  if (account.balanceUsd !== undefined) return `balance ${formatUsd(account.balanceUsd)}`;
  return account.error === undefined ? undefined : 'balance unknown';
}

export function StatusBar({deck, scopes, width}: StatusBarProps) {
  const theme = useTheme();
  const message = useFreshMessage(deck.messages);
  const balance = balanceText(useModel(deck.account));
  const live = deck.mode === 'live';

  return (
    <Box flexDirection="column" width={width} height={2} flexShrink={0}>
      <Box height={1} width={width}>
        <Box flexShrink={0}>
          <Text {...(live ? theme.badgeLive : theme.badgeDemo)}>{live ? ' LIVE ' : ' DEMO '}</Text>
          <Text> </Text>
        </Box>
        <Box flexGrow={1} flexShrink={1} height={1} overflow="hidden">
          {message ? (
            <Text wrap="truncate" {...levelTone(theme, message.level)}>{message.text}</Text>
          ) : (
            <Text wrap="truncate" {...theme.muted}>{deck.modeDetail}</Text>
          )}
        </Box>
        {balance ? (
          <Box flexShrink={0} marginLeft={1}>
            <Text>{balance}</Text>
          </Box>
        ) : null}
      </Box>
      <Box height={1} width={width} overflow="hidden">
        <Text wrap="truncate">
          {hintsFor(scopes).map((hint, index) => (
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
