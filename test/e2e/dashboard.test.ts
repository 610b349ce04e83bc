// End to end in a real pseudo-terminal: the built CLI, the embedded simulated cloud, and the
// full-screen dashboard, read back through a headless xterm as a user would see it.
import {afterEach, describe, expect, it} from 'vitest';
import {createVastdeckKey} from '../../source/core/ssh/keys.js';
import {startVastdeck, type PtySession} from '../helpers/pty.js';

let session: PtySession | undefined;

afterEach(async () => {
  if (session) {
    session.kill('SIGKILL');
    await session.exited;
    session = undefined;
  }
});

describe('dashboard in a real terminal', () => {
  it('opens on the simulated cloud, ranks offers, shows help, and quits restoring the screen', async () => {
    session = startVastdeck(['--demo'], {cols: 120, rows: 32});
    await session.waitFor('DEMO');
    await session.waitFor(/RTX|H100|A100|L40S|H200/);
    expect(session.inAlternateScreen()).toBe(true);
    const screen = session.screen();
    expect(screen).toMatch(/Job \$/);
    expect(screen).toContain('Instances');
    expect(screen).toContain('Queue');

    session.write('?');
    await session.waitFor(/help/i);
    session.write('\u001B');
    await new Promise(resolve => setTimeout(resolve, 200));

    session.write('q');
    const {exitCode} = await session.exited;
    expect(exitCode).toBe(0);
    expect(session.inAlternateScreen()).toBe(false);
    expect(session.raw()).toContain('\u001B[?1049l');
  });

  it('rents the selected offer from the keyboard and watches it boot to READY', async () => {
    await createVastdeckKey();
    session = startVastdeck(['--demo'], {cols: 120, rows: 32, env: {VASTDECK_SIM_SPEED: '100'}});
    await session.waitFor(/RTX|H100|A100|L40S|H200/);
    session.write('c');
    await session.waitFor(/Rent/);
    session.write('y');
    await session.waitFor(/READY/, 60_000);
    expect(session.screen()).toMatch(/Instances/);
    session.write('q');
    const {exitCode} = await session.exited;
    expect(exitCode).toBe(0);
  });

  it('redraws to the new size after a resize: borders at the new right edge, status and hints at the new bottom', async () => {
    session = startVastdeck(['--demo'], {cols: 120, rows: 32});
    await session.waitFor(/Offer \d+ ·/);
    const edges = (screen: string) => {
      const lines = screen.split('\n');
      return {
        // The Offers pane's top-right corner, and the row the key hints are on.
        corner: lines.find(line => /^[┌┏]/.test(line) && line.includes('1 Offers'))?.trimEnd().length,
        hints: lines.findIndex(line => line.startsWith('j/k move')),
        status: lines.findIndex(line => line.startsWith(' DEMO ')),
      };
    };
    expect(edges(session.screen())).toEqual({corner: 120, hints: 30, status: 29});

    session.resize(80, 24);
    const small = await session.waitFor(screen => edges(screen).corner === 80 && edges(screen).hints === 22);
    expect(edges(small)).toEqual({corner: 80, hints: 22, status: 21});
    // Nothing of the wider frame is left behind.
    for (const line of small.split('\n')) expect(line.length).toBeLessThanOrEqual(80);

    session.resize(100, 30);
    const back = await session.waitFor(screen => edges(screen).corner === 100);
    expect(edges(back)).toEqual({corner: 100, hints: 28, status: 27});
  });

  it('restores the terminal on Ctrl-C', async () => {
    session = startVastdeck(['--demo']);
    await session.waitFor('DEMO');
    session.write('\u0003');
    const {exitCode} = await session.exited;
    expect(exitCode).toBe(0);
    expect(session.inAlternateScreen()).toBe(false);
  });

  it('restores the terminal on SIGTERM', async () => {
    session = startVastdeck(['--demo']);
    await session.waitFor('DEMO');
    session.kill('SIGTERM');
    await session.exited;
    expect(session.inAlternateScreen()).toBe(false);
  });

  it('refuses --live without a key in one sentence and no stack trace', async () => {
    session = startVastdeck(['--live']);
    const {exitCode} = await session.exited;
    expect(exitCode).toBe(2);
    expect(session.raw()).toContain('--live needs a Vast.ai API key');
    expect(session.raw()).not.toMatch(/\n\s+at /);
  });
});
