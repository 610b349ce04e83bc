// `vastdeck up` and `vastdeck watch` end to end in demo mode: the real CLI entry, the embedded
// simulated cloud over loopback, one JSON event per line, and the exit codes scripts rely on.
import {describe, expect, it} from 'vitest';
import {runCli} from '../helpers/run-cli.js';

const run = runCli;

describe('vastdeck up / watch', () => {
  // Order matters: the first test runs before any SSH key exists in this file's HOME.
  it('says clearly when there is no SSH key and rents nothing', async () => {
    const {code, stderr} = await run(['up', '--demo', 'gpu=RTX_4090']);
    expect(code).toBe(2);
    expect(stderr).toContain('No SSH key found');
    expect(stderr).toContain('ssh-keygen -t ed25519');
  });

  it('rents, prints one JSON event per line through every stage, and exits 0 on READY', async () => {
    process.env.VASTDECK_SIM_SPEED = '400';
    const {code, stdout, stderr} = await run(['up', '--demo', '--json', '--create-key', 'gpu=RTX_4090', 'inet_down>=500']);
    expect(stderr).not.toMatch(/\n\s+at /);
    expect(code).toBe(0);
    const events = stdout.trim().split('\n').map(line => JSON.parse(line) as {event: string; stage?: string; instanceId?: number});
    expect(events.map(event => event.event)).toContain('created');
    expect(events.filter(event => event.event === 'stage').map(event => event.stage)).toEqual(['INITIALIZING', 'PROVISIONING', 'DOWNLOADING', 'STARTING_APP', 'READY']);
    const ready = events.at(-1)!;
    expect(ready.event).toBe('ready');
    expect(stdout).not.toMatch(/token/i);
  });

  it('rejects a bad filter before renting anything', async () => {
    const {code, stderr} = await run(['up', '--demo', 'gpu=RTX_4009']);
    expect(code).toBe(2);
    expect(stderr).toContain('did you mean RTX_4090');
  });

  it('watch: an unknown instance id is one sentence and exit 2', async () => {
    const {code, stderr} = await run(['watch', '--demo', '424242']);
    expect(code).toBe(2);
    expect(stderr).toContain('Instance 424242 is not on this account');
  });

  it('watch: a malformed id is one sentence and exit 2', async () => {
    const {code, stderr} = await run(['watch', 'abc']);
    expect(code).toBe(2);
    expect(stderr).toContain('needs one instance id');
  });
});
