// Turns the raw bytes of a log stream (`tail -F` over SSH, several files at once) into lines that are
// safe to show: escape sequences and control bytes removed, bad UTF-8 replaced, lone-CR progress
// redraws flagged, long lines capped, every line tagged with its file. Used by the SSH log stream.
import {StringDecoder} from 'node:string_decoder';

/** tail's own notices about a followed file (GNU `tail -F`, printed on stderr). */
export type TailNotice = 'missing' | 'appeared' | 'inaccessible' | 'replaced' | 'truncated';

export interface LogLine {
  /** The file the line came from, from tail's `==> file <==` headers (absent before the first one). */
  file?: string;
  text: string;
  /** Replaces the previous line of the same file (a `\r` progress redraw) instead of adding one. */
  redraw: boolean;
  /** The line has no line feed yet: it is shown while it is drawn and a redraw will follow. */
  partial: boolean;
  /** Set on tail's notices: `file` is the file they are about, and they are not lines of it. */
  notice?: TailNotice;
  /** When vastdeck received the line (epoch ms); set by the log stream, for the log view's times. */
  atMs?: number;
}

export interface LineSplitterOptions {
  /** Longer lines keep their head and end in `… (N more chars)`. */
  maxLineChars?: number;
}

const DEFAULT_MAX_LINE_CHARS = 4096;
/** An escape sequence longer than this (an unterminated OSC, binary junk) is given up on. */
const MAX_ESCAPE_CHARS = 1024;
const ESC = 0x1b;
const REPLACEMENT = '\uFFFD';
const HEADER = /^==> (.+) <==$/;
const NOTICES: ReadonlyArray<readonly [RegExp, TailNotice]> = [
  [/^tail: cannot open ['‘](.+)['’] for reading: /, 'missing'],
  [/^tail: ['‘](.+)['’] has appeared;\s+following new file$/, 'appeared'],
  [/^tail: ['‘](.+)['’] has become inaccessible: /, 'inaccessible'],
  [/^tail: ['‘](.+)['’] has been replaced;\s+following new file$/, 'replaced'],
  [/^tail: (.+): file truncated$/, 'truncated'],
];

/** The physical line being drawn in one file. */
interface Draw {
  head: string;
  /** Characters beyond maxLineChars, counted but not kept. */
  dropped: number;
  /** Changed since it was last emitted. */
  dirty: boolean;
  /** Emitted at least once: every later emission of this line is a redraw. */
  shown: boolean;
  /** A lone CR was seen: the next character starts the line over. */
  restart: boolean;
}

type EscapeState = 'none' | 'esc' | 'csi' | 'intermediate' | 'string' | 'string-esc';

const newDraw = (): Draw => ({head: '', dropped: 0, dirty: false, shown: false, restart: false});
const isBlank = (draw: Draw): boolean => draw.head === '' && draw.dropped === 0;
/** A line that may still turn out to be a tail header or notice is not shown half-way. */
const mayBeTailLine = (head: string): boolean =>
  ['==> ', 'tail: '].some(prefix => head.startsWith(prefix) || prefix.startsWith(head));
/** Plain text: printable, not a C1 control, not a bidi override, not U+FFFD. */
const isPlain = (code: number): boolean =>
  code >= 0x20 && code !== 0x7f && !(code >= 0x80 && code <= 0x9f) && code !== 0xfffd
  && !(code >= 0x202a && code <= 0x202e) && !(code >= 0x2066 && code <= 0x2069);

export class LineSplitter {
  readonly #maxLineChars: number;
  readonly #decoder = new StringDecoder('utf8');
  readonly #draws = new Map<string, Draw>();
  #file: string | undefined;
  #draw: Draw = newDraw();
  #pendingCr = false;
  #escape: EscapeState = 'none';
  #escapeLength = 0;
  #afterReplacement = false;
  /** A blank line held back: if a header follows, it was tail's separator and is dropped. */
  #heldBlank: {file: string | undefined} | undefined;
  /** The line just ended by LF: if a header follows directly, that LF was tail's, not the file's. */
  #justEnded: {file: string | undefined; draw: Draw; viaCr: boolean} | undefined;

  constructor(options: LineSplitterOptions = {}) {
    this.#maxLineChars = Math.max(16, options.maxLineChars ?? DEFAULT_MAX_LINE_CHARS);
  }

  push(chunk: Buffer | string): LogLine[] {
    const out: LogLine[] = [];
    this.#consume(typeof chunk === 'string' ? chunk : this.#decoder.write(chunk), out);
    this.#showPartial(out);
    return out;
  }

