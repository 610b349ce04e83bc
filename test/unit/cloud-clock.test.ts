// The cloud's clock from whole-second Date headers: a few answers at different sub-second phases pin
// it to tens of milliseconds, at rate 1 (a real clock) and at a simulator's rate of 10.
import {describe, expect, it} from 'vitest';
import {CloudClock} from '../../source/core/vast/cloud-clock.js';

/** Answers to requests sent at `sentAt` (local ms) taking `latencyMs`, from a cloud at `offsetMs + rate × local`. */
function feed(clock: CloudClock, cloud: (localMs: number) => number, sentAt: number[], latencyMs = 4): void {
  for (const sent of sentAt) {
    const stamped = sent + latencyMs / 2;
    const header = new Date(Math.floor(cloud(stamped) / 1000) * 1000).toUTCString();
    clock.observe(header, sent + latencyMs, sent);
  }
}

describe('the cloud clock', () => {
  it('is this machine’s clock until an answer comes, ignores answers without a Date', () => {
    const clock = new CloudClock();
    clock.observe(undefined, 5000);
    clock.observe('not a date', 5000);
    expect(clock.known).toBe(false);
    expect(clock.now(123_456)).toBe(123_456);
  });

  it('at rate 1 narrows a 1 s header to within 50 ms after answers at different phases', () => {
    const clock = new CloudClock();
    const base = 1_700_000_000_000;
    const cloud = (local: number): number => local + 37_250; // the cloud is 37.25 s ahead
    // Polls 5 s apart with the jitter a busy machine has (sub-second phases spread over the second).
    feed(clock, cloud, [0, 5_130, 10_270, 15_410, 20_580, 25_690, 30_820, 35_960, 41_040, 46_310].map(ms => base + ms));
    expect(clock.rate()).toBe(1);
    const local = base + 50_000;
    expect(Math.abs(clock.now(local) - cloud(local))).toBeLessThan(50);
  });

  it('measures a simulator’s rate of 10 and keeps its error well under a simulated second', () => {
    const clock = new CloudClock();
    const base = 1_700_000_000_000;
    const epoch = 1_800_000_000_000;
    const cloud = (local: number): number => epoch + (local - base) * 10;
    feed(clock, cloud, [0, 520, 1_070, 1_610, 2_180, 2_690, 3_230, 3_790, 4_310, 4_860, 5_400, 5_930].map(ms => base + ms));
    expect(clock.rate()).toBeGreaterThan(9.8);
    expect(clock.rate()).toBeLessThan(10.2);
    const local = base + 6_400;
    expect(Math.abs(clock.now(local) - cloud(local))).toBeLessThan(400);
  });
});
