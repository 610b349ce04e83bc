// `vastdeck spend` as scripts and people see it: the text report on an empty demo account, the JSON
// fields scripts rely on, and bad input as one sentence with exit 2.
import {describe, expect, it} from 'vitest';
import {runCli} from '../helpers/run-cli.js';

describe('vastdeck spend', () => {
  it('reports an empty account in words, with the balance', async () => {
    const {code, stdout, stderr} = await runCli(['spend', '--demo']);
    expect(code, stderr).toBe(0);
    expect(stdout).toContain('No instance is on the account: nothing bills.');
    expect(stdout).toContain('Jobs: none in the outputs folder.');
    expect(stdout).toMatch(/All time \(this install's ledger\): \$0\.00\./);
    expect(stdout).toMatch(/Balance: \$25\.00; nothing bills now\./);
  });

  it('prints the JSON scripts rely on', async () => {
    const {code, stdout} = await runCli(['spend', '--demo', '--json']);
    expect(code).toBe(0);
    const report = JSON.parse(stdout) as Record<string, unknown>;
    expect(report).toMatchObject({balanceUsd: 25, burnUsdPerHour: 0, runwayHours: null, instances: [], ended: [], jobs: [], allTimeUsd: 0});
  });

  it('refuses an unknown option in one sentence, exit 2', async () => {
    const {code, stderr} = await runCli(['spend', '--per-hour']);
    expect(code).toBe(2);
    expect(stderr.trim()).toBe('vastdeck: Unknown option --per-hour for `vastdeck spend`: the options are --json, --demo, --live.');
  });
});
