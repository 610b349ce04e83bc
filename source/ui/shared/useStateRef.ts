// State that key handlers can read synchronously: the ref always holds the latest value, even when
// several keys (a paste ending in Enter) arrive before React re-renders.
import {useCallback, useRef, useState, type RefObject} from 'react';

export function useStateRef<T>(initial: T): [T, (next: T) => void, RefObject<T>] {
  const [state, setState] = useState(initial);
  const ref = useRef(initial);
  const set = useCallback((next: T) => {
    ref.current = next;
    setState(next);
  }, []);
  return [state, set, ref];
}
