// The cloud's clock against the wall clock: the demo's simulated cloud runs 10× fast, so a boot the
// cost model estimates at 3m30s, or a download whose tool prints ETA 01:48, takes a tenth of that
// on the wall clock. The dashboard shows every time on the wall clock (as uptimes are), dividing
// the cloud's durations by its speed and multiplying its rates by it. Live, the speed is 1.
import {createContext, useContext} from 'react';

export const ClockSpeedContext = createContext(1);

export function useClockSpeed(): number {
  return useContext(ClockSpeedContext);
}
