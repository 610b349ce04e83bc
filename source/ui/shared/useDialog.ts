// Lets any pane open a dialog. App owns the one open dialog and draws it over the panes; a pane
// either describes a confirm dialog (title, lines, buttons with their actions) or hands over a
// dialog that draws itself (a form, a dialog whose lines change while it is open) and registers
// its own modal key layer.
import {createContext, useContext, type ReactNode} from 'react';
import type {DialogSpec} from './Dialog.js';

export interface CustomDialog {
  /** Names a dialog that must not be opened twice ('quit'). */
  kind?: string;
  /** Draws the dialog in a body `width` × `maxHeight`; `onClose` takes it off the screen. */
  render(frame: {width: number; maxHeight: number; onClose: () => void}): ReactNode;
}

export type DialogContent = DialogSpec | CustomDialog;

export type OpenDialog = (content: DialogContent) => void;

export function isCustomDialog(content: DialogContent): content is CustomDialog {
  return 'render' in content;
}

export const DialogContext = createContext<OpenDialog | undefined>(undefined);

export function useOpenDialog(): OpenDialog {
  const open = useContext(DialogContext);
  if (!open) throw new Error('useOpenDialog needs a DialogContext provider (App renders one).');
  return open;
}
