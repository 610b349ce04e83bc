// Autostop end to end inside one process, on a ManualClock (no test sleeps): instances rented through
// vastdeck's own rent use case carry the watchdog (shipped in the bundle, started by the onstart);
// the simulated instance runs its contract and stops or destroys itself with its own scoped key over
// the API's real socket. A heartbeat from InstanceWatch (over the log stream's SSH connection) and a
// ComfyUI job keep it alive; outputs never fetched turn a destroy into a stop; the list of outputs
// home (written over SSH) lets it destroy; maxHours ends it whatever it does; --no-autostop ships none.
import {createHash} from 'node:crypto';
import {existsSync, mkdtempSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterEach, describe, expect, it} from 'vitest';
import {sshEndpoint} from '../../source/core/instances/endpoints.js';
import {InstanceWatch} from '../../source/core/instances/instance-watch.js';
import {buildOfferSearch} from '../../source/core/offers/search.js';
import {AUTOSTOP_LOG_PATH, fetchedLine, type AutostopOverrides} from '../../source/core/provisioning/autostop.js';
import {Heartbeat, OwnConnection} from '../../source/core/ssh/heartbeat.js';
import {hostPinKey} from '../../source/core/ssh/known-hosts.js';
import type {DeckContext} from '../../source/core/usecases/context.js';
import {cleanUpInstance} from '../../source/core/usecases/clean-up.js';
import {rent, type Rented} from '../../source/core/usecases/rent.js';
import {getInstance} from '../../source/core/vast/instances-api.js';
import type {InstanceHost} from '../../source/sim/instance-host.js';
import {simContext} from '../helpers/deck-context.js';
import {comfyBase, startManualCloud, type ManualCloud} from '../helpers/sim-provisioned.js';

const MINUTE = 60_000;
let open: ManualCloud | undefined;
const watches: InstanceWatch[] = [];

afterEach(async () => {
  await Promise.all(watches.splice(0).map(watch => watch.stop()));
  await open?.cloud.close();
  open = undefined;
});

async function cloudAndContext(): Promise<{manual: ManualCloud; ctx: DeckContext}> {
  open = await startManualCloud();
  open.cloud.account.balance = 1000;
  const ctx = simContext(open.cloud);
  ctx.settingsStore.set('outputsDir', mkdtempSync(join(tmpdir(), 'vastdeck-autostop-outputs-')));
  return {manual: open, ctx};
}

/** Rents an RTX 4090 through the rent use case, boots it, and returns when provisioning has ended (the watchdog's idle clock starts then). */
async function rentBooted({cloud, clock}: ManualCloud, ctx: DeckContext, autostop: AutostopOverrides): Promise<{rented: Rented; host: InstanceHost; idleFromMs: number}> {
  const rented = await rent(ctx, {offers: {search: buildOfferSearch('gpu=RTX_4090 inet_down>=800', ctx.settings()), sortKey: 'cost'}, createKey: true, autostop});
  const id = rented.instanceId;
  const booted = await clock.advanceUntil(() => cloud.instances.hostOf(id)?.comfyListening() === true && !cloud.instances.hostOf(id)!.fs.exists('/.provisioning'), {stepMs: 5000, limitMs: 3_600_000});
  if (!booted) throw new Error(`instance ${id} never finished booting`);
  return {rented, host: cloud.instances.hostOf(id)!, idleFromMs: clock.now()};
}

/** vastdeck's InstanceWatch of the instance, once its log stream (and with it the heartbeat) is connected. */
async function streamingWatch(ctx: DeckContext, rented: Rented): Promise<InstanceWatch> {
  const watch = new InstanceWatch({entry: rented.ledgerEntry, apiOrigin: ctx.apiOrigin, identity: rented.identity, knownHosts: ctx.knownHosts, probe: async () => ({ok: true, status: 200}), onChange: () => {}});
  watches.push(watch);
  const streaming = new Promise<void>(resolve => watch.logs.subscribe(() => watch.logs.getSnapshot().state === 'streaming' && resolve()));
  watch.feedInstance(await getInstance(ctx.client, rented.instanceId));
  await streaming;
  return watch;
}

const alive = ({cloud}: ManualCloud, id: number): boolean => cloud.instances.liveIds().includes(id);
const state = ({cloud}: ManualCloud, id: number): unknown => cloud.instances.get(id)?.actual_status;
const autostopLog = (host: InstanceHost): string[] => (host.fs.read(AUTOSTOP_LOG_PATH)?.toString('utf8') ?? '').split('\n').filter(Boolean);
const keyIdentity = (key: string): string => `key:${createHash('sha256').update(key).digest('hex').slice(0, 12)}`;

/** Advances to `atMs` on the manual clock. */
async function advanceTo({clock}: ManualCloud, atMs: number): Promise<void> {
  await clock.advance(Math.max(0, atMs - clock.now()));
}

