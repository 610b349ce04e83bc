// A single-line text editor: `editLine` applies the editing commands from the keymap's 'editor'
// scope (type, backspace, ←/→, Home/End, Ctrl-U) and <TextInput> draws the line with a block
// cursor, scrolled sideways so the cursor stays visible. Enter and Esc belong to the owner.
import {Text} from 'ink';
import type {Command} from '../keymap.js';
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

export function editLine(state: LineState, command: Command, input: string): LineState {
  const chars = [...state.value];
  const cursor = Math.min(Math.max(0, state.cursor), chars.length);
  switch (command) {
    case 'edit.insert': {
      const typed = [...input.replace(/[\r\n\t]+/g, ' ')];
      chars.splice(cursor, 0, ...typed);
      return {value: chars.join(''), cursor: cursor + typed.length};
    }
    case 'edit.backspace': {
      if (cursor === 0) return state;
      chars.splice(cursor - 1, 1);
      return {value: chars.join(''), cursor: cursor - 1};
    }
    case 'edit.left':
      return {...state, cursor: Math.max(0, cursor - 1)};
    case 'edit.right':
      return {...state, cursor: Math.min(chars.length, cursor + 1)};
    case 'edit.home':
      return {...state, cursor: 0};
    case 'edit.end':
      return {...state, cursor: chars.length};
    case 'edit.clear':
      return {value: '', cursor: 0};
    default:
      return state;
  }
}

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
