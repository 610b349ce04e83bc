// Turns what the terminal sends into the keys it holds, in order. One read can hold many keys:
// key repeat, a fast typist, tmux `send-keys j j j` or a paste all arrive as one string ("jjj",
// "j\r", "\u001B[Bk"), and each key must be dispatched once. Escape sequences (arrows, Home/End,
// PgUp/PgDn, F-keys, Shift-Tab, xterm modifiers) become named keys; a bracketed paste (the
// terminal wraps it in ESC[200~ … ESC[201~ once run-dashboard enables it) becomes one 'paste' key
// whose text goes into a text field whole, newlines and all. The parser keeps state across reads
// because a paste, or a sequence, can be split between them.

export interface KeyPress {
  /**
   * What was pressed: the character for printable keys ('j', 'J', '?'), else a name: 'space',
   * 'enter', 'escape', 'tab', 'backtab', 'backspace', 'delete', 'up', 'down', 'left', 'right',
   * 'home', 'end', 'pageup', 'pagedown', 'insert', 'f1'…'f12', 'ctrl-a'…'ctrl-z', 'paste', or
   * 'unknown'. Modifiers on named keys come first: 'ctrl-up', 'shift-right', 'meta-left'.
   */
  name: string;
  /** The text it types: the character, the pasted text; '' for keys that type nothing. */
  text: string;
}

const ESC = '\u001B';
const PASTE_START = `${ESC}[200~`;
const PASTE_END = `${ESC}[201~`;

const CSI_LETTERS: Readonly<Record<string, string>> = {A: 'up', B: 'down', C: 'right', D: 'left', H: 'home', F: 'end', Z: 'backtab', P: 'f1', Q: 'f2', R: 'f3', S: 'f4'};
const CSI_TILDE: Readonly<Record<string, string>> = {
  1: 'home', 2: 'insert', 3: 'delete', 4: 'end', 5: 'pageup', 6: 'pagedown', 7: 'home', 8: 'end',
  11: 'f1', 12: 'f2', 13: 'f3', 14: 'f4', 15: 'f5', 17: 'f6', 18: 'f7', 19: 'f8', 20: 'f9', 21: 'f10', 23: 'f11', 24: 'f12',
};

/** xterm's modifier parameter (1 + shift 1, alt 2, ctrl 4) as a name prefix. */
function modifierPrefix(parameter: string | undefined): string {
  const bits = Number(parameter ?? '1') - 1;
  if (!Number.isInteger(bits) || bits <= 0) return '';
  return `${bits & 4 ? 'ctrl-' : ''}${bits & 2 ? 'meta-' : ''}${bits & 1 ? 'shift-' : ''}`;
}

/** A single character (not part of an escape sequence) as a key. */
export function characterKey(character: string): KeyPress {
  const code = character.codePointAt(0) ?? 0;
  if (character === '\r' || character === '\n') return {name: 'enter', text: ''};
  if (character === '\t') return {name: 'tab', text: ''};
  if (character === '\u007F' || character === '\b') return {name: 'backspace', text: ''};
  if (character === ' ') return {name: 'space', text: ' '};
  if (code >= 1 && code <= 26) return {name: `ctrl-${String.fromCharCode(code + 96)}`, text: ''};
  if (code < 32 || (code >= 0x80 && code < 0xa0)) return {name: 'unknown', text: ''};
  return {name: character, text: character};
}

