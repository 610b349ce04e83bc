// A spinner that advances on the frame clock (frame-clock.ts): every spinner on screen moves in
// the same frame, at most four times a second, instead of each forcing ~12 frames a second.
import {Text} from 'ink';
import {useEffect, useState} from 'react';
import {onEveryFrame} from './frame-clock.js';

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/** The shared animation step: one counter for every spinner, so they never disagree. */
let step = 0;
const stepListeners = new Set<(value: number) => void>();
let stopClock: (() => void) | undefined;

function follow(listener: (value: number) => void): () => void {
  stepListeners.add(listener);
  stopClock ??= onEveryFrame(() => {
    step = (step + 1) % FRAMES.length;
    for (const notify of stepListeners) notify(step);
  });
  return () => {
    stepListeners.delete(listener);
    if (stepListeners.size === 0) {
      stopClock?.();
      stopClock = undefined;
    }
  };
}

export function Spinner() {
  const [frame, setFrame] = useState(step);
  useEffect(() => follow(setFrame), []);
  return <Text>{FRAMES[frame]}</Text>;
}
