// Reads a core model (subscribe/getSnapshot) into React with useSyncExternalStore. The model's
// notifications are delivered on the frame clock (frame-clock.ts), so however many models change,
// the screen redraws at most once a frame; a render for another reason (a key) reads the latest
// snapshot anyway. `same` lets a view ignore a new snapshot that shows nothing new (an idle poll);
// useModelSelector re-renders only when the selected value (a primitive) changes.
import {useCallback, useRef, useSyncExternalStore} from 'react';
import type {ModelView} from '../../core/deck-types.js';
import {onNextFrame} from './frame-clock.js';

function useFramedSubscribe(model: ModelView<unknown>): (listener: () => void) => () => void {
  return useCallback(
    (listener: () => void) => {
      let subscribed = true;
      const deliver = () => {
        if (subscribed) listener();
      };
      const unsubscribe = model.subscribe(() => onNextFrame(deliver));
      return () => {
        subscribed = false;
        unsubscribe();
      };
    },
    [model],
  );
}

export function useModel<T>(model: ModelView<T>, same?: (shown: T, next: T) => boolean): T {
  const shown = useRef<{model: ModelView<T>; snapshot: T} | undefined>(undefined);
  const read = useCallback(() => {
    const next = model.getSnapshot();
    const previous = shown.current;
    if (previous && previous.model === model && (previous.snapshot === next || same?.(previous.snapshot, next))) return previous.snapshot;
    shown.current = {model, snapshot: next};
    return next;
  }, [model, same]);
  return useSyncExternalStore(useFramedSubscribe(model), read, read);
}

export function useModelSelector<T, S extends string | number | boolean | undefined>(model: ModelView<T>, select: (snapshot: T) => S): S {
  const read = () => select(model.getSnapshot());
  return useSyncExternalStore(useFramedSubscribe(model), read, read);
}
