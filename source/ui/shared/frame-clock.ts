// One clock for everything on screen that changes on its own: model updates (offers, fleet, logs,
// queue), spinners and "N s ago" labels are delivered on its ticks, at most one every FRAME_MS, so
// they share one frame instead of each forcing its own (a frame costs the whole screen, see
// ink-notes.md A4). Keys are not on the clock: they render at once. The clock only runs while
// something waits for it or an animation is on screen; an idle dashboard has no timer at all.

/** At most four frames a second from model updates and animations together. */
export const FRAME_MS = 250;

const pending = new Set<() => void>();
const animations = new Set<() => void>();
let timer: NodeJS.Timeout | undefined;
let lastTickMs = 0;

function tick(): void {
  timer = undefined;
  lastTickMs = Date.now();
  const due = [...pending, ...animations];
  pending.clear();
  for (const listener of due) listener();
  schedule();
}

function schedule(): void {
  if (timer || (pending.size === 0 && animations.size === 0)) return;
  // An update after a quiet spell goes out at once; a burst waits for the next frame.
  timer = setTimeout(tick, Math.max(0, lastTickMs + FRAME_MS - Date.now()));
  timer.unref();
}

/** Runs `listener` once, on the next frame (several requests before it run it once). */
export function onNextFrame(listener: () => void): void {
  pending.add(listener);
  schedule();
}

/** Runs `listener` on every frame until the returned function is called (spinners). */
export function onEveryFrame(listener: () => void): () => void {
  animations.add(listener);
  schedule();
  return () => {
    animations.delete(listener);
    pending.delete(listener);
  };
}
