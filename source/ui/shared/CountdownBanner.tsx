// The one line under the header while an auto-destroy policy counts down: how long is left, why,
// and the key that stops it. It ticks on its own (useNow), so only this line redraws each second.
import {Box, Text} from 'ink';
import type {PoliciesController, PoliciesSnapshot} from '../../core/deck-types.js';
import {useModel} from './useModel.js';
import {useNow} from './useNow.js';
import {useTheme} from './theme.js';

type Countdown = NonNullable<PoliciesSnapshot['countdown']>;

function countdownText(countdown: Countdown, nowMs: number): string {
  const seconds = Math.ceil((countdown.endsAtMs - nowMs) / 1000);
  if (seconds <= 0) return ` Auto-destroying now: ${countdown.reason}`;
  return ` Auto-destroy in ${seconds} s: ${countdown.reason} — press X to cancel`;
}

/** Nothing unless a countdown runs (App gives it a row only then). */
export function CountdownBanner({policies, width}: {policies: PoliciesController; width: number}) {
  const countdown = useModel(policies).countdown;
  return countdown ? <CountdownLine countdown={countdown} width={width} /> : null;
}

function CountdownLine({countdown, width}: {countdown: Countdown; width: number}) {
  const theme = useTheme();
  const nowMs = useNow(500);
  return (
    <Box height={1} width={width} flexShrink={0} overflow="hidden">
      <Text wrap="truncate" {...theme.warn} bold inverse>
        {countdownText(countdown, nowMs).padEnd(width)}
      </Text>
    </Box>
  );
}
