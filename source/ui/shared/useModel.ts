// Reads a core model (subscribe/getSnapshot) into React with useSyncExternalStore. The model's
// notifications are delivered on the frame clock (frame-clock.ts), so however many models change,
// the screen redraws at most once a frame; a render for another reason (a key) reads the latest
// snapshot anyway. useModelSelector re-renders only when the selected value (a primitive) changes.
import {useCallback, useSyncExternalStore} from 'react';
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

export function useModel<T>(model: ModelView<T>): T {
  return useSyncExternalStore(useFramedSubscribe(model), model.getSnapshot, model.getSnapshot);
}

export function useModelSelector<T, S extends string | number | boolean | undefined>(model: ModelView<T>, select: (snapshot: T) => S): S {
  const read = () => select(model.getSnapshot());
  return useSyncExternalStore(useFramedSubscribe(model), read, read);
}
