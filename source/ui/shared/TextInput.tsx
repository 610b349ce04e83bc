// A single-line text editor: `editLine` applies one edit (typed or pasted text, backspace, delete,
// ←/→, Home/End, Ctrl-U), EDITOR_KEYS is the key table every text field shares, and <TextInput>
// draws the line with a block cursor, scrolled sideways so the cursor stays visible. Enter and Esc
// belong to the field's owner.
import {Text} from 'ink';
import type {KeyAction} from '../keys/key-table.js';
import {cellWidth} from './text-fit.js';
import {useTheme} from './theme.js';

export interface LineState {
  value: string;
  /** Cursor position in code points, 0..length. */
  cursor: number;
}

export function lineAtEnd(value: string): LineState {
  return {value, cursor: cellWidth(value)};
}

/** One change to a line: typed or pasted text, or a cursor or delete key. */
export type LineEdit = {insert: string} | 'left' | 'right' | 'home' | 'end' | 'backspace' | 'delete' | 'clear';

/** Control characters never reach a line; a pasted newline or tab becomes a space. */
function typedText(text: string): string[] {
  return [...text.replace(/\r\n|[\r\n\t]/g, ' ').replace(/[\u0000-\u001F\u007F]/g, '')];
}

export function editLine(state: LineState, edit: LineEdit): LineState {
  const chars = [...state.value];
  const cursor = Math.min(Math.max(0, state.cursor), chars.length);
  if (typeof edit === 'object') {
    const typed = typedText(edit.insert);
    chars.splice(cursor, 0, ...typed);
    return {value: chars.join(''), cursor: cursor + typed.length};
  }
  switch (edit) {
    case 'backspace':
      if (cursor === 0) return state;
      chars.splice(cursor - 1, 1);
      return {value: chars.join(''), cursor: cursor - 1};
    case 'delete':
      if (cursor >= chars.length) return state;
      chars.splice(cursor, 1);
      return {value: chars.join(''), cursor};
    case 'left':
      return {...state, cursor: Math.max(0, cursor - 1)};
    case 'right':
      return {...state, cursor: Math.min(chars.length, cursor + 1)};
    case 'home':
      return {...state, cursor: 0};
    case 'end':
      return {...state, cursor: chars.length};
    case 'clear':
      return {value: '', cursor: 0};
  }
}

/** What a text field's owner gives its key table: apply an edit to the focused line. */
export interface EditorContext {
  edit(change: LineEdit): void;
}

/** The keys every text field shares (filters, forms, the destroy confirmation). */
export const EDITOR_KEYS: ReadonlyArray<KeyAction<EditorContext>> = [
  {keys: ['left'], help: 'Move the cursor left', run: context => context.edit('left')},
  {keys: ['right'], help: 'Move the cursor right', run: context => context.edit('right')},
  {keys: ['home', 'ctrl-a'], help: 'Move to the start', run: context => context.edit('home')},
  {keys: ['end', 'ctrl-e'], help: 'Move to the end', run: context => context.edit('end')},
  {keys: ['backspace'], help: 'Delete the character before the cursor', run: context => context.edit('backspace')},
  {keys: ['delete'], help: 'Delete the character under the cursor', run: context => context.edit('delete')},
  {keys: ['ctrl-u'], label: 'clear', help: 'Clear the text', run: context => context.edit('clear')},
  {keys: ['text'], help: 'Type; a paste goes in whole', run: (context, key) => context.edit({insert: key.text})},
];

interface TextInputProps {
  label: string;
  state: LineState;
  width: number;
  placeholder?: string;
}

export function TextInput({label, state, width, placeholder}: TextInputProps) {
  const theme = useTheme();
  const chars = [...state.value];
  const room = Math.max(1, width - cellWidth(label) - 1);
  // Scroll so the cursor (which may sit one past the end) stays inside the visible room.
  const start = Math.max(0, state.cursor - room + 1);
  const shown = chars.slice(start, start + room);
  const at = state.cursor - start;
  const before = shown.slice(0, at).join('');
  const under = shown[at] ?? ' ';
  const after = shown.slice(at + 1).join('');

  return (
    <Text wrap="truncate">
      <Text {...theme.accent}>{label}</Text>
      <Text> </Text>
      {chars.length === 0 && placeholder ? (
        <>
          <Text inverse> </Text>
          <Text {...theme.muted}>{placeholder}</Text>
        </>
      ) : (
        <>
          <Text>{before}</Text>
          <Text inverse>{under}</Text>
          <Text>{after}</Text>
        </>
      )}
    </Text>
  );
}
