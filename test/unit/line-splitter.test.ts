import {describe, expect, it} from 'vitest';
import {type LogLine, LineSplitter} from '../../source/core/ssh/line-splitter.js';
import {tailMerge} from '../helpers/boot-fixture.js';

const pushAll = (splitter: LineSplitter, chunks: Array<Buffer | string>): LogLine[] => [...chunks.flatMap(chunk => splitter.push(chunk)), ...splitter.end()];
const texts = (lines: LogLine[]): string[] => lines.map(line => line.text);
/** Cuts a byte stream into pieces of `size` bytes, splitting UTF-8 characters and escapes anywhere. */
const rechunk = (bytes: Buffer, size: number): Buffer[] => Array.from({length: Math.ceil(bytes.length / size)}, (_, i) => bytes.subarray(i * size, (i + 1) * size));
const UNSAFE = /[\x00-\x08\x0a-\x1f\x7f-\x9f]/;

describe('LineSplitter', () => {
  it('splits on LF, CRLF and lone CR, flagging each redraw of the same line', () => {
    const lines = pushAll(new LineSplitter(), ['first\r\nsecond\n\rbar 1%\rbar 2%\rbar 3%\r\nafter\n']);
    expect(lines).toEqual([
      {text: 'first', redraw: false, partial: false},
      {text: 'second', redraw: false, partial: false},
      {text: 'bar 1%', redraw: false, partial: true},
      {text: 'bar 2%', redraw: true, partial: true},
      {text: 'bar 3%', redraw: true, partial: false},
      {text: 'after', redraw: false, partial: false},
    ]);
  });

  it('shows a partial line at once and completes it as a redraw when the rest arrives', () => {
    const splitter = new LineSplitter();
    expect(splitter.push('FETCH DATA from: https://x/list.json')).toEqual([{text: 'FETCH DATA from: https://x/list.json', redraw: false, partial: true}]);
    expect(splitter.push(' [DONE]\r')).toEqual([{text: 'FETCH DATA from: https://x/list.json [DONE]', redraw: true, partial: true}]);
    expect(splitter.push('\n')).toEqual([{text: 'FETCH DATA from: https://x/list.json [DONE]', redraw: true, partial: false}]);
    expect(splitter.end()).toEqual([]);
  });

  it('decodes UTF-8 characters split across chunks', () => {
    const bytes = Buffer.from('━━╸ 8.7/8.7 MB 🎉 Loaded\n');
    const lines = pushAll(new LineSplitter(), rechunk(bytes, 1));
    expect(lines.filter(line => !line.partial).map(line => line.text)).toEqual(['━━╸ 8.7/8.7 MB 🎉 Loaded']);
  });

  it('strips colour, cursor and OSC sequences even when a chunk ends inside one', () => {
    const raw = '\x1b[?25l\x1b[1m\x1b[31mError: Access denied.\x1b[0m \x1b]0;title\x07done \x1b]8;;https://hf.co\x1b\\link\x1b]8;;\x1b\\ \x1b(Bok\x1b[?25h\r\n';
    for (const size of [1, 3, 1000]) {
      const lines = pushAll(new LineSplitter(), rechunk(Buffer.from(raw), size));
      expect(lines.at(-1)).toEqual({text: 'Error: Access denied. done link ok', redraw: size < 1000, partial: false});
    }
  });

  it('drops control bytes but keeps tabs, and collapses invalid bytes into one U+FFFD per run', () => {
    expect(texts(pushAll(new LineSplitter(), ['a\x00b\tc\x07d\x7f\u202ee\n']))).toEqual(['ab\tcde']);
    const junk = Buffer.from([0x66, 0xff, 0xfe, 0x00, 0xc3, 0x28, 0x80, 0x67, 0x0a]);
    expect(texts(pushAll(new LineSplitter(), [junk]))).toEqual(['f\uFFFD(\uFFFDg']);
  });

  it('makes binary junk safe to print', () => {
    let seed = 42;
    const junk = Buffer.from(Array.from({length: 256 * 1024}, () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) >> 16) & 0xff));
    const lines = pushAll(new LineSplitter(), rechunk(junk, 4093));
    expect(lines.length).toBeGreaterThan(100);
    for (const line of lines) {
      expect(line.text).not.toMatch(UNSAFE);
      expect(line.text).not.toContain('\uFFFD\uFFFD');
      expect(line.text.length).toBeLessThanOrEqual(4096 + 30);
    }
  });

  it('caps a megabyte line without a newline: the head is kept, the rest counted, nothing grows', () => {
    const splitter = new LineSplitter();
    const shown: LogLine[] = [];
    for (let i = 0; i < 16; i++) shown.push(...splitter.push(Buffer.alloc(64 * 1024, 'x')));
    for (const line of shown) expect(line.text.length).toBeLessThanOrEqual(4096 + 30);
    expect(shown.at(-1)).toEqual({text: `${'x'.repeat(4096)}… (${2 ** 20 - 4096} more chars)`, redraw: true, partial: true});
    expect(splitter.push('y\nnext\n')).toEqual([
      {text: `${'x'.repeat(4096)}… (${2 ** 20 - 4095} more chars)`, redraw: true, partial: false},
      {text: 'next', redraw: false, partial: false},
    ]);
  });

  it('honours maxLineChars', () => {
    expect(texts(pushAll(new LineSplitter({maxLineChars: 20}), [`${'a'.repeat(25)}\n`]))).toEqual([`${'a'.repeat(20)}… (5 more chars)`]);
  });

  it('tags lines with the file of the last tail -F header and drops the separator line', () => {
    const lines = pushAll(new LineSplitter(), ['==> /var/log/portal/provisioning.log <==\nProvisioner starting\n', '\n==> /var/log/portal/comfyui.log <==\npaused\n\n', 'blank above\n']);
    expect(lines).toEqual([
      {file: '/var/log/portal/provisioning.log', text: 'Provisioner starting', redraw: false, partial: false},
      {file: '/var/log/portal/comfyui.log', text: 'paused', redraw: false, partial: false},
      {file: '/var/log/portal/comfyui.log', text: '', redraw: false, partial: false},
      {file: '/var/log/portal/comfyui.log', text: 'blank above', redraw: false, partial: false},
    ]);
  });

  it('continues a progress bar cut by another file as a redraw of the same line', () => {
    const splitter = new LineSplitter();
    const lines = pushAll(splitter, [
      '==> /a.log <==\n\rmodel  1%[ ] 9M',
      '\n==> /b.log <==\npaused\n',
      '\n==> /a.log <==\n\rmodel  2%[ ] 18M',
      ' 45MB/s\r\n',
    ]);
    expect(lines.filter(line => line.file === '/a.log')).toEqual([
      {file: '/a.log', text: 'model  1%[ ] 9M', redraw: false, partial: true},
      // The LF before tail's header looked like the end of the line, then the header showed it was not.
      {file: '/a.log', text: 'model  1%[ ] 9M', redraw: true, partial: false},
      {file: '/a.log', text: 'model  1%[ ] 9M', redraw: true, partial: true},
      {file: '/a.log', text: 'model  2%[ ] 18M', redraw: true, partial: true},
      {file: '/a.log', text: 'model  2%[ ] 18M 45MB/s', redraw: true, partial: false},
    ]);
    expect(lines.some(line => line.text === '')).toBe(false);
  });

  it.each([
    ["tail: cannot open '/var/log/portal/comfyui.log' for reading: No such file or directory", 'missing'],
    ["tail: '/var/log/portal/comfyui.log' has appeared;  following new file", 'appeared'],
    ["tail: '/var/log/portal/comfyui.log' has become inaccessible: No such file or directory", 'inaccessible'],
    ["tail: '/var/log/portal/comfyui.log' has been replaced;  following new file", 'replaced'],
    ['tail: /var/log/portal/comfyui.log: file truncated', 'truncated'],
  ])('reads the tail notice "%s" as a line about that file', (text, notice) => {
    const lines = pushAll(new LineSplitter(), ['==> /var/log/onstart.log <==\nboot\n', text.slice(0, 9), `${text.slice(9)}\n`]);
    expect(lines.at(-1)).toEqual({file: '/var/log/portal/comfyui.log', text, redraw: false, partial: false, notice});
    expect(lines).toHaveLength(2);
  });

  describe('on the recorded first-boot logs (tail -F of provisioning, comfyui and onstart)', () => {
    it.each(['happy', 'failure', 'slow-resume'])('%s: every line is display-safe and tagged with its file', scenario => {
      const splitter = new LineSplitter();
      const files = new Set<string | undefined>();
      for (const chunk of tailMerge(scenario)) {
        for (const line of splitter.push(Buffer.from(chunk.bytes))) {
          files.add(line.file);
          expect(line.text).not.toMatch(UNSAFE);
        }
      }
      expect([...files].sort()).toEqual(['/var/log/onstart.log', '/var/log/portal/comfyui.log', '/var/log/portal/provisioning.log']);
    });

    it('gives the same complete lines whatever the chunk size', () => {
      const stream = Buffer.from(tailMerge('happy').map(chunk => chunk.bytes).join(''));
      const complete = (size: number): string[] => pushAll(new LineSplitter(), rechunk(stream, size))
        .filter(line => !line.partial)
        .map(line => `${line.file}: ${line.text}`);
      const whole = complete(stream.length);
      expect(whole.length).toBeGreaterThan(3000);
      expect(complete(7)).toEqual(whole);
      expect(complete(4096)).toEqual(whole);
    });

    it('draws each wget redraw of the checkpoint on the line of its file', () => {
      const splitter = new LineSplitter();
      const bars = tailMerge('happy').flatMap(chunk => splitter.push(Buffer.from(chunk.bytes)))
        .filter(line => line.file === '/var/log/portal/provisioning.log' && line.text.startsWith('sd_xl_base_1.0.safetensors'));
      expect(bars[0]).toMatchObject({redraw: false, partial: true});
      expect(bars.slice(1).every(line => line.redraw)).toBe(true);
      expect(bars.at(-1)).toMatchObject({partial: false});
      expect(bars.at(-1)!.text).toMatch(/100%\[=+>\] +6\.46G +44\.6MB\/s +in 2m 24s/);
    });
  });
});
