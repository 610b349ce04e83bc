// Lets any pane open a confirm dialog. App owns the one open dialog and draws it over the panes;
// a pane only describes it (title, lines, buttons with their actions).
import {createContext, useContext} from 'react';
import type {DialogSpec} from '../components/Dialog.js';

export type OpenDialog = (spec: DialogSpec) => void;

export const DialogContext = createContext<OpenDialog | undefined>(undefined);

export function useOpenDialog(): OpenDialog {
  const open = useContext(DialogContext);
  if (!open) throw new Error('useOpenDialog needs a DialogContext provider (App renders one).');
  return open;
}
