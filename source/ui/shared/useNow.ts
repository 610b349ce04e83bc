// The current time for labels like "updated 3s ago" and uptimes, refreshed every `intervalMs`.
// Every component asking for the same interval shares ONE timer, and its ticks are delivered on
// the frame clock, so they land in the same frame as model updates instead of adding their own.
import {useEffect, useState} from 'react';
import {onNextFrame} from './frame-clock.js';

interface Clock {
  timer: NodeJS.Timeout;
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
    const timer = setInterval(() => onNextFrame(deliver), intervalMs);
    timer.unref();
    clock = {timer, listeners};
    clocks.set(intervalMs, clock);
  }
  clock.listeners.add(listener);
  return () => {
    clock.listeners.delete(listener);
    if (clock.listeners.size === 0) {
      clearInterval(clock.timer);
      clocks.delete(intervalMs);
    }
  };
}

export function useNow(intervalMs: number): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => subscribe(intervalMs, setNow), [intervalMs]);
  return now;
}
