// alignedInterval ticks on whole multiples of its interval since the epoch, so the dashboard's
// once-a-second clocks (labels, money line, policies) change in one frame, not one frame each.
import {afterEach, describe, expect, it, vi} from 'vitest';
import {alignedInterval} from '../../source/core/clock.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('alignedInterval', () => {
  it('ticks on the whole seconds whenever it was started, two timers together, until stopped', () => {
    vi.useFakeTimers({now: 1_800_000_000_300});
    const a: number[] = [];
    const b: number[] = [];
    const stopA = alignedInterval(1000, () => a.push(Date.now() % 1000));
    vi.advanceTimersByTime(450);
    const stopB = alignedInterval(1000, () => b.push(Date.now() % 1000));
    vi.advanceTimersByTime(3000);
    expect(a).toEqual([0, 0, 0]);
    expect(b).toEqual([0, 0, 0]);
    stopA();
    stopB();
    vi.advanceTimersByTime(5000);
    expect(a).toHaveLength(3);
    expect(b).toHaveLength(3);
  });
});
