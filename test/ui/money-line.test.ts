// The money line in the status bar: burn, this session against its cap, the balance and how long it lasts.
import {describe, expect, it} from 'vitest';
import {balanceText} from '../../source/ui/shared/StatusBar.js';

const money = {burnUsdPerHour: 0.41, sessionUsd: 0.1234, sessionBurnUsdPerHour: 0.41, capUsd: 5, allTimeUsd: 3.2, known: true};

describe('the money line', () => {
  it('shows the burn, the session against its cap and the balance with its runway', () => {
    expect(balanceText({balanceUsd: 24.12}, {...money, balanceUsd: 24.12, runwayHours: 58.83})).toBe('$0.41/h · session $0.123 of $5.00 · balance $24.12 (2d10h)');
  });

  it('leaves out what is not known yet or zero, and says when the balance lookup failed', () => {
    expect(balanceText({}, {...money, known: false, capUsd: 0})).toBeUndefined();
    expect(balanceText({balanceUsd: 25}, {...money, burnUsdPerHour: 0, sessionUsd: 0, capUsd: 0})).toBe('balance $25.00');
    expect(balanceText({error: 'Vast.ai did not answer'}, {...money, capUsd: 0})).toBe('$0.41/h · session $0.123 · balance unknown');
  });
});
