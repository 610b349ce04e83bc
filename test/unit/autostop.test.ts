// vastdeck's side of autostop, piece by piece: the create variables and their reading back (also
// from the API's extra_env), the per-command overrides and their refusals (exit 2, one sentence),
// the settings, the heartbeat command as the simulated instance's shell runs it, and the dashboard's
// words for it.
import {describe, expect, it} from 'vitest';
import type {InstanceRow} from '../../source/core/deck-types.js';
import {AUTOSTOP_LAUNCH, autostopEnv, heartbeatCommand, parseAutostopEnv, withAutostopOverrides} from '../../source/core/provisioning/autostop.js';
import {DEFAULT_SETTINGS} from '../../source/core/settings.js';
import {heartbeatMs} from '../../source/core/ssh/heartbeat.js';
import {parseInstance} from '../../source/core/vast/instances-api.js';
import {runCommandLine} from '../../source/sim/ssh-commands.js';
import {VirtualFs} from '../../source/sim/virtual-fs.js';
import {autostopText} from '../../source/ui/instances/instance-format.js';
import {runCli} from '../helpers/run-cli.js';

const API = 'https://console.vast.ai';

describe('the create variables', () => {
  it('carry the settings and the API base, and read back the same (pairs, a dict, or the API answer)', () => {
    const env = autostopEnv({enabled: true, idleMinutes: 45, maxHours: 2.5, action: 'stop'}, `${API}/`);
    expect(env).toEqual({VASTDECK_AUTOSTOP_IDLE_MIN: '45', VASTDECK_AUTOSTOP_MAX_HOURS: '2.5', VASTDECK_AUTOSTOP_ACTION: 'stop', VASTDECK_AUTOSTOP_API: API});
    const config = {idleMinutes: 45, maxHours: 2.5, action: 'stop', api: API};
    expect(parseAutostopEnv(env)).toEqual(config);
    expect(parseAutostopEnv(Object.entries(env))).toEqual(config);
    expect(parseInstance({id: 7, extra_env: Object.entries(env)}).autostop).toEqual(config);
    expect(parseInstance({id: 7, extra_env: [['WEB_PASSWORD', 'x']]}).autostop).toBeUndefined();
  });

  it('a broken configuration is none at all', () => {
    const good = autostopEnv(DEFAULT_SETTINGS.autostop, API);
    for (const broken of [{VASTDECK_AUTOSTOP_IDLE_MIN: '0'}, {VASTDECK_AUTOSTOP_IDLE_MIN: 'soon'}, {VASTDECK_AUTOSTOP_ACTION: 'explode'}, {VASTDECK_AUTOSTOP_API: 'console.vast.ai'}, {VASTDECK_AUTOSTOP_MAX_HOURS: '-1'}] as Array<Record<string, string>>) {
      expect(parseAutostopEnv({...good, ...broken}), JSON.stringify(broken)).toBeUndefined();
    }
  });

  it('the launch line never carries the scoped key (the watchdog reads it from its environment)', () => {
    expect(AUTOSTOP_LAUNCH).toBe('(nohup python3 /opt/vastdeck/autostop.py >/dev/null 2>&1 &)');
    expect(AUTOSTOP_LAUNCH).not.toMatch(/KEY|CONTAINER/);
  });

  it('overrides: --no-autostop and --autostop-idle change only what they name', () => {
    expect(withAutostopOverrides(DEFAULT_SETTINGS.autostop, {enabled: false})).toEqual({...DEFAULT_SETTINGS.autostop, enabled: false});
    expect(withAutostopOverrides(DEFAULT_SETTINGS.autostop, {idleMinutes: 5, maxHours: undefined})).toEqual({...DEFAULT_SETTINGS.autostop, idleMinutes: 5});
    expect(DEFAULT_SETTINGS.autostop).toEqual({enabled: true, idleMinutes: 30, maxHours: 0, action: 'destroy'});
  });
});

