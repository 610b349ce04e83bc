// `vastdeck run` against a simulated cloud reached as a live API (VAST_URL + key, like a standalone
// `vastdeck sim`): bad input costs nothing (exit 2, one sentence, no create call ever sent, nothing
// billed); `run --up --down` brings the output home verified and leaves nothing on the account,
// also when interrupted with SIGINT (the built CLI in a child process); a job whose instance dies or
// whose outputs cannot be saved ends with its reason and exit 1 instead of hanging.
import {spawn} from 'node:child_process';
import {createHash} from 'node:crypto';
import {existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {PNG} from 'pngjs';
import {afterAll, beforeAll, beforeEach, describe, expect, it} from 'vitest';
import {createVastdeckKey} from '../../source/core/ssh/keys.js';
import {hostPinKey, KnownHosts} from '../../source/core/ssh/known-hosts.js';
import {stateDir} from '../../source/core/state-paths.js';
import {startSimCloud, type SimCloud} from '../../source/sim/cloud.js';
import {parseFaultSpec} from '../../source/sim/fault-plan.js';
import {runCli} from '../helpers/run-cli.js';

const BIN = fileURLToPath(new URL('../../bin/vastdeck.js', import.meta.url));
let sim: SimCloud;
let work: string;
let image: string;
let outputs: string;

beforeAll(async () => {
  sim = await startSimCloud({port: 0, rateLimitScale: 0, churnIntervalMs: 0, speed: 400});
  process.env.VAST_URL = sim.baseUrl;
  process.env.VAST_API_KEY = sim.apiKey;
  await createVastdeckKey();
  work = mkdtempSync(join(tmpdir(), 'vastdeck-run-'));
  image = join(work, 'fox.png');
  const png = new PNG({width: 64, height: 48});
  for (let index = 0; index < png.data.length; index++) png.data[index] = (index * 13) % 256;
  writeFileSync(image, PNG.sync.write(png));
});

beforeEach(async () => {
  outputs = mkdtempSync(join(tmpdir(), 'vastdeck-run-outputs-'));
  expect((await runCli(['config', 'set', 'outputsDir', outputs])).code).toBe(0);
});

afterAll(async () => {
  delete process.env.VAST_URL;
  delete process.env.VAST_API_KEY;
  await sim.close();
});

const creates = (): number => sim.requests.filter(request => request.method === 'PUT' && request.path.startsWith('/api/v0/asks/')).length;
const job = (...extra: string[]): string[] => ['run', '--up', '--down', '--workflow', 'img2img-sdxl', '--image', image, '--prompt', 'a fox in snow', '--steps', '4', '--width', '128', '--height', '128', ...extra];
const accountVolumes = async (): Promise<unknown[]> => {
  const answer = await fetch(`${sim.baseUrl}/api/v0/volumes/`, {headers: {authorization: `Bearer ${sim.apiKey}`}});
  return ((await answer.json()) as {volumes?: unknown[]}).volumes ?? [];
};
const promptRunning = (): boolean => sim.instances.list().some(row => sim.instances.comfyOf(Number(row.id))?.runningPromptId() !== undefined);
const accountInstances = async (): Promise<number[]> => {
  const answer = await fetch(`${sim.baseUrl}/api/v1/instances/`, {headers: {authorization: `Bearer ${sim.apiKey}`}});
  return ((await answer.json()) as {instances: Array<{id: number}>}).instances.map(instance => instance.id);
};

describe('vastdeck run: bad input costs nothing', () => {
  const cases: Array<[string, () => string[], RegExp]> = [
    ['an unknown workflow', () => job('--workflow', 'no-such-workflow'), /no-such-workflow/],
    ['a missing image', () => job('--image', join(work, 'missing.png')), /does not exist/],
    ['a text file named .png', () => (writeFileSync(join(work, 'notes.png'), 'just some notes\n'), job('--image', join(work, 'notes.png'))), /not a PNG, JPEG or WebP/],
    ['a damaged PNG', () => (writeFileSync(join(work, 'cut.png'), readFileSync(image).subarray(0, 60)), job('--image', join(work, 'cut.png'))), /damaged PNG/],
    ['an image over the size limit', () => (writeFileSync(join(work, 'huge.png'), Buffer.concat([readFileSync(image), Buffer.alloc(101 * 1024 * 1024)])), job('--image', join(work, 'huge.png'))), /over the 100 MB/],
    ['--steps 999', () => job('--steps', '999'), /steps/],
  ];
  it.each(cases)('%s: exit 2, one sentence, no create call, nothing billed', async (_name, args, sentence) => {
    const before = {creates: creates(), balance: sim.account.balance};
    const {code, stderr} = await runCli(args());
    expect(code).toBe(2);
    expect(stderr).toMatch(sentence);
    expect(stderr.trim().split('\n').filter(line => line.startsWith('vastdeck:') && !/reconcile|another vastdeck install/.test(line))).toHaveLength(1);
    expect(stderr).not.toMatch(/\n\s+at /);
    expect(creates()).toBe(before.creates);
    expect(sim.account.balance).toBe(before.balance);
  });

  it('an outputs folder that cannot be written: exit 2 before anything is rented', async () => {
    const blocker = join(work, 'a-file');
    writeFileSync(blocker, 'not a folder');
    expect((await runCli(['config', 'set', 'outputsDir', join(blocker, 'outputs')])).code).toBe(0);
    const before = creates();
    const {code, stderr} = await runCli(job());
    expect(code).toBe(2);
    expect(stderr).toMatch(/outputs folder .* cannot be written \(ENOTDIR\)/);
    expect(creates()).toBe(before);
  });
});

describe('vastdeck run --up --down', () => {
  it('rents, runs, brings the output and the logs home verified, destroys and confirms: exit 0, nothing left', async () => {
    const {code, stdout, stderr} = await runCli(job());
    expect(stderr).not.toMatch(/\n\s+at /);
    expect(code).toBe(0);
    const [output] = stdout.trim().split('\n');
    expect(existsSync(output!)).toBe(true);
    const record = JSON.parse(readFileSync(join(output!, '..', 'job.json'), 'utf8')) as {outputs: Array<{file: string; sha256: string}>};
    expect(record.outputs[0]!.sha256).toBe(createHash('sha256').update(readFileSync(output!)).digest('hex'));
    expect(stderr).toMatch(/destroyed and confirmed gone: nothing bills any more/);
    expect(await accountInstances()).toEqual([]);
    expect(await accountVolumes()).toEqual([]);
  });

  it('killed with SIGINT while the job runs, it still cleans up and leaves nothing billing', async () => {
    const child = spawn(process.execPath, [BIN, ...job('--steps', '40', '--width', '512', '--height', '512')], {env: {...process.env, NODE_ENV: 'production'}, stdio: ['ignore', 'pipe', 'pipe']});
    let stderr = '';
    child.stderr.on('data', chunk => (stderr += String(chunk)));
    const exited = new Promise<number | null>(resolve => child.on('exit', code => resolve(code)));
    const deadline = Date.now() + 60_000;
    while (!/running/.test(stderr) && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 50));
    expect(stderr).toMatch(/running/);
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(stderr).toMatch(/interrupted: cleaning up instance \d+/);
    expect(stderr).toMatch(/destroyed and confirmed gone/);
    expect(await accountInstances()).toEqual([]);
  });
});