/** A ComfyUI job of `steps` sampler steps at 1024², posted the way any client posts one. */
async function postLongJob(manual: ManualCloud, id: number, token: string, steps: number): Promise<string> {
  const prompt = {
    '1': {class_type: 'CheckpointLoaderSimple', inputs: {ckpt_name: 'sd_xl_base_1.0.safetensors'}},
    '2': {class_type: 'CLIPTextEncode', inputs: {text: 'a lighthouse', clip: ['1', 1]}},
    '3': {class_type: 'CLIPTextEncode', inputs: {text: 'blurry', clip: ['1', 1]}},
    '4': {class_type: 'EmptyLatentImage', inputs: {width: 1024, height: 1024, batch_size: 1}},
    '5': {class_type: 'KSampler', inputs: {seed: 7, steps, cfg: 6, sampler_name: 'euler', scheduler: 'normal', denoise: 1, model: ['1', 0], positive: ['2', 0], negative: ['3', 0], latent_image: ['4', 0]}},
    '6': {class_type: 'VAEDecode', inputs: {samples: ['5', 0], vae: ['1', 2]}},
    '7': {class_type: 'SaveImage', inputs: {images: ['6', 0], filename_prefix: 'autostop'}},
  };
  const answer = await fetch(`${await comfyBase(manual.cloud, id)}/prompt`, {method: 'POST', headers: {authorization: `Bearer ${token}`, 'content-type': 'application/json'}, body: JSON.stringify({prompt})});
  const body = (await answer.json()) as {prompt_id?: string};
  if (!body.prompt_id) throw new Error(`ComfyUI refused the job: ${JSON.stringify(body)}`);
  return body.prompt_id;
}

