// Picking the log rows that fit, without a terminal: following the tail, a paused window, wrap,
// file tags, the filter's line list, and the highlight of matches.
import {describe, expect, it} from 'vitest';
import {highlightParts} from '../../source/ui/instances/LogLines.js';
import {bufferLines, fileTag, filteredLines, logWindow, TAG_WIDTH, type WindowOptions} from '../../source/ui/instances/log-window.js';
import {TestLog} from './fleet-fixtures.js';

function logOf(count: number, capacity = 10_000): TestLog {
  const log = new TestLog(capacity);
  log.pushMany(count);
  return log;
}

const options = (overrides: Partial<WindowOptions> = {}): WindowOptions => ({rows: 5, width: 40, wrap: false, tags: false, follow: true, topSeq: 0, ...overrides});

describe('logWindow', () => {
  it('shows the newest lines when following, reading only one screen', () => {
    const log = logOf(5000);
    const window = logWindow(bufferLines(log), options());
    expect(window.rows.map(row => row.text)).toEqual(['line 4996', 'line 4997', 'line 4998', 'line 4999', 'line 5000']);
    expect(window.topIndex).toBe(4995);
    expect(window.below).toBe(0);
    expect(log.largestSlice).toBe(5);
  });

  it('stays at topSeq when paused and counts the lines below', () => {
    const log = logOf(100);
    const window = logWindow(bufferLines(log), options({follow: false, topSeq: 10}));
    expect(window.rows.map(row => row.text)).toEqual(['line 11', 'line 12', 'line 13', 'line 14', 'line 15']);
    expect(window.below).toBe(85);
  });

  it('keeps working after the ring buffer dropped its oldest lines', () => {
    const log = logOf(150, 100);
    const lines = bufferLines(log);
    expect(lines.count).toBe(100);
    expect(logWindow(lines, options({follow: false, topSeq: 3})).rows[0]!.text).toBe('line 51');
  });

  it('shows the arrival time before the file tag when a line has one', () => {
    const log = new TestLog(10);
    const at = new Date(2026, 10, 27, 6, 4, 31).getTime();
    log.push('Starting server', '/var/log/portal/comfyui.log', {atMs: at});
    const window = logWindow(bufferLines(log), options({tags: true}));
    expect(window.rows[0]?.tag).toBe('06:04:31 comfyui');
  });

  it('wraps long lines into rows, shows only the rows that fit, and tags only the first row of a line', () => {
    const log = new TestLog();
    log.push('short');
    log.push('a'.repeat(25) + 'b'.repeat(25) + 'c'.repeat(10));
    const wrapped = logWindow(bufferLines(log), options({rows: 3, width: TAG_WIDTH + 25, wrap: true, tags: true}));
    // No arrival time on these lines (pushed straight into the buffer): the time shows as --:--:--.
    expect(wrapped.rows.map(row => [row.tag, row.text])).toEqual([['--:--:-- provisioning', 'a'.repeat(25)], ['', 'b'.repeat(25)], ['', 'c'.repeat(10)]]);
    const cut = logWindow(bufferLines(log), options({rows: 3, width: 20}));
    expect(cut.rows.map(row => row.text)).toEqual(['short', `${'a'.repeat(19)}…`]);
  });

  it('scrolls through the matches of a filter only', () => {
    const log = new TestLog();
    for (let n = 1; n <= 50; n++) log.push(n % 10 === 0 ? `Error at ${n}` : `fine ${n}`);
    const lines = filteredLines(log, 'ERROR');
    expect(lines.count).toBe(5);
    expect(lines.indexOfSeq(25)).toBe(2);
    expect(logWindow(lines, options({rows: 2, follow: false, topSeq: 25})).rows.map(row => row.text)).toEqual(['Error at 30', 'Error at 40']);
    expect(logWindow(lines, options({rows: 2})).rows.map(row => row.text)).toEqual(['Error at 40', 'Error at 50']);
  });

  it('is empty for an empty log', () => {
    expect(logWindow(bufferLines(new TestLog()), options())).toEqual({rows: [], topIndex: 0, below: 0});
  });
});

describe('file tags and highlights', () => {
  it('names a line by its file without directory or .log', () => {
    expect(fileTag('/var/log/portal/provisioning.log')).toBe('provisioning');
    expect(fileTag('/workspace/ComfyUI/user/comfyui_18188.log')).toBe('comfyui_18188');
    expect(fileTag(undefined)).toBe('');
  });

  it('cuts text into plain and matching parts, ignoring case', () => {
    expect(highlightParts('An error, then ERROR again', 'error')).toEqual([
      {text: 'An ', match: false},
      {text: 'error', match: true},
      {text: ', then ', match: false},
      {text: 'ERROR', match: true},
      {text: ' again', match: false},
    ]);
    expect(highlightParts('nothing here', 'x')).toEqual([{text: 'nothing here', match: false}]);
    expect(highlightParts('abc', '')).toEqual([{text: 'abc', match: false}]);
  });
});
