// Runs vastdeck in a real pseudo-terminal (@lydell/node-pty: prebuilt, nothing compiles at install)
// and keeps a headless xterm in sync with what it prints, so end-to-end tests assert on the screen a
// user would actually see.
import {fileURLToPath} from 'node:url';
import xtermHeadless from '@xterm/headless';
import pty from '@lydell/node-pty';

const {Terminal} = xtermHeadless;
const BIN = fileURLToPath(new URL('../../bin/vastdeck.js', import.meta.url));

export interface PtySession {
  /** The visible screen as text, one line per row, trailing spaces trimmed. */
  screen(): string;
  /** Everything written to the terminal so far (escape sequences included). */
  raw(): string;
  write(data: string): void;
  resize(cols: number, rows: number): void;
  kill(signal?: string): void;
  /** Resolves with the screen once it contains `match` (or `match(screen)` holds). */
  waitFor(match: string | RegExp | ((screen: string) => boolean), timeoutMs?: number): Promise<string>;
  exited: Promise<{exitCode: number; signal?: number}>;
  /** True while the alternate screen buffer is active. */
  inAlternateScreen(): boolean;
}

export function startVastdeck(args: string[], options: {cols?: number; rows?: number; env?: Record<string, string>; cwd?: string} = {}): PtySession {
  const cols = options.cols ?? 120;
  const rows = options.rows ?? 32;
  const terminal = new Terminal({cols, rows, allowProposedApi: true});
  let output = '';
  const child = pty.spawn(process.execPath, [BIN, ...args], {
    name: 'xterm-256color',
    cols,
    rows,
    cwd: options.cwd ?? process.cwd(),
    env: {...(process.env as Record<string, string>), CI: '0', ...options.env},
  });
  child.onData(data => {
    output += data;
    terminal.write(data);
  });
  const exited = new Promise<{exitCode: number; signal?: number}>(resolve => {
    child.onExit(event => resolve(event));
  });

  const screen = (): string => {
    const buffer = terminal.buffer.active;
    const lines: string[] = [];
    for (let row = 0; row < terminal.rows; row++) {
      lines.push(buffer.getLine(buffer.viewportY + row)?.translateToString(true) ?? '');
    }
    return lines.join('\n');
  };

  return {
    screen,
    raw: () => output,
    write: data => child.write(data),
    resize: (newCols, newRows) => {
      child.resize(newCols, newRows);
      terminal.resize(newCols, newRows);
    },
    kill: signal => child.kill(signal),
    exited,
    inAlternateScreen: () => terminal.buffer.active.type === 'alternate',
    waitFor: async (match, timeoutMs = 15_000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        await new Promise(resolve => setTimeout(resolve, 50));
        const text = screen();
        if (typeof match === 'string' ? text.includes(match) : match instanceof RegExp ? match.test(text) : match(text)) return text;
        if (Date.now() > deadline) throw new Error(`Timed out waiting for ${String(match)}; screen was:\n${text}`);
      }
    },
  };
}
