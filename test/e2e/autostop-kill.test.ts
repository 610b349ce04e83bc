// Kill vastdeck, and the instances clean up after themselves: a dashboard Deck (the built one) in a
// child process rents two instances on a simulated cloud driven by a ManualClock, runs a job on one
// and brings its output home; then it is SIGKILLed. Nothing of vastdeck runs any more: both
// instances destroy themselves — each with its own scoped key — within autostop.idleMinutes of
// simulated time, and the output already home stays as it was.
import {spawn, type ChildProcess} from 'node:child_process';
import {createHash} from 'node:crypto';
import {mkdtempSync, readFileSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {PNG} from 'pngjs';
import {afterEach, describe, expect, it} from 'vitest';
import {AUTOSTOP_LOG_PATH} from '../../source/core/provisioning/autostop.js';
import {createVastdeckKey} from '../../source/core/ssh/keys.js';
import type {InstanceHost} from '../../source/sim/instance-host.js';
import {runCli} from '../helpers/run-cli.js';
import {startManualCloud, type ManualCloud} from '../helpers/sim-provisioned.js';

const CHILD = fileURLToPath(new URL('../helpers/deck-child.mjs', import.meta.url));
const MINUTE = 60_000;
const IDLE_MINUTES = 10;
let manual: ManualCloud | undefined;
let child: ChildProcess | undefined;

afterEach(async () => {
  child?.kill('SIGKILL');
  child = undefined;
  await manual?.cloud.close();
  manual = undefined;
});

const keyIdentity = (key: string): string => `key:${createHash('sha256').update(key).digest('hex').slice(0, 12)}`;

describe('autostop when vastdeck is killed', () => {
  it('SIGKILL with two instances running: both destroy themselves with their own keys within idleMinutes, and the output already home stays safe', {timeout: 240_000}, async () => {
    await createVastdeckKey();
    expect((await runCli(['config', 'set', 'autostop.idleMinutes', String(IDLE_MINUTES)])).code).toBe(0);
    const outputs = mkdtempSync(join(tmpdir(), 'vastdeck-autostop-outputs-'));
    expect((await runCli(['config', 'set', 'outputsDir', outputs])).code).toBe(0);
    const image = join(outputs, '..', `fox-${process.pid}.png`);
    const png = new PNG({width: 64, height: 48});
    for (let index = 0; index < png.data.length; index++) png.data[index] = (index * 7) % 256;
    writeFileSync(image, PNG.sync.write(png));

    manual = await startManualCloud();
    const {cloud, clock} = manual;
    cloud.account.balance = 1000;
    child = spawn(process.execPath, [CHILD], {
      env: {...process.env, VAST_URL: cloud.baseUrl, VAST_API_KEY: cloud.apiKey, DECK_RENT: '2', DECK_JOB_IMAGE: image, DECK_SPEED: '100', DECK_STATE_DIR: mkdtempSync(join(tmpdir(), 'vastdeck-child-state-'))},
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', chunk => (stdout += String(chunk)));
    child.stderr!.on('data', chunk => (stderr += String(chunk)));
    const exited = new Promise<number | null>(resolve => child!.once('exit', code => resolve(code)));
    let childExit: number | null | undefined;
    void exited.then(code => (childExit = code));

    // Simulated time moves only while the child works towards READY and its job (its heartbeats come
    // every 600 ms of real time at DECK_SPEED 100, a few simulated minutes at most at this pace).
    while (!stdout.includes('\n')) {
      if (childExit !== undefined) throw new Error(`the Deck child exited (${childExit}): ${stderr}`);
      await clock.advance(1000);
      await new Promise(resolve => setTimeout(resolve, 5));
    }
    const report = JSON.parse(stdout) as {ready: number[]; job: {instanceId: number; outputs: string[]}};
    expect(report.ready).toHaveLength(2);
    const hosts = new Map<number, InstanceHost>(report.ready.map(id => [id, cloud.instances.hostOf(id)!]));
    const home = report.job.outputs.map(path => ({path, sha256: createHash('sha256').update(readFileSync(path)).digest('hex')}));
    expect(home).toHaveLength(1);
    const jobHost = hosts.get(report.job.instanceId)!;
    expect(jobHost.fs.read('/workspace/vastdeck/fetched')?.toString()).toContain(home[0]!.sha256);

    child.kill('SIGKILL');
    await exited;
    const killedMs = clock.now();
    const live = (): number[] => report.ready.filter(id => cloud.instances.liveIds().includes(id));

    await clock.advance((IDLE_MINUTES - 3) * MINUTE);
    expect(live()).toEqual(report.ready);
    await clock.advance(4 * MINUTE);
    expect(live()).toEqual([]);
    expect(clock.now() - killedMs).toBeLessThanOrEqual((IDLE_MINUTES + 1) * MINUTE);

    for (const id of report.ready) {
      const host = hosts.get(id)!;
      const deletes = cloud.requests.filter(request => request.method === 'DELETE' && request.path === `/api/v0/instances/${id}/`);
      expect(deletes).toEqual([expect.objectContaining({status: 200, identity: keyIdentity(host.env.CONTAINER_API_KEY!)})]);
      expect(host.fs.read(AUTOSTOP_LOG_PATH)?.toString()).toMatch(/\[vastdeck\] autostop destroy at=\S+ reason=no heartbeat from vastdeck and no ComfyUI job for (9|10) min\n$/);
    }
    expect(cloud.requests.filter(request => request.method === 'DELETE' && request.identity === keyIdentity(cloud.apiKey))).toEqual([]);
    for (const file of home) expect(createHash('sha256').update(readFileSync(file.path)).digest('hex')).toBe(file.sha256);
  });
});
