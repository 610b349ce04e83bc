// `vastdeck CMD --help`, `-h` and `vastdeck help CMD` print that command's usage and exit 0 (nothing
// is connected, rented or started); an unknown command says so in one sentence and exits 2.
import {describe, expect, it} from 'vitest';
import {runCli} from '../helpers/run-cli.js';

describe('help', () => {
  it.each(['offers', 'up', 'run', 'down', 'spend', 'watch', 'config', 'login', 'ssh-forget'])('vastdeck %s --help prints its usage and nothing else', async command => {
    const {code, stdout, stderr} = await runCli([command, '--help']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout.startsWith('Usage:\n')).toBe(true);
    expect(stdout).toContain(`  vastdeck ${command}`);
    for (const line of stdout.split('\n').filter(text => /^ {2}vastdeck /.test(text))) expect(line.startsWith(`  vastdeck ${command}`)).toBe(true);
  });

  it('takes -h and `vastdeck help CMD` the same way, with the filter syntax where the command takes filters', async () => {
    const short = await runCli(['offers', '-h']);
    const long = await runCli(['help', 'offers']);
    expect(short).toEqual(long);
    expect(short.stdout).toContain('Filters look like: gpu=RTX_4090');
    expect((await runCli(['down', '--help'])).stdout).not.toContain('Filters look like');
  });

  it('gives the simulator its own, longer usage, and refuses an unknown command in one sentence', async () => {
    expect((await runCli(['help', 'sim'])).stdout).toContain('--rate-limit-scale X');
    const unknown = await runCli(['help', 'nope']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe("vastdeck: Unknown command 'nope': run `vastdeck help` to see the commands.\n");
  });
});
