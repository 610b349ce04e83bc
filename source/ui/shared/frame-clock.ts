// One clock for everything on screen that changes on its own: model updates (offers, fleet, logs,
// queue), spinners and "N s ago" labels are delivered on its ticks, so they share one frame instead
// of each forcing its own (a frame costs the whole screen, see ink-notes.md A4). At most four
// frames a second, fewer when frames are dear: the interval keeps these frames within FRAME_BUDGET
// of one core (4 %), measured from Ink's own render times (reportFrameCost), so a slow or busy machine
// gets a calmer screen instead of a saturated core. Keys are not on the clock: they render at once.
// The clock only runs while something waits for it or an animation is on screen; an idle
// dashboard has no timer at all.

/** The shortest interval: four frames a second. */
export const FRAME_MS = 250;
/** The longest interval: a busy screen still moves every second. */
export const MAX_FRAME_MS = 1000;
/** The share of one core the clock's frames may take. */
export const FRAME_BUDGET = 0.04;
/** After a quiet spell, how long a first update waits for the others due at the same moment (the whole-second clocks). */
const GATHER_MS = 15;

let intervalMs = FRAME_MS;
let averageCostMs = 0;

/** How long Ink took to draw the last frame: the clock spaces its frames to stay within budget. */
export function reportFrameCost(ms: number): void {
  averageCostMs = averageCostMs === 0 ? ms : averageCostMs * 0.8 + ms * 0.2;
  intervalMs = Math.min(MAX_FRAME_MS, Math.max(FRAME_MS, averageCostMs / FRAME_BUDGET));
}

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
  // An update after a quiet spell goes out almost at once (with what arrives in the same few ms); a burst waits for the next frame.
  timer = setTimeout(tick, Math.max(GATHER_MS, lastTickMs + intervalMs - Date.now()));
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
