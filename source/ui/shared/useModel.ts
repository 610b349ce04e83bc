// Reads a core model (subscribe/getSnapshot) into React with useSyncExternalStore, so a pane
// re-renders exactly when the model publishes a new snapshot (models batch to ≤ 10 Hz).
// useModelSelector re-renders only when the selected value (a primitive) changes.
import {useSyncExternalStore} from 'react';
import type {ModelView} from '../../core/deck-types.js';

export function useModel<T>(model: ModelView<T>): T {
  return useSyncExternalStore(model.subscribe, model.getSnapshot, model.getSnapshot);
}

export function useModelSelector<T, S extends string | number | boolean | undefined>(model: ModelView<T>, select: (snapshot: T) => S): S {
  const read = () => select(model.getSnapshot());
  return useSyncExternalStore(model.subscribe, read, read);
}