  /** The stream is over: flush what is left (an unterminated last line stays `partial`). */
  end(): LogLine[] {
    const out: LogLine[] = [];
    this.#consume(this.#decoder.end(), out);
    if (this.#pendingCr) this.#loneCr(out);
    this.#pendingCr = false;
    this.#showPartial(out);
    this.#flushBlank(out);
    return out;
  }

  #consume(text: string, out: LogLine[]): void {
    let index = 0;
    while (index < text.length) {
      const code = text.charCodeAt(index);
      if (this.#escape !== 'none') {
        if (this.#stepEscape(code)) index++;
        continue;
      }
      if (this.#pendingCr && code !== 0x0a) {
        this.#pendingCr = false;
        this.#loneCr(out);
      }
      if (isPlain(code)) {
        let end = index + 1;
        while (end < text.length && isPlain(text.charCodeAt(end))) end++;
        this.#append(text.slice(index, end));
        index = end;
        continue;
      }
      index++;
      if (code === 0x0a) this.#lineFeed(out);
      else if (code === 0x0d) this.#pendingCr = true;
      else if (code === 0x09) this.#append('\t');
      else if (code === ESC) this.#startEscape('esc');
      else if (code === 0xfffd && !this.#afterReplacement) {
        this.#append(REPLACEMENT);
        this.#afterReplacement = true;
      }
    }
  }

  /** Advances the escape parser by one character; false when that character must be read as text. */
  #stepEscape(code: number): boolean {
    const final = code >= 0x40 && code <= 0x7e;
    const param = code >= 0x20 && code <= 0x3f;
    if (++this.#escapeLength > MAX_ESCAPE_CHARS) return this.#endEscape(false);
    switch (this.#escape) {
      case 'esc':
        if (code === 0x5b) this.#escape = 'csi';
        else if (code === 0x5d || code === 0x50 || code === 0x58 || code === 0x5e || code === 0x5f) this.#escape = 'string';
        else if (code >= 0x20 && code <= 0x2f) this.#escape = 'intermediate';
        else return this.#endEscape(code >= 0x30 && code <= 0x7e);
        return true;
      case 'csi':
        return param ? true : this.#endEscape(final);
      case 'intermediate':
        return code >= 0x20 && code <= 0x2f ? true : this.#endEscape(code >= 0x30 && code <= 0x7e);
      case 'string':
        if (code === 0x07) return this.#endEscape(true);
        if (code === 0x0a) return this.#endEscape(false);
        if (code === ESC) this.#escape = 'string-esc';
        return true;
      case 'string-esc':
        if (code === 0x5c) return this.#endEscape(true);
        this.#startEscape('esc');
        return false;
      case 'none':
        return false;
    }
  }

  #startEscape(state: EscapeState): void {
    this.#escape = state;
    this.#escapeLength = 0;
  }

  #endEscape(consumed: boolean): boolean {
    this.#escape = 'none';
    return consumed;
  }

  #append(text: string): void {
    const draw = this.#draw;
    if (draw.restart) Object.assign(draw, {head: '', dropped: 0, restart: false});
    const room = this.#maxLineChars - draw.head.length;
    if (text.length <= room) {
      draw.head += text;
    } else {
      let keep = Math.max(0, room);
      const last = text.charCodeAt(keep - 1);
      if (keep > 0 && last >= 0xd800 && last <= 0xdbff) keep--;
      draw.head += text.slice(0, keep);
      draw.dropped += text.length - keep;
    }
    draw.dirty = true;
    if (text !== REPLACEMENT) this.#afterReplacement = false;
  }

  #lineFeed(out: LogLine[]): void {
    const draw = this.#draw;
    const viaCr = this.#pendingCr;
    this.#pendingCr = false;
    this.#draws.set(this.#file ?? '', (this.#draw = newDraw()));
    if (!draw.shown && isBlank(draw)) {
      this.#flushBlank(out);
      this.#heldBlank = {file: this.#file};
      this.#justEnded = undefined;
      return;
    }
    const text = this.#render(draw);
    if (!draw.shown && this.#readTailLine(text, out)) return;
    this.#emit(out, {text, redraw: draw.shown, partial: false});
    this.#justEnded = {file: this.#file, draw, viaCr};
  }

  /** Headers switch the current file; notices become lines about their file. */
  #readTailLine(text: string, out: LogLine[]): boolean {
    const header = HEADER.exec(text);
    if (header) {
      this.#switchTo(header[1]!, out);
      return true;
    }
    for (const [pattern, notice] of NOTICES) {
      const match = pattern.exec(text);
      if (!match) continue;
      this.#emit(out, {text, redraw: false, partial: false, notice}, match[1]);
      this.#justEnded = undefined;
      return true;
    }
    return false;
  }

  #switchTo(file: string, out: LogLine[]): void {
    const cut = this.#justEnded;
    if (this.#heldBlank) this.#heldBlank = undefined;
    else if (cut) {
      // tail's separator LF ended a line the file had not finished: say it is partial again, and
      // continue it when the file's next output comes.
      this.#draws.set(cut.file ?? '', {...cut.draw, shown: true, dirty: false, restart: cut.viaCr});
      this.#emit(out, {text: this.#render(cut.draw), redraw: true, partial: true}, cut.file);
    }
    this.#justEnded = undefined;
    this.#file = file;
    this.#draw = this.#draws.get(file) ?? newDraw();
    this.#draws.set(file, this.#draw);
  }

  #loneCr(out: LogLine[]): void {
    const draw = this.#draw;
    if (draw.dirty && !isBlank(draw)) this.#emitPartial(out);
    if (draw.shown) draw.restart = true;
  }

  #showPartial(out: LogLine[]): void {
    const draw = this.#draw;
    if (!draw.dirty || (isBlank(draw) && !draw.shown)) return;
    if (!draw.shown && mayBeTailLine(draw.head)) return;
    this.#emitPartial(out);
  }

  #emitPartial(out: LogLine[]): void {
    const draw = this.#draw;
    this.#emit(out, {text: this.#render(draw), redraw: draw.shown, partial: true});
    draw.shown = true;
    draw.dirty = false;
  }

  #emit(out: LogLine[], line: Omit<LogLine, 'file'>, file = this.#file): void {
    this.#flushBlank(out);
    out.push(file === undefined ? line : {file, ...line});
  }

  #flushBlank(out: LogLine[]): void {
    const held = this.#heldBlank;
    if (!held) return;
    this.#heldBlank = undefined;
    const line = {text: '', redraw: false, partial: false};
    out.push(held.file === undefined ? line : {file: held.file, ...line});
  }

  #render(draw: Draw): string {
    return draw.dropped > 0 ? `${draw.head}… (${draw.dropped} more chars)` : draw.head;
  }
}
