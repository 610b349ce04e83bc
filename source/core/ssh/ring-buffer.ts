// The last N log lines of one instance, for the log pane: O(1) push, redraws replace their line in
// place, sequence numbers for windowed rendering, and per-file counts of complete lines so that a
// reconnecting stream resumes with `tail -n +K` exactly after the last complete line it saw.
import type {LogLine} from './line-splitter.js';

export interface LogEntry extends LogLine {
  /** Increases by one per appended line; a redraw keeps the seq of the line it replaces. */
  seq: number;
}

/** The newest line of one file. */
interface FileMark {
  seq: number;
  partial: boolean;
}

export class LogRingBuffer {
  readonly capacity: number;
  readonly #slots: Array<LogEntry | undefined>;
  #firstSeq = 0;
  #endSeq = 0;
  readonly #marks = new Map<string, FileMark>();
  readonly #completeLines = new Map<string, number>();

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
    this.capacity = capacity;
    this.#slots = new Array<LogEntry | undefined>(capacity);
  }

  get size(): number {
    return this.#endSeq - this.#firstSeq;
  }

  /** The seq of the oldest line held. */
  get firstSeq(): number {
    return this.#firstSeq;
  }

  /** The seq the next appended line gets. */
  get endSeq(): number {
    return this.#endSeq;
  }

  /**
   * Adds a line from the splitter. A redraw replaces its file's newest line; so does a fresh line
   * while that newest line is still partial (a reconnect replays the unfinished line from its start).
   */
  push(line: LogLine): LogEntry {
    if (line.notice) {
      if (line.notice === 'appeared' || line.notice === 'replaced' || line.notice === 'truncated') {
        this.#completeLines.set(line.file!, 0);
        this.#marks.delete(line.file!);
      }
      return this.#append(line);
    }
    const mark = this.#marks.get(line.file ?? '');
    if (line.redraw || mark?.partial) return this.replaceLast(line);
    this.#count(line.file, line.partial ? 0 : 1);
    return this.#track(this.#append(line));
  }

  /** Replaces the newest line of `line.file` where it stands, or appends when it has scrolled out. */
  replaceLast(line: LogLine): LogEntry {
    const mark = this.#marks.get(line.file ?? '');
    // A physical line counts once it is complete; the splitter may take that back (tail's separator).
    this.#count(line.file, (line.partial ? 0 : 1) - (mark && !mark.partial ? 1 : 0));
    if (!mark || mark.seq < this.#firstSeq) return this.#track(this.#append(line));
    const entry: LogEntry = {...line, seq: mark.seq};
    this.#slots[mark.seq % this.capacity] = entry;
    return this.#track(entry);
  }

  /** Up to `count` lines from `fromSeq` on (clamped to what is held), oldest first. */
  slice(fromSeq: number, count: number): LogEntry[] {
    const start = Math.max(fromSeq, this.#firstSeq);
    const end = Math.min(this.#endSeq, start + Math.max(0, count));
    const entries: LogEntry[] = [];
    for (let seq = start; seq < end; seq++) entries.push(this.#slots[seq % this.capacity]!);
    return entries;
  }

  filter(predicate: (entry: LogEntry) => boolean): LogEntry[] {
    return this.slice(this.#firstSeq, this.size).filter(predicate);
  }

  /** Lines of `file` seen complete (ending in LF) since it was last created or truncated. */
  completeLines(file: string): number {
    return this.#completeLines.get(file) ?? 0;
  }

  /** The K for `tail -n +K <file>` that continues right after the last complete line seen. */
  resumeLine(file: string): number {
    return this.completeLines(file) + 1;
  }

  #append(line: LogLine): LogEntry {
    const entry: LogEntry = {...line, seq: this.#endSeq++};
    this.#slots[entry.seq % this.capacity] = entry;
    if (this.size > this.capacity) this.#firstSeq++;
    return entry;
  }

  #track(entry: LogEntry): LogEntry {
    this.#marks.set(entry.file ?? '', {seq: entry.seq, partial: entry.partial});
    return entry;
  }

  #count(file: string | undefined, delta: number): void {
    if (delta !== 0) this.#completeLines.set(file ?? '', this.completeLines(file ?? '') + delta);
  }
}