describe('autostop on a simulated instance (ManualClock)', () => {
  it('an idle instance nobody heartbeats destroys itself with its own scoped key after idleMinutes, and logs why', async () => {
    const {manual, ctx} = await cloudAndContext();
    const {rented, host, idleFromMs} = await rentBooted(manual, ctx, {idleMinutes: 5});
    const id = rented.instanceId;
    const scopedKey = host.env.CONTAINER_API_KEY!;
    expect(host.env.VASTDECK_AUTOSTOP_API).toBe(manual.cloud.baseUrl);

    await advanceTo(manual, idleFromMs + 4 * MINUTE);
    expect(alive(manual, id)).toBe(true);
    await advanceTo(manual, idleFromMs + 6 * MINUTE);
    expect(alive(manual, id)).toBe(false);

    const deletes = manual.cloud.requests.filter(request => request.method === 'DELETE' && request.path === `/api/v0/instances/${id}/`);
    expect(deletes).toEqual([expect.objectContaining({status: 200, identity: keyIdentity(scopedKey)})]);
    expect(keyIdentity(scopedKey)).not.toBe(keyIdentity(manual.cloud.apiKey));
    expect(autostopLog(host)).toEqual([
      '[vastdeck] autostop start idle-minutes=5 max-hours=0 action=destroy',
      expect.stringMatching(/^\[vastdeck\] autostop destroy at=\S+Z reason=no heartbeat from vastdeck and no ComfyUI job for 5 min$/),
    ]);
  });

  it("vastdeck's heartbeat over the log stream keeps it alive; once vastdeck is gone it destroys itself", async () => {
    const {manual, ctx} = await cloudAndContext();
    const {rented, host, idleFromMs} = await rentBooted(manual, ctx, {idleMinutes: 5});
    const id = rented.instanceId;
    const watch = await streamingWatch(ctx, rented);
    expect(watch.autostop()).toMatchObject({config: {idleMinutes: 5, maxHours: 0, action: 'destroy', api: manual.cloud.baseUrl}});

    for (let minute = 1; minute <= 15; minute++) {
      await advanceTo(manual, idleFromMs + minute * MINUTE);
      expect(await watch.heartbeat.beat()).toBe(true);
    }
    expect(Number(host.fs.read('/workspace/vastdeck/heartbeat')?.toString())).toBe(Math.floor(manual.clock.now() / 1000));
    expect(alive(manual, id)).toBe(true);
    expect(watch.autostop()?.beating).toBe(true);

    await watch.stop();
    const lastBeatMs = manual.clock.now();
    await advanceTo(manual, lastBeatMs + 4 * MINUTE);
    expect(alive(manual, id)).toBe(true);
    await advanceTo(manual, lastBeatMs + 6 * MINUTE);
    expect(alive(manual, id)).toBe(false);
  });

  it("a cleanup beats too, and leaves the heartbeat (which changes under it) out of the logs it verifies", async () => {
    const {manual, ctx} = await cloudAndContext();
    const {rented} = await rentBooted(manual, ctx, {idleMinutes: 5});
    const id = rented.instanceId;
    const watch = await streamingWatch(ctx, rented);
    const beats: Array<Promise<boolean>> = [];
    // The dashboard keeps beating while the cleanup copies and verifies: every step moves the clock a second and beats.
    const result = await cleanUpInstance(ctx, {instanceId: id, entry: rented.ledgerEntry}, {
      identity: rented.identity,
      onStep: () => {
        void manual.clock.advance(1000);
        beats.push(watch.heartbeat.beat());
      },
    });
    expect(result.outcome).toBe('destroyed');
    expect(await Promise.all(beats)).toContain(true);
    expect(existsSync(join(result.runDir!, 'logs', 'vastdeck', 'heartbeat'))).toBe(false);
    expect(existsSync(join(result.runDir!, 'logs', 'portal', 'vastdeck-autostop.log'))).toBe(true);
  });

  it('a running ComfyUI job keeps it alive; outputs never fetched make it stop instead of destroy; once they are on the list it destroys', async () => {
    const {manual, ctx} = await cloudAndContext();
    const {rented, host, idleFromMs} = await rentBooted(manual, ctx, {idleMinutes: 5});
    const id = rented.instanceId;
    await postLongJob(manual, id, rented.webPassword, 10_000);
    await advanceTo(manual, idleFromMs + 8 * MINUTE);
    expect(manual.cloud.instances.comfyOf(id)?.runningPromptId()).toBeDefined();
    expect(state(manual, id)).toBe('running');

    expect(await manual.clock.advanceUntil(() => manual.cloud.instances.comfyOf(id)?.runningPromptId() === undefined, {stepMs: 30_000, limitMs: 60 * MINUTE})).toBe(true);
    const doneMs = manual.clock.now();
    await advanceTo(manual, doneMs + 4 * MINUTE);
    expect(state(manual, id)).toBe('running');
    await advanceTo(manual, doneMs + 6 * MINUTE);
    expect(state(manual, id)).toBe('stopped');
    expect(alive(manual, id)).toBe(true);
    expect(autostopLog(host).at(-1)).toMatch(
      /^\[vastdeck\] autostop stop at=\S+ reason=no heartbeat from vastdeck and no ComfyUI job for 5 min; 1 output on the instance was never fetched by vastdeck, so it is stopped instead of destroyed \(its disk keeps billing storage until you destroy it\)$/,
    );
    const stops = manual.cloud.requests.filter(request => request.method === 'PUT' && request.path === `/api/v0/instances/${id}/`);
    expect(stops).toEqual([expect.objectContaining({status: 200, identity: keyIdentity(host.env.CONTAINER_API_KEY!)})]);

    // Started again by hand: the onstart starts the watchdog again; vastdeck puts the output on its list over SSH.
    const started = await fetch(`${manual.cloud.baseUrl}/api/v0/instances/${id}/`, {method: 'PUT', headers: {authorization: `Bearer ${manual.cloud.apiKey}`, 'content-type': 'application/json'}, body: JSON.stringify({state: 'running'})});
    expect(started.status).toBe(200);
    expect(await manual.clock.advanceUntil(() => state(manual, id) === 'running', {stepMs: 1000, limitMs: 5 * MINUTE})).toBe(true);
    const output = host.fs.list('/workspace/ComfyUI/output')!.find(name => name.startsWith('autostop'))!;
    const sha256 = createHash('sha256').update(host.fs.read(`/workspace/ComfyUI/output/${output}`)!).digest('hex');
    const instance = (await getInstance(ctx.client, id))!;
    const connection = new OwnConnection({...sshEndpoint(instance)!, identity: rented.identity, pinKey: hostPinKey(ctx.apiOrigin, id), knownHosts: ctx.knownHosts});
    const heartbeat = new Heartbeat({client: connection.client});
    heartbeat.markLines([fetchedLine(sha256, output)]);
    await heartbeat.flush();
    expect(heartbeat.state).toEqual({lastBeatAtMs: expect.any(Number), pending: 0});
    connection.close();
    expect(host.fs.read('/workspace/vastdeck/fetched')?.toString()).toBe(`${sha256}  ${output}\n`);

    const restartedMs = manual.clock.now();
    await advanceTo(manual, restartedMs + 7 * MINUTE);
    expect(alive(manual, id)).toBe(false);
    expect(autostopLog(host).filter(line => line.includes('autostop start'))).toHaveLength(2);
    expect(autostopLog(host).at(-1)).toMatch(/^\[vastdeck\] autostop destroy at=\S+ reason=no heartbeat from vastdeck and no ComfyUI job for 5 min$/);
  });

  it('maxHours ends it before it was ever idle that long; --no-autostop ships no watchdog at all', async () => {
    const {manual, ctx} = await cloudAndContext();
    const free = await rentBooted(manual, ctx, {enabled: false});
    const capped = await rentBooted(manual, ctx, {idleMinutes: 60, maxHours: 0.25});
    expect(free.host.env.VASTDECK_AUTOSTOP_IDLE_MIN).toBeUndefined();
    const startedMs = manual.clock.now() - Number(manual.cloud.instances.get(capped.rented.instanceId)?.uptime_mins) * MINUTE;
    await advanceTo(manual, startedMs + 14 * MINUTE);
    expect(alive(manual, capped.rented.instanceId)).toBe(true);
    await advanceTo(manual, startedMs + 16 * MINUTE);
    expect(alive(manual, capped.rented.instanceId)).toBe(false);
    expect(autostopLog(capped.host).at(-1)).toMatch(/reason=the instance ran for its maximum of 0\.25 h \(autostop\.maxHours\)$/);

    await manual.clock.advance(3 * 60 * MINUTE);
    expect(alive(manual, free.rented.instanceId)).toBe(true);
    expect(autostopLog(free.host)).toEqual([]);
  });
});