describe('settings and flags', () => {
  it('autostop.* are settings with ranges, and autostop.action takes destroy or stop', async () => {
    expect((await runCli(['config', 'set', 'autostop.action', 'STOP'])).code).toBe(0);
    expect((await runCli(['config', 'get', 'autostop.action'])).stdout.trim()).toBe('stop');
    const bad = await runCli(['config', 'set', 'autostop.action', 'hibernate']);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim()).toBe("vastdeck: autostop.action needs one of destroy, stop, got 'hibernate'.");
    expect((await runCli(['config', 'set', 'autostop.idleMinutes', '0'])).code).toBe(2);
    expect((await runCli(['config', 'reset', 'autostop.action'])).code).toBe(0);
  });

  it.each([
    [['up', '--no-autostop', '--autostop-idle', '5'], 'Use either --no-autostop or --autostop-idle MIN, not both.'],
    [['up', '--autostop-idle', '0'], 'The option --autostop-idle must be between 1 and 10080, got 0.'],
    [['run', '--instance', '5', '--no-autostop', '--workflow', 'img2img-sdxl'], '--no-autostop and --autostop-idle apply to an instance vastdeck creates'],
  ])('%j: exit 2 with one sentence, nothing asked of any API', async (argv, sentence) => {
    const {code, stderr} = await runCli(argv);
    expect(code).toBe(2);
    expect(stderr).toContain(sentence);
    expect(stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('the heartbeat command on the (simulated) instance', () => {
  it("writes the instance's own clock and appends the outputs home, quoting names safely", async () => {
    const fs = new VirtualFs();
    let out = '';
    const io = {fs, env: {}, cwd: '/root', stdout: (data: Buffer | string) => (out += String(data)), stderr: (data: Buffer | string) => (out += String(data)), signal: new AbortController().signal, now: () => 1_800_000_000_999};
    expect(await runCommandLine(heartbeatCommand(), io)).toBe(0);
    expect(await runCommandLine(heartbeatCommand([`${'a'.repeat(64)}  fox_00001_.png`, `${'b'.repeat(64)}  it's $HOME; rm -rf.png`]), io)).toBe(0);
    expect(out).toBe('');
    expect(fs.read('/workspace/vastdeck/heartbeat')?.toString()).toBe('1800000000\n');
    expect(fs.read('/workspace/vastdeck/fetched')?.toString()).toBe(`${'a'.repeat(64)}  fox_00001_.png\n${'b'.repeat(64)}  it's $HOME; rm -rf.png\n`);
  });

  it('beats every 60 s against Vast, and as often as a faster cloud needs (at least every 250 ms)', () => {
    expect(heartbeatMs(1)).toBe(60_000);
    expect(heartbeatMs(10)).toBe(6000);
    expect(heartbeatMs(10_000)).toBe(250);
  });
});

describe("the dashboard's words", () => {
  const row = (autostop: InstanceRow['autostop'], ledgerState: InstanceRow['ledgerState'] = 'active'): InstanceRow => ({autostop, ledgerState}) as InstanceRow;
  const config = {idleMinutes: 30, maxHours: 0, action: 'destroy' as const, api: API};

  it('the configured idle while vastdeck beats, a countdown once it cannot', () => {
    expect(autostopText(row({config, beating: true, lastBeatAtMs: 1000}), 5000)).toBe('autostop 30m idle');
    expect(autostopText(row({config: {...config, maxHours: 4, action: 'stop'}, beating: true}), 0)).toBe('autostop (stop) 30m idle · max 4h');
    expect(autostopText(row({config, beating: false, lastBeatAtMs: 0, deadlineAtMs: 1_800_000}), 180_000)).toBe('autostop in 27m unless a job runs');
    expect(autostopText(row({config, beating: false, lastBeatAtMs: 0, deadlineAtMs: 1_800_000}), 1_900_000)).toBe('autostop due: no heartbeat for 30m');
    expect(autostopText(row(undefined), 0)).toBeUndefined();
    expect(autostopText(row({config, beating: false}, 'destroyed'), 0)).toBeUndefined();
  });
});
