// The current time for labels like "updated 3s ago" and uptimes, refreshed every `intervalMs`.
// Every component asking for the same interval shares ONE timer, and its ticks are delivered on
// the frame clock, so they land in the same frame as model updates instead of adding their own.
// The timers tick on the wall clock's whole seconds (as the money model's does), so clocks of
// different intervals and the money line fall into one frame rather than one frame each.
import {useEffect, useState} from 'react';
import {alignedInterval} from '../../core/clock.js';
import {onNextFrame} from './frame-clock.js';

interface Clock {
  stop: () => void;
  listeners: Set<(now: number) => void>;
}


const clocks = new Map<number, Clock>();

function subscribe(intervalMs: number, listener: (now: number) => void): () => void {
  let clock = clocks.get(intervalMs);
  if (!clock) {
    const listeners = new Set<(now: number) => void>();
    const deliver = () => {
      const now = Date.now();
      for (const notify of listeners) notify(now);
    };
    clock = {stop: alignedInterval(intervalMs, () => onNextFrame(deliver)), listeners};
    clocks.set(intervalMs, clock);
  }
  clock.listeners.add(listener);
  return () => {
    clock.listeners.delete(listener);
    if (clock.listeners.size === 0) {
      clock.stop();
      clocks.delete(intervalMs);
    }
  };
}

export function useNow(intervalMs: number): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => subscribe(intervalMs, setNow), [intervalMs]);
  return now;
}
