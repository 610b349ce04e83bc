// The current time for labels like "updated 3s ago", refreshed every `intervalMs`. Every component
// asking for the same interval shares ONE timer, so their updates land in the same tick and React
// renders the frame once, not once per pane (a frame costs the whole screen, see ink-notes.md).
import {useEffect, useState} from 'react';

interface Clock {
  timer: NodeJS.Timeout;
  listeners: Set<(now: number) => void>;
}

const clocks = new Map<number, Clock>();

function subscribe(intervalMs: number, listener: (now: number) => void): () => void {
  let clock = clocks.get(intervalMs);
  if (!clock) {
    const listeners = new Set<(now: number) => void>();
    const timer = setInterval(() => {
      const now = Date.now();
      for (const notify of listeners) notify(now);
    }, intervalMs);
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