/** An escape sequence (ESC and what follows it) as a key. */
export function sequenceKey(sequence: string): KeyPress {
  if (sequence === ESC) return {name: 'escape', text: ''};
  const csi = /^\u001B\[(?:(\d+)(?:;(\d+))?)?([~A-Za-z])$/.exec(sequence);
  if (csi) {
    const [, first, modifier, final] = csi;
    if (final === '~') {
      const base = CSI_TILDE[first ?? ''];
      return base ? {name: `${modifierPrefix(modifier)}${base}`, text: ''} : {name: 'unknown', text: ''};
    }
    if (final === 'u' && first) return {...characterKey(String.fromCodePoint(Number(first))), ...(modifier && modifier !== '1' ? {name: `${modifierPrefix(modifier)}${String.fromCodePoint(Number(first))}`, text: ''} : {})};
    const base = CSI_LETTERS[final!];
    // ESC[1;5A: the 1 only carries the modifier.
    return base ? {name: `${modifierPrefix(modifier)}${base}`, text: ''} : {name: 'unknown', text: ''};
  }
  const ss3 = /^\u001BO([A-Za-z])$/.exec(sequence);
  if (ss3) {
    const base = CSI_LETTERS[ss3[1]!];
    return base ? {name: base, text: ''} : {name: 'unknown', text: ''};
  }
  return {name: 'unknown', text: ''};
}

/** Where the escape sequence starting at `start` ends (exclusive); undefined while it is incomplete. */
function sequenceEnd(input: string, start: number): number | undefined {
  const next = input[start + 1];
  if (next === undefined) return undefined;
  if (next === '[') {
    for (let index = start + 2; index < input.length; index++) {
      const code = input.charCodeAt(index);
      if (code >= 0x30 && code <= 0x3f) continue;
      if (code >= 0x20 && code <= 0x2f) continue;
      if (code === 0x5b && index === start + 2) continue;
      return code >= 0x40 && code <= 0x7e ? index + 1 : index;
    }
    return undefined;
  }
  if (next === 'O') return start + 3 <= input.length ? start + 3 : undefined;
  // ESC then a character is two keys, Escape and that character: `tmux send-keys Escape 3` and a
  // quick Esc-then-key arrive that way, and the dashboard binds no Alt/Meta keys that it could mean.
  return start + 1;
}

export interface KeyParser {
  /** The keys in `chunk` (plus any sequence or paste left open by the previous chunk), in order. */
  push(chunk: string): KeyPress[];
  /** An ESC held back as a possible sequence start (Ink has waited for the rest), released as the Escape key. */
  flush(): KeyPress[];
}

export function createKeyParser(): KeyParser {
  let pending = '';
  let paste: string | undefined;

  const push = (chunk: string): KeyPress[] => {
    const keys: KeyPress[] = [];
    let input = pending + chunk;
    pending = '';
    while (input.length > 0) {
      if (paste !== undefined) {
        const end = input.indexOf(PASTE_END);
        if (end < 0) {
          // Keep a possible partial end marker for the next chunk.
          const keep = partialSuffix(input, PASTE_END);
          paste += input.slice(0, input.length - keep);
          pending = input.slice(input.length - keep);
          return keys;
        }
        paste += input.slice(0, end);
        keys.push({name: 'paste', text: paste});
        paste = undefined;
        input = input.slice(end + PASTE_END.length);
        continue;
      }
      if (input.startsWith(PASTE_START)) {
        paste = '';
        input = input.slice(PASTE_START.length);
        continue;
      }
      if (input[0] === ESC) {
        const end = sequenceEnd(input, 0);
        if (end === undefined) {
          pending = input;
          return keys;
        }
        keys.push(sequenceKey(input.slice(0, end)));
        input = input.slice(end);
        continue;
      }
      const character = String.fromCodePoint(input.codePointAt(0)!);
      keys.push(characterKey(character));
      input = input.slice(character.length);
    }
    return keys;
  };

  return {
    push,
    flush() {
      if (paste !== undefined || pending === '') return [];
      const held = pending;
      pending = '';
      // What waited for the rest of a sequence that never came: Escape, then what followed it.
      return held.startsWith(ESC) ? [{name: 'escape', text: ''}, ...push(held.slice(1))] : push(held);
    },
  };
}

/** Length of the longest suffix of `text` that starts `marker` (a marker split across reads). */
function partialSuffix(text: string, marker: string): number {
  for (let length = Math.min(marker.length - 1, text.length); length > 0; length--) {
    if (marker.startsWith(text.slice(text.length - length))) return length;
  }
  return 0;
}
