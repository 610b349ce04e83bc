// Replays the timed first-boot log fixtures of sim-data/boot/ (format: sim-data/boot/README.md §1).
// `readBootFixture` turns one file into the writes the program made, in order and with their
// times; `tailMerge` interleaves several files the way `tail -F` prints them, headers included.
import {readFileSync} from 'node:fs';
import {join} from 'node:path';

export interface BootChunk {
  /** Milliseconds since the container started. */
  tMs: number;
  /** The text written at that moment (escapes decoded, LF added unless the payload ends in `\c`). */
  bytes: string;
}

export const BOOT_FIXTURES = join(import.meta.dirname, '..', '..', 'sim-data', 'boot');

const FIXTURE_LINE = /^\+(\d+\.\d{3}) (.*)$/;
const ESCAPE = /\\(\\|r|e|t|x[0-9a-fA-F]{2}|c$)/g;
const DECODED: Record<string, string> = {'\\': '\\', r: '\r', e: '\x1b', t: '\t'};

export function readBootFixture(path: string): BootChunk[] {
  const chunks: BootChunk[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (line === '') continue;
    const match = FIXTURE_LINE.exec(line);
    if (!match) throw new Error(`${path}: not a fixture line: ${line.slice(0, 60)}`);
    let newline = '\n';
    const bytes = match[2]!.replace(ESCAPE, (_, code: string) => {
      if (code === 'c') {
        newline = '';
        return '';
      }
      return DECODED[code] ?? String.fromCharCode(Number.parseInt(code.slice(1), 16));
    });
    chunks.push({tMs: Math.round(Number(match[1]) * 1000), bytes: bytes + newline});
  }
  return chunks;
}

/** One followed file: the fixture it is read from and the path tail names it by. */
export interface TailSource {
  fixture: string;
  path: string;
}

/** The instance paths of the raw portal logs and the boot log (README §2). */
export const PORTAL_LOGS: readonly TailSource[] = [
  {fixture: 'var-log-portal-provisioning.log', path: '/var/log/portal/provisioning.log'},
  {fixture: 'var-log-portal-comfyui.log', path: '/var/log/portal/comfyui.log'},
  {fixture: 'var-log-onstart.log', path: '/var/log/onstart.log'},
];

/** A write to one followed file. */
export interface TailWrite extends BootChunk {
  path: string;
}

/** The writes to `sources` of one scenario in time order (equal times keep the order of `sources`). */
export function tailWrites(scenario: string, sources: readonly TailSource[] = PORTAL_LOGS): TailWrite[] {
  const writes = sources.flatMap((source, order) =>
    readBootFixture(join(BOOT_FIXTURES, scenario, source.fixture)).map((chunk, index) => ({...chunk, order, index, path: source.path})));
  writes.sort((a, b) => a.tMs - b.tMs || a.order - b.order || a.index - b.index);
  return writes.map(({tMs, bytes, path}) => ({tMs, bytes, path}));
}

/** What `tail -F` prints for `writes`: GNU tail's `\n==> path <==\n` header whenever the file changes. */
export function withTailHeaders(writes: readonly TailWrite[]): BootChunk[] {
  let current: string | undefined;
  return writes.map(({tMs, bytes, path}) => {
    if (path === current) return {tMs, bytes};
    const header = `${current === undefined ? '' : '\n'}==> ${path} <==\n`;
    current = path;
    return {tMs, bytes: header + bytes};
  });
}

/** The stdout of `tail -F` on `sources` of one scenario, one chunk per write. */
export function tailMerge(scenario: string, sources: readonly TailSource[] = PORTAL_LOGS): BootChunk[] {
  return withTailHeaders(tailWrites(scenario, sources));
}
