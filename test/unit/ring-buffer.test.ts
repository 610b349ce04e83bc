import {describe, expect, it} from 'vitest';
import {type LogLine, LineSplitter} from '../../source/core/ssh/line-splitter.js';
import {LogRingBuffer} from '../../source/core/ssh/ring-buffer.js';
import {PORTAL_LOGS, type TailWrite, tailWrites, withTailHeaders} from '../helpers/boot-fixture.js';

const line = (text: string, extra: Partial<LogLine> = {}): LogLine => ({file: '/a.log', text, redraw: false, partial: false, ...extra});
const textsOf = (ring: LogRingBuffer, file: string): string[] => ring.filter(entry => entry.file === file).map(entry => entry.text);

/** Feeds a tail -F stream through a splitter into `ring`. */
function stream(ring: LogRingBuffer, writes: readonly TailWrite[]): void {
  const splitter = new LineSplitter();
  for (const chunk of withTailHeaders(writes)) for (const logLine of splitter.push(Buffer.from(chunk.bytes))) ring.push(logLine);
  for (const logLine of splitter.end()) ring.push(logLine);
}

/** What `tail -n +K` prints of `content`: everything after its (K-1)-th line feed. */
function fromLine(content: string, k: number): string {
  let index = 0;
  for (let n = 1; n < k; n++) index = content.indexOf('\n', index) + 1;
  return content.slice(index);
}

describe('LogRingBuffer', () => {
  it('keeps the newest N lines, numbered in order', () => {
    const ring = new LogRingBuffer(3);
    for (const text of ['1', '2', '3', '4', '5']) ring.push(line(text));
    expect(ring.size).toBe(3);
    expect([ring.firstSeq, ring.endSeq]).toEqual([2, 5]);
    expect(ring.slice(0, 10).map(entry => [entry.seq, entry.text])).toEqual([[2, '3'], [3, '4'], [4, '5']]);
  });

  it('replaces a redrawn line in place, even after lines of another file', () => {
    const ring = new LogRingBuffer(10);
    ring.push(line('bar 1%', {partial: true}));
    ring.push(line('paused', {file: '/b.log'}));
    const entry = ring.push(line('bar 2%', {redraw: true, partial: true}));
    expect(entry.seq).toBe(0);
    expect(ring.slice(0, 10).map(e => e.text)).toEqual(['bar 2%', 'paused']);
  });

  it('appends a redraw whose line has already scrolled out', () => {
    const ring = new LogRingBuffer(2);
    ring.push(line('bar 1%', {partial: true}));
    ring.push(line('x', {file: '/b.log'}));
    ring.push(line('y', {file: '/b.log'}));
    expect(ring.replaceLast(line('bar 2%', {partial: true})).seq).toBe(3);
    expect(ring.slice(0, 10).map(e => e.text)).toEqual(['y', 'bar 2%']);
  });

  it('gives windows by sequence number and filters', () => {
    const ring = new LogRingBuffer(100);
    for (let i = 0; i < 50; i++) ring.push(line(i % 10 === 0 ? `error ${i}` : `ok ${i}`));
    expect(ring.slice(45, 10).map(e => e.text)).toEqual(['ok 45', 'ok 46', 'ok 47', 'ok 48', 'ok 49']);
    expect(ring.slice(10, 2).map(e => e.seq)).toEqual([10, 11]);
    expect(ring.slice(-5, 0)).toEqual([]);
    expect(ring.filter(e => e.text.startsWith('error')).map(e => e.seq)).toEqual([0, 10, 20, 30, 40]);
  });

  it('counts each physical line once, however often it was redrawn', () => {
    const ring = new LogRingBuffer(10);
    ring.push(line('bar 1%', {partial: true}));
    ring.push(line('bar 2%', {redraw: true, partial: true}));
    expect(ring.resumeLine('/a.log')).toBe(1);
    ring.push(line('bar 100%', {redraw: true}));
    ring.push(line('next'));
    expect(ring.completeLines('/a.log')).toBe(2);
    expect(ring.resumeLine('/a.log')).toBe(3);
  });

  it('starts counting again when tail says a file was replaced or truncated', () => {
    const ring = new LogRingBuffer(10);
    ring.push(line('old 1'));
    ring.push(line('old 2'));
    ring.push({file: '/a.log', text: "tail: '/a.log' has been replaced;  following new file", redraw: false, partial: false, notice: 'replaced'});
    ring.push(line('new 1'));
    expect(ring.completeLines('/a.log')).toBe(1);
    expect(ring.size).toBe(4);
  });

  it('counts exactly the line feeds of each file of a real tail -F stream', () => {
    const writes = tailWrites('happy');
    const ring = new LogRingBuffer(100_000);
    stream(ring, writes);
    for (const {path} of PORTAL_LOGS) {
      const content = writes.filter(write => write.path === path).map(write => write.bytes).join('');
      expect(ring.completeLines(path)).toBe(content.split('\n').length - 1);
    }
  });

  it('resumes a dropped stream with tail -n +K without losing or repeating a line', () => {
    const writes = tailWrites('happy');
    const uninterrupted = new LogRingBuffer(100_000);
    stream(uninterrupted, writes);

    // The connection drops at +100 s, in the middle of the checkpoint's progress bar.
    const dropMs = 100_000;
    const ring = new LogRingBuffer(100_000);
    stream(ring, writes.filter(write => write.tMs <= dropMs));
    expect(ring.filter(e => e.file === '/var/log/portal/provisioning.log').at(-1)).toMatchObject({partial: true});
    const replay = PORTAL_LOGS.flatMap(({path}) => {
      const written = writes.filter(write => write.tMs <= dropMs && write.path === path).map(write => write.bytes).join('');
      const bytes = fromLine(written, ring.resumeLine(path));
      return bytes === '' ? [] : [{tMs: dropMs, bytes, path}];
    });
    stream(ring, [...replay, ...writes.filter(write => write.tMs > dropMs)]);

    for (const {path} of PORTAL_LOGS) {
      expect(textsOf(ring, path)).toEqual(textsOf(uninterrupted, path));
      expect(ring.completeLines(path)).toBe(uninterrupted.completeLines(path));
    }
  });
});
