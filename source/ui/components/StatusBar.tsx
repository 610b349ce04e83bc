// The two status lines at the bottom. Line one: the DEMO/LIVE badge, then the latest message in
// its level's tone while it is fresh (else where we are connected), and the money line: what the
// account burns per hour, this session's spend against its cap, and the balance (core/money).
// Line two: the key hints of whatever has the keyboard, generated from the keymap.
import {Box, Text} from 'ink';
import type {AccountSnapshot, DeckView, MessageLevel} from '../../core/deck-types.js';
import {formatDuration, formatUsd} from '../../core/format.js';
import type {MoneySnapshot} from '../../core/money/money-model.js';
import {useFreshMessage} from '../hooks/useFreshMessage.js';
import {useModel} from '../hooks/useModel.js';
import {hintsFor, type Scope} from '../keymap.js';
import {useTheme, type Theme, type Tone} from '../theme.js';

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

/**
 * `$0.41/h · session $0.12 of $5.00 · balance $24.12 (58h)`: the burn and the session once the
 * account was listed, the cap when there is one, the balance when known ('balance unknown' when its
 * lookup failed) with how long it lasts at the burn.
 */
export function moneyText(money: MoneySnapshot, account: AccountSnapshot): string | undefined {
  const parts: string[] = [];
  if (money.known) {
    parts.push(`${formatUsd(money.burnUsdPerHour)}/h`);
    parts.push(`session ${formatUsd(money.sessionUsd)}${money.capUsd > 0 ? ` of ${formatUsd(money.capUsd)}` : ''}`);
  }
  if (account.balanceUsd !== undefined) parts.push(`balance ${formatUsd(account.balanceUsd)}${money.runwayHours === undefined ? '' : ` (${formatDuration(money.runwayHours * 3600)})`}`);
  else if (account.error !== undefined) parts.push('balance unknown');
  return parts.length > 0 ? parts.join(' · ') : undefined;
}

export function StatusBar({deck, scopes, width}: StatusBarProps) {
  const theme = useTheme();
  const message = useFreshMessage(deck.messages);
  const balance = moneyText(useModel(deck.money), useModel(deck.account));
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
