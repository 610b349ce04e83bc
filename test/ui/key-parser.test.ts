// The key parser: one read from the terminal can hold many keys, and each comes out once, in order.
import {describe, expect, it} from 'vitest';
import {createKeyParser} from '../../source/ui/keys/key-parser.js';

const names = (chunks: string[]): string[] => {
  const parser = createKeyParser();
  return chunks.flatMap(chunk => parser.push(chunk)).map(key => key.name);
};

describe('key parser', () => {
  it('splits repeated letters, as key repeat or `tmux send-keys j j j` deliver them', () => {
    expect(names(['jjj'])).toEqual(['j', 'j', 'j']);
  });

  it('keeps mixed letters, arrows, Enter and escape sequences in order', () => {
    expect(names(['j\u001B[Bk\r\u001B[A\u001B[5~G\t\u001B[Z'])).toEqual(['j', 'down', 'k', 'enter', 'up', 'pageup', 'G', 'tab', 'backtab']);
  });

  it('names control keys, Backspace, Delete, Home/End in both forms, F1 and modified arrows', () => {
    expect(names(['\u0003\u0015\u007F\u001B[3~\u001B[H\u001B[4~\u001BOP\u001B[1;5A '])).toEqual(['ctrl-c', 'ctrl-u', 'backspace', 'delete', 'home', 'end', 'f1', 'ctrl-up', 'space']);
  });

  it('reads ESC then a character as Escape and the character (tmux send-keys Escape 3 a)', () => {
    expect(names(['\u001B3a'])).toEqual(['escape', '3', 'a']);
    expect(names(['\u001B\u001B[A'])).toEqual(['escape', 'up']);
  });

  it('waits for a sequence split between reads', () => {
    expect(names(['j\u001B[', '6~k'])).toEqual(['j', 'pagedown', 'k']);
  });

  it('releases a lone ESC held back as the Escape key on flush', () => {
    const parser = createKeyParser();
    expect(parser.push('\u001B')).toEqual([]);
    expect(parser.flush().map(key => key.name)).toEqual(['escape']);
    // Esc then O (OnStart) looks like the start of an SS3 sequence until nothing follows.
    expect(parser.push('\u001BO')).toEqual([]);
    expect(parser.flush().map(key => key.name)).toEqual(['escape', 'O']);
  });

  it('turns a bracketed paste into one key with its text, newlines and escape bytes included, across reads', () => {
    const parser = createKeyParser();
    const keys = [...parser.push('a\u001B[200~gpu=RTX\r\n'), ...parser.push('_4090 q?\u001B[2'), ...parser.push('01~b')];
    expect(keys).toEqual([
      {name: 'a', text: 'a'},
      {name: 'paste', text: 'gpu=RTX\r\n_4090 q?'},
      {name: 'b', text: 'b'},
    ]);
  });

  it('gives printable characters their text and names, wide ones included', () => {
    const parser = createKeyParser();
    expect(parser.push('Xé😀')).toEqual([
      {name: 'X', text: 'X'},
      {name: 'é', text: 'é'},
      {name: '😀', text: '😀'},
    ]);
  });
});