describe('vastdeck run: failures end, visibly', () => {
  it('an instance dying mid-job: exit 1 with the reason, not a hang', async () => {
    const seen = new Set(await accountInstances());
    const running = runCli(job('--steps', '60', '--width', '512', '--height', '512').filter(arg => arg !== '--down'));
    let victim: number | undefined;
    const deadline = Date.now() + 60_000;
    while (victim === undefined && Date.now() < deadline) {
      victim = (await accountInstances()).find(id => !seen.has(id) && sim.instances.get(id)?.actual_status === 'running');
      await new Promise(resolve => setTimeout(resolve, 50));
    }
    // Let it reach READY and start the job, then the container exits.
    while (!promptRunning() && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 20));
    sim.instances.inject(victim!, 'exited');
    const {code, stderr} = await running;
    expect(code).toBe(1);
    expect(stderr).toMatch(new RegExp(`job \\S+ failed: .*instance ${victim}`));
    await runCli(['down', String(victim), '--force']);
  });

  it('run --up --down with an instance that dies mid-job: exit 1 with the reason, and the dead instance is destroyed (nothing left billing)', async () => {
    sim.faultPlan.add(parseFaultSpec('instance-death=1'));
    const {code, stderr} = await runCli(job('--steps', '60', '--width', '512', '--height', '512'));
    expect(code).toBe(1);
    expect(stderr).toMatch(/job \S+ failed: .*instance \d+/);
    expect(stderr).toMatch(/never come back from.*destroying it anyway/);
    expect(stderr).toMatch(/destroyed and confirmed gone/);
    expect(await accountInstances()).toEqual([]);
  });

  it('an outputs folder that disappears while the GPU works: exit 1 with the reason, outputs kept on the instance', async () => {
    const seen = new Set(await accountInstances());
    const running = runCli(job('--steps', '30', '--width', '512', '--height', '512').filter(arg => arg !== '--down'));
    const deadline = Date.now() + 60_000;
    // Root ignores permissions, so the folder is replaced by a file instead.
    while (Date.now() < deadline && !promptRunning()) await new Promise(resolve => setTimeout(resolve, 20));
    renameSync(outputs, `${outputs}.moved`);
    writeFileSync(outputs, 'in the way');
    const {code, stderr} = await running;
    expect(code).toBe(1);
    expect(stderr).toMatch(/cannot (create the output folder|write outputs into)/);
    expect(stderr).toMatch(/stay on the instance/);
    rmSync(outputs);
    renameSync(`${outputs}.moved`, outputs);
    for (const id of (await accountInstances()).filter(id => !seen.has(id))) await runCli(['down', String(id), '--force']);
  });
});

describe('vastdeck up / watch: READY needs provisioning evidence', () => {
  it('watch with a changed SSH host key ends FAILED with the reason (exit 1), never READY', async () => {
    const up = await runCli(['up', '--json', 'gpu=RTX_4090']);
    expect(up.code).toBe(0);
    const ready = JSON.parse(up.stdout.trim().split('\n').at(-1)!) as {event: string; instanceId: number};
    expect(ready.event).toBe('ready');
    const knownHosts = KnownHosts.open(join(stateDir(), 'known_hosts.json'));
    const pin = hostPinKey(new URL(sim.baseUrl).origin, ready.instanceId);
    knownHosts.forget(pin);
    knownHosts.pin(pin, 'SHA256:' + Buffer.alloc(32, 7).toString('base64'));
    const watch = await runCli(['watch', '--json', String(ready.instanceId)]);
    expect(watch.code).toBe(1);
    const events = watch.stdout.trim().split('\n').map(line => JSON.parse(line) as {event: string; stage?: string; reason?: string});
    expect(events.some(event => event.stage === 'READY')).toBe(false);
    expect(events.at(-1)).toMatchObject({event: 'failed', reason: expect.stringMatching(/cannot read the instance's logs .*host key/i)});
    await runCli(['down', String(ready.instanceId), '--force']);
  });
});

