// Which log lines fit on screen. A log holds thousands of lines; the view draws only the rows that
// fit, taken straight from the ring buffer with slice() (or from the list of filter matches), with
// long lines cut with '…' or wrapped, and an optional file tag per line. Pure, so scrolling, wrap
// and the filter are tested without a terminal.
import type {LogView} from '../../core/deck-types.js';
import type {LogEntry} from '../../core/ssh/ring-buffer.js';
import {truncate} from '../shared/text-fit.js';

/** Cells for the time and file tag ('12:04:31 provisioning') and the space after it. */
export const TAG_WIDTH = 22;

type LogSource = Pick<LogView, 'slice' | 'firstSeq' | 'endSeq'>;

/** The lines the view scrolls through: the whole buffer, or the lines matching the filter. */
export interface LogLines {
  count: number;
  /** Up to `count` lines from position `index` (0 = oldest held). */
  at(index: number, count: number): LogEntry[];
  /** Position of the first line at or after `seq`. */
  indexOfSeq(seq: number): number;
}

export function bufferLines(source: LogSource): LogLines {
  const first = source.firstSeq();
  const count = source.endSeq() - first;
  return {
    count,
    at: (index, wanted) => source.slice(first + Math.max(0, index), wanted),
    indexOfSeq: seq => Math.min(count, Math.max(0, seq - first)),
  };
}

export function matchesFilter(text: string, filter: string): boolean {
  return text.toLowerCase().includes(filter.toLowerCase());
}

/** The lines containing `filter` (case-insensitive), oldest first. */
export function filteredLines(source: LogSource, filter: string): LogLines {
  const first = source.firstSeq();
  const matches = source.slice(first, source.endSeq() - first).filter(entry => matchesFilter(entry.text, filter));
  return {
    count: matches.length,
    at: (index, wanted) => matches.slice(Math.max(0, index), Math.max(0, index) + wanted),
    indexOfSeq: seq => {
      let low = 0;
      let high = matches.length;
      while (low < high) {
        const middle = (low + high) >> 1;
        if (matches[middle]!.seq < seq) low = middle + 1;
        else high = middle;
      }
      return low;
    },
  };
}

/** 'provisioning' for /var/log/portal/provisioning.log. */
export function fileTag(file: string | undefined): string {
  if (!file) return '';
  const base = file.split('/').filter(Boolean).pop() ?? file;
  return base.replace(/\.log$/, '');
}

export interface LogRow {
  seq: number;
  /** The file tag on a line's first row; '' on wrapped continuation rows or with tags off. */
  tag: string;
  text: string;
  /** A note from tail about the file (appeared, truncated, …), not a line of it. */
  notice: boolean;
}

export interface WindowOptions {
  rows: number;
  width: number;
  wrap: boolean;
  tags: boolean;
  /** Show the newest lines; otherwise start at `topSeq`. */
  follow: boolean;
  topSeq: number;
}

export interface LogWindow {
  rows: LogRow[];
  /** Position (in `lines`) of the line on the first row. */
  topIndex: number;
  /** Lines after the last one shown. */
  below: number;
}

/** The local time a line arrived, HH:MM:SS ('--:--:--' when unknown). */
function clockTime(atMs: number | undefined): string {
  if (atMs === undefined) return '--:--:--';
  const at = new Date(atMs);
  return [at.getHours(), at.getMinutes(), at.getSeconds()].map(part => String(part).padStart(2, '0')).join(':');
}

function entryRows(entry: LogEntry, options: WindowOptions): LogRow[] {
  const tag = options.tags ? `${clockTime(entry.atMs)} ${fileTag(entry.file)}` : '';
  const width = Math.max(1, options.width - (options.tags ? TAG_WIDTH : 0));
  const text = entry.text.replace(/\t/g, '  ');
  const notice = entry.notice !== undefined;
  if (!options.wrap) return [{seq: entry.seq, tag, text: truncate(text, width), notice}];
  const chars = [...text];
  const rows: LogRow[] = [];
  for (let start = 0; start < Math.max(1, chars.length); start += width) {
    rows.push({seq: entry.seq, tag: start === 0 ? tag : '', text: chars.slice(start, start + width).join(''), notice});
  }
  return rows;
}

/** The rows to draw: at most `options.rows` lines are read, so a 5,000-line log costs one screen. */
export function logWindow(lines: LogLines, options: WindowOptions): LogWindow {
  const height = Math.max(0, options.rows);
  if (lines.count === 0 || height === 0) return {rows: [], topIndex: 0, below: 0};
  if (options.follow) {
    const start = Math.max(0, lines.count - height);
    const rows = lines.at(start, height).flatMap(entry => entryRows(entry, options)).slice(-height);
    return {rows, topIndex: lines.indexOfSeq(rows[0]!.seq), below: 0};
  }
  const topIndex = Math.min(lines.indexOfSeq(options.topSeq), lines.count - 1);
  const rows = lines.at(topIndex, height).flatMap(entry => entryRows(entry, options)).slice(0, height);
  const lastIndex = lines.indexOfSeq(rows.at(-1)!.seq);
  return {rows, topIndex, below: Math.max(0, lines.count - 1 - lastIndex)};
}
