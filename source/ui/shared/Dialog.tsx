// A confirm dialog drawn over the panes (k9s style): a title, a few lines of text and a row of
// buttons. The first button is the safe one (Cancel) and is highlighted when the dialog opens, so
// an Enter pressed out of habit does nothing harmful. ←/→/Tab move, Enter chooses, Esc cancels,
// and each button's letter chooses it directly. DialogFrame is the box itself, also used by the
// dialogs that draw their own rows (forms): it blanks every cell first, so nothing underneath
// shows through.
import {Box, Text} from 'ink';
import type {ReactNode} from 'react';
import {useKeyLayer} from '../keys/Keyboard.js';
import type {KeyTable} from '../keys/key-table.js';
import {useStateRef} from './useStateRef.js';
import {fit, wrapWords} from './text-fit.js';
import {useTheme} from './theme.js';

export type DialogTone = 'muted' | 'warn' | 'bad' | 'good' | 'accent';

export interface DialogLine {
  text: string;
  tone?: DialogTone;
}

export interface DialogButton {
  label: string;
  /** Lower-case letters that choose this button, e.g. ['y']; the first is shown in the label. */
  keys: readonly string[];
  onChoose?: () => void;
  /** Choosing it does not close the dialog (a first step that asks again). */
  keepOpen?: true;
}

export interface DialogSpec {
  title: string;
  /** Tone of the title: 'bad' for actions that destroy something. */
  tone?: DialogTone;
  lines: readonly DialogLine[];
  /** The first button is the safe one (Cancel): it is highlighted first and Esc chooses it. */
  buttons: readonly DialogButton[];
}

/** Widest the dialog gets; narrower terminals get the full width. */
export const DIALOG_MAX_WIDTH = 78;

interface DialogProps {
  spec: DialogSpec;
  width: number;
  /** Rows available; body lines beyond it are cut with '…'. */
  maxHeight: number;
  onClose: () => void;
}

/** The dialog box's width for a body `width` wide. */
export function dialogWidth(width: number): number {
  return Math.min(width, DIALOG_MAX_WIDTH);
}

interface DialogFrameProps {
  title: string;
  tone?: DialogTone;
  /** Width of the box, border included (see dialogWidth). */
  width: number;
  /** Rows inside the border, the title line included. */
  rows: number;
  /** One element per row after the title; rows beyond `rows` are cut. */
  children: ReactNode;
}

export function DialogFrame({title, tone = 'accent', width, rows, children}: DialogFrameProps) {
  const theme = useTheme();
  const border = theme.borderFocused;
  const inner = Math.max(1, width - 2);
  const blank = ' '.repeat(inner);
  return (
    <Box flexDirection="column" width={width} height={rows + 2} borderStyle={border.style} borderColor={border.color} borderDimColor={border.dimColor} flexShrink={0}>
      <Box flexDirection="column" flexShrink={0}>
        {Array.from({length: rows}, (_unused, index) => (
          <Text key={index}>{blank}</Text>
        ))}
      </Box>
      <Box position="absolute" flexDirection="column" width={inner} height={rows} overflow="hidden">
        <Text wrap="truncate" {...theme[tone]}>{` ${title}`}</Text>
        {children}
      </Box>
    </Box>
  );
}

/** The body lines wrapped to `inner` cells, cut to `maxLines`. */
export function dialogBody(lines: readonly DialogLine[], inner: number, maxLines: number): DialogLine[] {
  const wrapped = lines.flatMap(line => (line.text === '' ? [line] : wrapWords(line.text, inner).map(text => ({...line, text}))));
  if (wrapped.length <= maxLines) return wrapped;
  const kept = wrapped.slice(0, Math.max(0, maxLines));
  if (kept.length > 0) kept[kept.length - 1] = {...kept[kept.length - 1]!, text: '…'};
  return kept;
}

interface DialogKeyContext {
  step(delta: 1 | -1): void;
  choose(): void;
  cancel(): void;
  letter(text: string): void;
}

export const DIALOG_KEYS: KeyTable<DialogKeyContext> = {
  title: 'Confirm dialogs (Cancel is highlighted first)',
  actions: [
    {keys: ['right', 'tab'], label: 'button', hintKeys: '←/→', help: 'Highlight the next button', run: context => context.step(1)},
    {keys: ['left', 'backtab'], help: 'Highlight the previous button', run: context => context.step(-1)},
    {keys: ['enter'], label: 'choose', help: 'Choose the highlighted button', run: context => context.choose(), switchesView: true},
    {keys: ['escape'], label: 'cancel', help: 'Cancel', run: context => context.cancel(), switchesView: true},
    {keys: ['text'], label: 'answer', hintKeys: 'y/n', help: 'By letter: y yes, n no, d destroy, f force, l leave', run: (context, key) => context.letter(key.text), switchesView: true},
  ],
};

export function Dialog({spec, width, maxHeight, onClose}: DialogProps) {
  const theme = useTheme();
  const [focus, setFocus, focusRef] = useStateRef(0);
  const count = spec.buttons.length;

  const choose = (index: number) => {
    const button = spec.buttons[index];
    if (!button?.keepOpen) onClose();
    button?.onChoose?.();
  };

  useKeyLayer(
    DIALOG_KEYS,
    {
      step: delta => setFocus((focusRef.current + delta + count) % count),
      choose: () => choose(focusRef.current),
      cancel: () => choose(0),
      letter: text => {
        const index = spec.buttons.findIndex(button => button.keys.includes(text.toLowerCase()));
        if (index >= 0) choose(index);
      },
    },
    {kind: 'modal'},
  );

  const boxWidth = dialogWidth(width);
  const inner = Math.max(1, boxWidth - 2);
  // Border (2), title, blank, body, blank, buttons.
  const body = dialogBody(spec.lines, inner - 2, maxHeight - 6);
  const buttonsWidth = spec.buttons.reduce((sum, button) => sum + button.label.length + (button.keys[0] ? 4 : 0) + 6, 0);

  return (
    <DialogFrame title={spec.title} tone={spec.tone} width={boxWidth} rows={body.length + 4}>
      <Text> </Text>
      {body.map((line, index) => (
        <Text key={index} wrap="truncate" {...(line.tone ? theme[line.tone] : {})}>
          {fit(` ${line.text}`, inner)}
        </Text>
      ))}
      <Text> </Text>
      <Text wrap="truncate">
        {' '}
        {spec.buttons.map((button, index) => (
          <Text key={button.label}>
            <Text {...(index === focus ? theme.selected : {})} bold={index === focus}>{`[ ${button.label}${button.keys[0] ? ` (${button.keys[0]})` : ''} ]`}</Text>
            <Text>{'  '}</Text>
          </Text>
        ))}
        {' '.repeat(Math.max(0, inner - 1 - buttonsWidth))}
      </Text>
    </DialogFrame>
  );
}
