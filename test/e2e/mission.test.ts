// The whole mission by keys, in a real pseudo-terminal, at 120×40 and at 80×24: filter the offers,
// rent two, watch both reach READY with their logs streaming, queue three jobs and see them run,
// open an output, destroy everything with D, quit. The dashboard runs LIVE against a simulated
// cloud started here, so the test can check afterwards that the account holds no instance; every
// other assertion is on what the screen shows.
import {existsSync, mkdtempSync, readdirSync, statSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {PNG} from 'pngjs';
import {afterEach, describe, expect, it} from 'vitest';
import {createVastdeckKey} from '../../source/core/ssh/keys.js';
import {startSimCloud, type SimCloud} from '../../source/sim/cloud.js';
import {startVastdeck, type PtySession} from '../helpers/pty.js';

const ESC = '\u001B';
const DOWN = '\u001B[B';
const UP = '\u001B[A';
const CTRL_U = '\u0015';

let session: PtySession | undefined;
let sim: SimCloud | undefined;

afterEach(async () => {
  if (session) {
    session.kill('SIGKILL');
    await session.exited;
    session = undefined;
  }
  await sim?.close();
  sim = undefined;
});

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

/** Keys as one read, then a moment for the screen to follow. */
async function keys(data: string, settleMs = 250): Promise<void> {
  session!.write(data);
  await sleep(settleMs);
}

function inputImage(): string {
  const png = new PNG({width: 64, height: 48});
  for (let i = 0; i < png.data.length; i += 4) png.data.set([30, 120 + (i % 90), 200, 255], i);
  const path = join(mkdtempSync(join(tmpdir(), 'vastdeck-e2e-image-')), 'fox.png');
  writeFileSync(path, PNG.sync.write(png));
  return path;
}

function count(text: string, pattern: RegExp): number {
  return text.match(new RegExp(pattern.source, 'g'))?.length ?? 0;
}

/** Every file under `dir`. */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap(name => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

describe.each([
  {cols: 120, rows: 40},
  {cols: 80, rows: 24},
])('the mission by keys at $cols×$rows', ({cols, rows}) => {
  it('filters, rents two, watches them boot with logs, runs three jobs, opens an output, destroys all with D and quits', {timeout: 600_000}, async () => {
    await createVastdeckKey();
    sim = await startSimCloud({port: 0, rateLimitScale: 0, churnIntervalMs: 0, speed: 100});
    const image = inputImage();
    // Outputs go to ./outputs of the folder vastdeck runs in; the ledger and the queue to a state
    // folder of this run's own (the other size's run must not show up in this one's queue).
    const cwd = mkdtempSync(join(tmpdir(), 'vastdeck-e2e-cwd-'));
    const state = mkdtempSync(join(tmpdir(), 'vastdeck-e2e-state-'));
    session = startVastdeck([], {cols, rows, cwd, env: {VAST_URL: sim.baseUrl, VAST_API_KEY: sim.apiKey, XDG_STATE_HOME: state}});
    await session.waitFor('LIVE');
    await session.waitFor(/Offer \d+ ·/);

    // Filter: the editor opens prefilled; Ctrl-U clears it; Enter applies. All in one read.
    await keys(`/${CTRL_U}inet_down>=500 reliability>=0.98\r`, 600);
    expect(session.screen()).not.toContain('Filter:');
    await keys('/');
    expect(await session.waitFor('Filter:')).toContain('Filter: inet_down>=500 reliability>=0.98');
    await keys(ESC);

    // Rent the best offer, then the next one.
    await keys('c');
    await session.waitFor('Rent this offer?');
    await keys('y', 600);
    await keys('1j');
    await keys('c');
    await session.waitFor('Rent this offer?');
    await keys('y');
    const booted = await session.waitFor(text => count(text, /✓ READY/) >= 2, 120_000);
    expect(booted).toMatch(/2 Instances 2 billing/);

    // Each one's log streams: Enter opens the selected instance's stages and log, ] the other's.
    await keys('g\r');
    expect(await session.waitFor(/── Log · following the tail · [1-9]\d* lines/)).toContain('READY');
    await keys(']');
    await session.waitFor(/── Log · following the tail · [1-9]\d* lines/);
    await keys(ESC);

    // Three jobs in one go (Count 3): image, prompt, then up past Workflow to Count.
    await keys('3a');
    await session.waitFor('Add a generation job');
    await session.waitFor(/Steps/);
    await keys(`${DOWN}${image}${DOWN}a fox in the snow`);
    await keys(`${UP}${UP}${UP}${UP}${CTRL_U}3${DOWN}\r`, 500);
    await session.waitFor('Queued 3 jobs');
    // Progress while they run, then all three done.
    await session.waitFor(/uploading|running|downloading/, 60_000);
    await session.waitFor(/0 queued · 0 running · 3 done/, 120_000);

    // Open an output: the job's detail, then o shows (and would open) its folder.
    await keys('g\r');
    await session.waitFor(/DONE after \d+s/);
    await keys('o');
    await session.waitFor('Outputs of job');
    expect(filesUnder(join(cwd, 'outputs')).some(path => path.endsWith('.png'))).toBe(true);
    await keys(ESC);

    // D destroys everything after the typed confirmation; outputs and logs come home first.
    await keys('2D');
    await session.waitFor('Destroy ALL 2 instances?');
    await keys('destroy\r');
    await session.waitFor(text => !/Instances \d+ billing/.test(text) && count(text, /✓ READY/) === 0, 120_000);

    // Nothing bills, so q quits at once; the terminal is restored and says so.
    await keys('q');
    const {exitCode} = await session.exited;
    expect(exitCode).toBe(0);
    expect(session.inAlternateScreen()).toBe(false);
    expect(session.screen()).toContain('no instance of this session is billing');
    expect(sim.instances.list()).toEqual([]);
  });
});
