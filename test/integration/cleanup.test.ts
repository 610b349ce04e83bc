// Cleanup against the simulated cloud over loopback (real SSH + SFTP, real API): outputs and logs
// pulled home and verified before the destroy, resume after an interruption, refusal when files are
// not safe, --force, already gone, a destroy the API refuses, storage volumes, unsafe remote names.
import {createHash} from 'node:crypto';
import {existsSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {PNG} from 'pngjs';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {cleanUp, pendingOutputs, type CleanupDeps} from '../../source/core/cleanup/destroy.js';
import {CleanupError, type CleanupRecord, type CleanupStep} from '../../source/core/cleanup/cleanup-state.js';
import {unsafeNameReason} from '../../source/core/cleanup/remote-files.js';
import {resolveInside} from '../../source/core/cleanup/extract.js';
import {createFromRanking} from '../../source/core/instances/create.js';
import {buildCreateBody, newWebPassword} from '../../source/core/instances/create-body.js';
import {portalUrls} from '../../source/core/instances/endpoints.js';
import type {LedgerInstance} from '../../source/core/instances/types.js';
import {watchUntilSettled} from '../../source/core/instances/watch-until.js';
import {Ledger} from '../../source/core/ledger/ledger.js';
import {jobCostInputs} from '../../source/core/offers/job-inputs.js';
import {rankOffers} from '../../source/core/offers/rank.js';
import {buildOfferSearch} from '../../source/core/offers/search.js';
import {addJobs} from '../../source/core/usecases/run-jobs.js';
import {GenerationQueue} from '../../source/core/queue/generation-queue.js';
import {JobStore, type Job} from '../../source/core/queue/job-store.js';
import {DEFAULT_SETTINGS} from '../../source/core/settings.js';
import {createVastdeckKey, type SshIdentity} from '../../source/core/ssh/keys.js';
import {KnownHosts} from '../../source/core/ssh/known-hosts.js';
import {VastClient} from '../../source/core/vast/client.js';
import {createInstance, destroyInstance, listInstances} from '../../source/core/vast/instances-api.js';
import {errorBody} from '../../source/sim/api-server.js';
import {startSimCloud, type SimCloud} from '../../source/sim/cloud.js';

const OUTPUT = '/workspace/ComfyUI/output';
const FAST_CONFIRM = [0, 20, 50];
let sim: SimCloud;
let client: VastClient;
let identity: SshIdentity;
let ledger: Ledger;
let knownHosts: KnownHosts;
let apiOrigin: string;
let work: string;

beforeAll(async () => {
  sim = await startSimCloud({port: 0, rateLimitScale: 0, churnIntervalMs: 0, speed: 400});
  client = new VastClient({baseUrl: sim.baseUrl, apiKey: sim.apiKey, pacingScale: 0, maxAttempts: 3, backoff: {baseMs: 5, capMs: 20}});
  identity = await createVastdeckKey();
  ledger = Ledger.open();
  knownHosts = KnownHosts.open();
  apiOrigin = new URL(sim.baseUrl).origin;
  work = mkdtempSync(join(tmpdir(), 'vastdeck-cleanup-'));
});

afterAll(async () => {
  await sim.close();
});

/** Rents the best RTX 4090 offer left and watches it until READY. */
async function rentReady(): Promise<LedgerInstance & {instanceId: number}> {
  const search = buildOfferSearch('gpu=RTX_4090 inet_down>=500', DEFAULT_SETTINGS);
  const ranked = rankOffers(await client.searchOffers(search.query), await jobCostInputs(DEFAULT_SETTINGS), 'cost');
  const created = await createFromRanking({client, ledger, settings: DEFAULT_SETTINGS, apiOrigin, identity, provisioning: {}, env: {}}, ranked.map(row => row.offer));
  const outcome = await watchUntilSettled({client, entry: created.ledgerEntry, apiOrigin, identity, knownHosts, pollMs: 100, onStage: () => {}});
  await outcome.watch.stop();
  expect(outcome.state.stage).toBe('READY');
  return {...created.ledgerEntry, instanceId: created.instanceId};
}

function deps(outputsDir: string, steps: Array<[CleanupStep, string]> = [], onStep?: (step: CleanupStep, message: string) => void): CleanupDeps {
  return {client, ledger, apiOrigin, knownHosts, identity, outputsDir, onStep: (step, message) => (steps.push([step, message]), onStep?.(step, message))};
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function record(runDir: string): CleanupRecord {
  return JSON.parse(readFileSync(join(runDir, 'cleanup.json'), 'utf8')) as CleanupRecord;
}

async function listed(instanceId: number): Promise<boolean> {
  return (await listInstances(client)).some(instance => instance.id === instanceId);
}

/** Runs one generation through the sim's ComfyUI with the real queue, so its output is already home. */
async function runOneJob(entry: LedgerInstance & {instanceId: number}, outputsDir: string): Promise<Job> {
  const image = join(work, 'fox.png');
  const png = new PNG({width: 32, height: 24});
  for (let index = 0; index < png.data.length; index++) png.data[index] = (index * 7) % 256;
  writeFileSync(image, PNG.sync.write(png));
  const instance = (await listInstances(client)).find(candidate => candidate.id === entry.instanceId)!;
  const ready = {key: entry.localId, instanceId: entry.instanceId, gpuName: entry.gpuName, dphTotal: entry.dphTotal, comfyui: portalUrls(instance).comfyui!, token: entry.webPassword!};
  const queue = new GenerationQueue({store: new JobStore(), instances: () => [ready], outputsRoot: outputsDir, dispatchMs: 50, clientOptions: {watchdogMs: 3000, pollMs: 200, unreachableMs: 3000}});
  queue.start();
  try {
    await addJobs(queue, {workflow: 'img2img-sdxl', imagePath: image, prompt: 'a fox in snow', steps: 4, width: 128, height: 128, seed: 7});
    for (const deadline = Date.now() + 25_000; Date.now() < deadline; await new Promise(resolve => setTimeout(resolve, 50))) {
      queue.flush();
      const job = queue.getSnapshot().jobs[0];
      if (job?.state === 'done') return job;
      if (job?.state === 'failed') throw new Error(`the job failed: ${job.error}`);
    }
    throw new Error('the job did not finish');
  } finally {
    await queue.stop();
  }
}

describe('cleanup', () => {
  it('pulls outputs and logs home, verifies them, destroys and confirms, and skips what the queue already saved', async () => {
    const entry = await rentReady();
    const outputsDir = join(work, 'happy');
    const job = await runOneJob(entry, outputsDir);
    const fs = sim.instances.hostOf(entry.instanceId)!.fs;
    fs.write(`${OUTPUT}/extra_00001_.png`, Buffer.from('not really a png, but bytes that matter'));
    fs.write(`${OUTPUT}/videos/clip_00001_.mp4`, Buffer.alloc(300_000, 7));
    fs.write('/workspace/vastdeck/job.json', '{"onstart": true}\n');
    fs.write('/workspace/vastdeck/outputs/onstart_00001_.png', 'an OnStart output');
    const steps: Array<[CleanupStep, string]> = [];
    const result = await cleanUp(deps(outputsDir, steps), {instanceId: entry.instanceId}, {confirmDelaysMs: FAST_CONFIRM});

    expect(result.outcome).toBe('destroyed');
    expect(result.check).toBe('sha256');
    expect(result.outputs).toEqual({verified: 3, safe: 1});
    expect(result.runDir).toBe(join(outputsDir, 'runs', `${entry.instanceId}-${entry.localId}`));
    const runDir = result.runDir!;
    for (const [remote, local] of [[`${OUTPUT}/extra_00001_.png`, 'outputs/extra_00001_.png'], [`${OUTPUT}/videos/clip_00001_.mp4`, 'outputs/videos/clip_00001_.mp4'], ['/workspace/vastdeck/outputs/onstart_00001_.png', 'outputs/vastdeck-onstart/onstart_00001_.png']] as const) {
      expect(sha256(readFileSync(join(runDir, local)))).toBe(sha256(fs.read(remote)!));
    }
    // The queue's output is listed as safe where the queue put it, not pulled a second time.
    expect(result.fetched.some(path => path.includes('ComfyUI_'))).toBe(false);
    const state = record(runDir);
    const safe = state.files.find(file => file.status === 'safe')!;
    expect(safe.safeAt).toBe(job.outputs[0]);
    expect(readdirSync(join(runDir, 'logs', 'portal'))).toEqual(expect.arrayContaining(['comfyui.log', 'provisioning.log']));
    expect(readFileSync(join(runDir, 'logs', 'onstart.log'), 'utf8').length).toBeGreaterThan(0);
    expect(readFileSync(join(runDir, 'logs', 'vastdeck', 'job.json'), 'utf8')).toContain('onstart');
    expect(state.files.filter(file => file.status === 'verified').every(file => file.sizeBytes >= 0 && /^[0-9a-f]{64}$/.test(file.sha256 ?? ''))).toBe(true);
    expect(Object.values(state.steps).map(step => step.status)).toEqual(['done', 'done', 'done', 'done', 'done']);
    expect(statSync(join(runDir, 'cleanup.json')).mode & 0o777).toBe(0o600);
    expect(readdirSync(runDir, {recursive: true}).some(name => String(name).endsWith('.part'))).toBe(false);
    expect(await listed(entry.instanceId)).toBe(false);
    expect(ledger.find(entry.localId)?.state).toBe('destroyed');
    expect(steps.map(([step]) => step)).toEqual(expect.arrayContaining(['extract-outputs', 'extract-logs', 'verify', 'destroy', 'confirm-gone']));
  });

  it('resumes an interrupted cleanup without fetching any file twice', async () => {
    const entry = await rentReady();
    const outputsDir = join(work, 'resume');
    const host = sim.instances.hostOf(entry.instanceId)!;
    for (let index = 1; index <= 6; index++) host.fs.write(`${OUTPUT}/batch_${String(index).padStart(5, '0')}_.png`, Buffer.alloc(20_000 + index, index));
    let pulled = 0;
    const first = cleanUp(
      deps(outputsDir, [], (step, message) => {
        if (step === 'extract-outputs' && message.startsWith('outputs/') && ++pulled === 2) host.dropSshConnections();
      }),
      {instanceId: entry.instanceId},
      {confirmDelaysMs: FAST_CONFIRM},
    );
    const failure = await first.then(() => undefined, (error: unknown) => error);
    expect(failure).toBeInstanceOf(CleanupError);
    expect((failure as CleanupError).message).toMatch(new RegExp(`^Instance ${entry.instanceId} was not destroyed: .*SSH connection broke.*run the cleanup again`));
    expect(await listed(entry.instanceId)).toBe(true);
    expect(ledger.find(entry.localId)?.state).toBe('active');
    const runDir = join(outputsDir, 'runs', `${entry.instanceId}-${entry.localId}`);
    const firstFetched = record(runDir).files.filter(file => file.status === 'downloaded').map(file => file.localPath);
    expect(firstFetched).toHaveLength(2);

    const second = await cleanUp(deps(outputsDir), {instanceId: entry.instanceId}, {confirmDelaysMs: FAST_CONFIRM});
    expect(second.outcome).toBe('destroyed');
    expect(second.fetched.filter(path => firstFetched.includes(path))).toEqual([]);
    expect(second.fetched.filter(path => path.startsWith('outputs/'))).toHaveLength(4);
    expect(record(runDir).files.filter(file => file.kind === 'output' && file.status === 'verified')).toHaveLength(6);
    expect(ledger.find(entry.localId)?.state).toBe('destroyed');
  });

  it('refuses to destroy when the files cannot be pulled, and destroys with force', async () => {
    const entry = await rentReady();
    const outputsDir = join(work, 'refuse');
    sim.instances.hostOf(entry.instanceId)!.fs.write(`${OUTPUT}/precious_00001_.png`, 'precious');
    const pending = await pendingOutputs(deps(outputsDir), entry.instanceId);
    expect(pending).toMatchObject({reachable: true, totalFiles: 1, pendingFiles: 1, safeFiles: 0});
    sim.instances.hostOf(entry.instanceId)!.setSshRefusing(true);
    const failure = await cleanUp(deps(outputsDir), {instanceId: entry.instanceId}, {confirmDelaysMs: FAST_CONFIRM}).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(CleanupError);
    expect((failure as CleanupError).reason).toBe('refused');
    expect((failure as CleanupError).message).toBe(
      `Instance ${entry.instanceId} was not destroyed: its output files and the logs would be lost because the instance refused your SSH key — fix that and run the cleanup again (it resumes where it stopped), or destroy it anyway with \`vastdeck down ${entry.instanceId} --force\`.`,
    );
    expect(await listed(entry.instanceId)).toBe(true);
    expect(ledger.find(entry.localId)?.state).toBe('active');
    expect(await pendingOutputs(deps(outputsDir), entry.instanceId)).toMatchObject({reachable: false, problem: expect.stringContaining('refused your SSH key')});

    const steps: Array<[CleanupStep, string]> = [];
    const forced = await cleanUp(deps(outputsDir, steps), {instanceId: entry.instanceId}, {force: true, confirmDelaysMs: FAST_CONFIRM});
    expect(forced).toMatchObject({outcome: 'destroyed', extracted: false});
    expect(steps.some(([, message]) => message.startsWith('FORCED'))).toBe(true);
    expect(await listed(entry.instanceId)).toBe(false);
    expect(ledger.find(entry.localId)?.state).toBe('destroyed');
  });

  it('stops at once when aborted, destroying nothing, and the next run finishes the job', async () => {
    const entry = await rentReady();
    const outputsDir = join(work, 'abort');
    const host = sim.instances.hostOf(entry.instanceId)!;
    for (let index = 1; index <= 3; index++) host.fs.write(`${OUTPUT}/abort_${index}.png`, Buffer.alloc(50_000, index));
    const abort = new AbortController();
    const onStep = (step: CleanupStep, message: string): void => {
      if (step === 'extract-outputs' && message.startsWith('outputs/')) abort.abort();
    };
    const failure = await cleanUp(deps(outputsDir, [], onStep), {instanceId: entry.instanceId}, {signal: abort.signal, confirmDelaysMs: FAST_CONFIRM}).catch((error: unknown) => error);
    expect((failure as CleanupError).reason).toBe('interrupted');
    expect((failure as CleanupError).message).toBe(`Pulling the files of instance ${entry.instanceId} was stopped after 1 file: nothing was destroyed, run the cleanup again to resume where it stopped.`);
    expect(await listed(entry.instanceId)).toBe(true);
    const second = await cleanUp(deps(outputsDir), {instanceId: entry.instanceId}, {confirmDelaysMs: FAST_CONFIRM});
    expect(second.fetched.filter(path => path.startsWith('outputs/'))).toEqual(['outputs/abort_2.png', 'outputs/abort_3.png']);
    expect(second.outcome).toBe('destroyed');
  });

  it("does not try SSH on an instance still loading, though Vast already shows its proxy's address", async () => {
    const [offer] = await client.searchOffers(buildOfferSearch('gpu=RTX_4090 inet_down>=500', DEFAULT_SETTINGS).query);
    const {instanceId} = await createInstance(client, offer!.id, buildCreateBody({offer: offer!, settings: DEFAULT_SETTINGS, label: 'vastdeck:loading', webPassword: newWebPassword()}));
    // A pull that failed keeps it loading for as long as the test needs.
    sim.instances.inject(instanceId, 'pull-error');
    const loading = (await listInstances(client)).find(instance => instance.id === instanceId)!;
    expect(loading).toMatchObject({actualStatus: 'loading', sshHost: '127.0.0.1', sshPort: expect.any(Number)});
    expect(await pendingOutputs(deps(join(work, 'loading')), instanceId)).toEqual({
      instanceId,
      reachable: false,
      problem: `instance ${instanceId} has no SSH server to reach yet (status loading)`,
      stillBillingStorage: false,
    });
    await destroyInstance(client, instanceId);
  });

  it('flags a stopped instance as still billing storage and will not destroy it unpulled unless forced', async () => {
    const entry = await rentReady();
    await client.request('PUT', `/api/v0/instances/${entry.instanceId}/`, {json: {state: 'stopped'}, parse: () => undefined});
    const outputsDir = join(work, 'stopped');
    expect(await pendingOutputs(deps(outputsDir), entry.instanceId)).toMatchObject({reachable: false, stillBillingStorage: true});
    const steps: Array<[CleanupStep, string]> = [];
    const failure = await cleanUp(deps(outputsDir, steps), {instanceId: entry.instanceId}, {confirmDelaysMs: FAST_CONFIRM}).catch((error: unknown) => error);
    expect(steps[0]?.[1]).toBe(`Instance ${entry.instanceId} is stopped: it still bills storage until it is destroyed.`);
    expect((failure as CleanupError).message).toContain('would be lost because it is stopped, so SSH cannot reach it (start it first)');
    expect(await listed(entry.instanceId)).toBe(true);
    const forced = await cleanUp(deps(outputsDir), {instanceId: entry.instanceId}, {force: true, confirmDelaysMs: FAST_CONFIRM});
    expect(forced).toMatchObject({outcome: 'destroyed', wasStopped: true});
  });

  it('says already gone when the instance was destroyed elsewhere, and updates the ledger', async () => {
    const entry = await rentReady();
    expect(await destroyInstance(client, entry.instanceId)).toBe('destroyed');
    const steps: Array<[CleanupStep, string]> = [];
    const result = await cleanUp(deps(join(work, 'gone'), steps), {instanceId: entry.instanceId}, {confirmDelaysMs: FAST_CONFIRM});
    expect(result.outcome).toBe('already-gone');
    expect(steps.at(-1)?.[1]).toContain('already gone');
    expect(ledger.find(entry.localId)?.state).toBe('gone');
  });

  it('keeps the ledger at destroying with a clear sentence when the API refuses the destroy or it stays listed', async () => {
    const entry = await rentReady();
    const outputsDir = join(work, 'refused-destroy');
    sim.faults.queue('500', 3, `/api/v0/instances/${entry.instanceId}/`);
    const unreachable = await cleanUp(deps(outputsDir), {instanceId: entry.instanceId}, {skipExtract: true, confirmDelaysMs: FAST_CONFIRM}).catch((error: unknown) => error);
    expect((unreachable as CleanupError).reason).toBe('destroy-failed');
    expect((unreachable as CleanupError).message).toBe(
      `Instance ${entry.instanceId} was not destroyed because the Vast.ai API did not answer (HTTP 500): it keeps billing — destroy it in the Vast console (https://cloud.vast.ai/instances/), or run the cleanup again.`,
    );
    expect(ledger.find(entry.localId)?.state).toBe('destroying');

    // A route with every segment literal wins over the sim's own '/instances/:id/'.
    let answer: 'locked' | 'ignored' = 'locked';
    sim.router.add('DELETE', `/api/v0/instances/${entry.instanceId}/`, () =>
      answer === 'locked' ? {status: 403, json: errorBody('forbidden', 'This instance is locked')} : {status: 200, json: {success: true}},
    );
    const refused = await cleanUp(deps(outputsDir), {instanceId: entry.instanceId}, {skipExtract: true, confirmDelaysMs: FAST_CONFIRM}).catch((error: unknown) => error);
    expect((refused as CleanupError).message).toBe(
      `Instance ${entry.instanceId} was not destroyed because Vast.ai refused it (HTTP 403: This instance is locked): it keeps billing — destroy it in the Vast console (https://cloud.vast.ai/instances/), or run the cleanup again.`,
    );
    expect(ledger.find(entry.localId)?.state).toBe('destroying');

    // A DELETE that answers 200 but leaves the instance billing is not "destroyed".
    answer = 'ignored';
    const stillListed = await cleanUp(deps(outputsDir), {instanceId: entry.instanceId}, {skipExtract: true, confirmDelaysMs: FAST_CONFIRM}).catch((error: unknown) => error);
    expect((stillListed as CleanupError).message).toBe(`Instance ${entry.instanceId} is still listed after destroy: it may still bill — check the Vast console, or run the cleanup again.`);
    expect(ledger.find(entry.localId)?.state).toBe('destroying');
    expect(await listed(entry.instanceId)).toBe(true);
    sim.instances.destroy(entry.instanceId);
  });

  it('deletes the storage volume of the instance once it is gone', async () => {
    const search = buildOfferSearch('gpu=RTX_4090', DEFAULT_SETTINGS);
    const [offer] = await client.searchOffers(search.query);
    const {instanceId} = await createInstance(client, offer!.id, {client_id: 'me', image: 'vastai/comfyui:@vastai-automatic-tag', disk: 40, label: 'vastdeck:withvolume', env: {}, volume_info: {create_new: true, volume_id: 1, size: 20, mount_path: '/workspace'}});
    const volumes = async (): Promise<Array<{id: number; instances: number[]}>> =>
      ((await (await fetch(`${sim.baseUrl}/api/v0/volumes?owner=me&type=all_volume`, {headers: {authorization: `Bearer ${sim.apiKey}`}})).json()) as {volumes: Array<{id: number; instances: number[]}>}).volumes;
    expect((await volumes()).filter(volume => volume.instances.includes(instanceId))).toHaveLength(1);
    const result = await cleanUp(deps(join(work, 'volume')), {instanceId}, {force: true, confirmDelaysMs: FAST_CONFIRM});
    expect(result.volumesDeleted).toHaveLength(1);
    expect((await volumes()).map(volume => volume.id)).not.toContain(result.volumesDeleted[0]);
    expect(ledger.findByInstanceId(apiOrigin, instanceId)?.state).toBe('destroyed');
  });

  it('never writes a remote file with an unsafe name, and refuses to destroy until it is dealt with', async () => {
    const entry = await rentReady();
    const outputsDir = join(work, 'escape');
    const fs = sim.instances.hostOf(entry.instanceId)!.fs;
    fs.write(`${OUTPUT}/..\\..\\..\\escaped.png`, 'would land outside');
    fs.write(`${OUTPUT}/bell\u0007.png`, 'control character');
    fs.write(`${OUTPUT}/fine.png`, 'fine');
    const failure = await cleanUp(deps(outputsDir), {instanceId: entry.instanceId}, {confirmDelaysMs: FAST_CONFIRM}).catch((error: unknown) => error);
    expect((failure as CleanupError).message).toMatch(/2 output files would be lost because 2 remote files have unsafe names/);
    expect(existsSync(join(outputsDir, 'escaped.png'))).toBe(false);
    const runDir = join(outputsDir, 'runs', `${entry.instanceId}-${entry.localId}`);
    expect(readdirSync(join(runDir, 'outputs'))).toEqual(['fine.png']);
    expect(await listed(entry.instanceId)).toBe(true);
    await cleanUp(deps(outputsDir), {instanceId: entry.instanceId}, {force: true, confirmDelaysMs: FAST_CONFIRM});
  });

  it('checks remote names and run-folder paths', () => {
    for (const name of ['..', '.', '', '../x', '/etc/passwd', 'a\\b', 'line\nbreak', 'esc\u001b[2J']) expect(unsafeNameReason(name)).toBeDefined();
    expect(unsafeNameReason('ComfyUI_00001_.png')).toBeUndefined();
    expect(() => resolveInside('/tmp/run', '../outside.png')).toThrow(/outside the run folder/);
    expect(resolveInside('/tmp/run', 'outputs/a.png')).toBe('/tmp/run/outputs/a.png');
  });
});
