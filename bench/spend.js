// Spend accuracy and the cap, against the simulator's own billing: runs the spend tests
// (test/integration/spend.test.ts, spend-cap.test.ts) with VASTDECK_SPEND_FIGURES set, which makes
// them print each comparison, and collects those lines. The tests assert the bounds (±1 % at
// speed 1, ±2 % at speed 10; the cap + 10 s of burn); the figures live here.
import {spawnSync} from 'node:child_process';
import {fileURLToPath} from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ACCURACY = /^speed (\d+) · (.+?): ours \$([\d.]+), simulator \$([\d.]+), (-?[\d.]+) %$/;
const CAP = /^cap · (.+?): billed \$([\d.]+) of a \$([\d.]+) cap at \$([\d.]+)\/h, (-?[\d.]+) s of burn before the cap$/;

export async function benchSpend() {
  const run = spawnSync(process.execPath, ['node_modules/vitest/vitest.mjs', 'run', 'test/integration/spend.test.ts', 'test/integration/spend-cap.test.ts'], {
    cwd: ROOT,
    env: {...process.env, VASTDECK_SPEND_FIGURES: '1', NO_COLOR: '1'},
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const lines = `${run.stdout}\n${run.stderr}`.split('\n').map(line => line.trim());
  const accuracy = lines.flatMap(line => {
    const match = ACCURACY.exec(line);
    return match ? [{speed: Number(match[1]), what: match[2], oursUsd: Number(match[3]), simulatorUsd: Number(match[4]), errorPct: Number(match[5])}] : [];
  });
  const cap = lines.flatMap(line => {
    const match = CAP.exec(line);
    return match ? [{frontEnd: match[1], billedUsd: Number(match[2]), capUsd: Number(match[3]), burnUsdPerHour: Number(match[4]), secondsOfBurnBeforeCap: Number(match[5])}] : [];
  });
  const worst = speed => Math.max(0, ...accuracy.filter(row => row.speed === speed).map(row => Math.abs(row.errorPct)));
  return {
    testsPassed: run.status === 0,
    worstErrorPct: {speed1: worst(1), speed10: worst(10)},
    accuracy,
    cap,
    note: 'ours = what the dashboard, the ledger or `vastdeck spend --json` said; simulator = its own billing of that instance',
  };
}
