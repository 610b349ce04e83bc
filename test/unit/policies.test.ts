// Auto-destroy policies on a simulated clock: drain, idle and spend cap each start a visible
// countdown, cancelling keeps that trigger quiet until its condition clears, and expiry destroys
// through the fleet's normal cleanup.
import {describe, expect, it} from 'vitest';
import {DEFAULT_CLEANUP_SEC, PoliciesModel, projectCap, type SessionSpend} from '../../source/core/usecases/spend-guard.js';
import type {FleetSnapshot, InstanceRow, QueueSnapshot} from '../../source/core/deck-types.js';
import type {Job} from '../../source/core/queue/job-store.js';
import {DEFAULT_SETTINGS, type PolicySettings} from '../../source/core/settings.js';

function row(key: string, stage: 'READY' | 'DOWNLOADING', accruedUsd = 0.1): InstanceRow {
  return {
    key,
    instanceId: 1,
    label: `vastdeck:${key}`,
    gpuName: 'RTX 4090',
    numGpus: 1,
    dphTotal: 0.4,
    ledgerState: 'active',
    actualStatus: 'running',
    statusMsg: null,
    stage: {stage, sinceMs: 0, evidence: '', warnings: [], timeline: [], appListening: stage === 'READY', provisioningFailed: false},
    createdAtMs: 0,
    accruedUsd,
    log: {state: 'streaming', lines: 0, endSeq: 0},
    portal: {},
  };
}

function job(state: Job['state'], instanceKey?: string): Job {
  return {id: `job-${state}`, spec: {workflow: 'img2img-sdxl', imagePath: '/x.png', prompt: 'p'}, state, createdAtMs: 0, avoidInstances: [], attempts: 1, outputs: [], instanceKey};
}

function rig(policies: Partial<PolicySettings>, rows: InstanceRow[], jobs: Job[]) {
  let now = 1_000_000;
  const destroyed: string[] = [];
  const fleet = {rows, getSnapshot: (): FleetSnapshot => ({rows: fleet.rows, otherInstalls: [], reconciled: true, creating: [], sshKey: {ok: true, description: 'test'}}), destroy: async (key: string) => void destroyed.push(key)};
  const queue = {jobs, getSnapshot: (): QueueSnapshot => ({jobs: queue.jobs, readyInstances: 1})};
  const spend: SessionSpend = {spentUsd: 0, burnUsdPerHour: 0, cloudRate: 1};
  const model = new PoliciesModel({fleet, queue, settings: () => ({...DEFAULT_SETTINGS.policies, countdownSeconds: 30, ...policies}), spend: () => spend, now: () => now});
  return {
    model,
    fleet,
    queue,
    spend,
    destroyed,
    advance(ms: number) {
      now += ms;
      model.tick();
      model.flush();
    },
    snapshot: () => model.getSnapshot(),
  };
}

describe('auto-destroy policies', () => {
  it('counts down once the queue has drained, then destroys the ready instances', () => {
    const r = rig({destroyWhenDrained: true}, [row('a', 'READY'), row('b', 'DOWNLOADING')], [job('running', 'a')]);
    r.advance(0);
    expect(r.snapshot().countdown).toBeUndefined();
    r.queue.jobs = [job('done', 'a')];
    r.advance(1000);
    expect(r.snapshot().countdown?.reason).toMatch(/drained/);
    expect(r.snapshot().countdown?.instanceKeys).toEqual(['a']);
    r.advance(29_000);
    expect(r.destroyed).toEqual([]);
    r.advance(1_000);
    expect(r.destroyed).toEqual(['a']);
    expect(r.snapshot().countdown).toBeUndefined();
  });

  it('never fires on a queue that was never used', () => {
    const r = rig({destroyWhenDrained: true}, [row('a', 'READY')], []);
    r.advance(10 * 60_000);
    expect(r.snapshot().countdown).toBeUndefined();
  });

  it('cancelling keeps the trigger quiet until its condition clears and comes back', () => {
    const r = rig({destroyWhenDrained: true}, [row('a', 'READY')], [job('done', 'a')]);
    r.advance(0);
    expect(r.snapshot().countdown).toBeDefined();
    r.model.cancelCountdown();
    r.advance(60_000);
    expect(r.snapshot().countdown).toBeUndefined();
    expect(r.destroyed).toEqual([]);
    r.queue.jobs = [job('running', 'a')];
    r.advance(1000);
    r.queue.jobs = [job('done', 'a')];
    r.advance(1000);
    expect(r.snapshot().countdown?.reason).toMatch(/drained/);
  });

  it('destroys an instance idle for the configured minutes', () => {
    const r = rig({idleMinutes: 15}, [row('a', 'READY'), row('b', 'READY')], [job('running', 'b')]);
    r.advance(0);
    r.advance(14 * 60_000);
    expect(r.snapshot().countdown).toBeUndefined();
    r.advance(60_000);
    expect(r.snapshot().countdown?.instanceKeys).toEqual(['a']);
    r.advance(30_000);
    expect(r.destroyed).toEqual(['a']);
  });

  it('starts the cap countdown early enough that the cleanup ends at the cap, and stops what was rented during it', () => {
    // Lead: 30 s countdown + 15 s cleanup + 2 s of ticks = 47 s; at $3.60/h the session spends $0.001 a second.
    expect(DEFAULT_CLEANUP_SEC).toBe(15);
    const r = rig({spendCapUsd: 1}, [row('a', 'READY'), row('b', 'DOWNLOADING')], []);
    Object.assign(r.spend, {spentUsd: 0.9, burnUsdPerHour: 3.6});
    r.advance(0);
    expect(r.snapshot().spentUsd).toBeCloseTo(0.9);
    expect(r.snapshot().countdown).toBeUndefined(); // 100 s left
    expect(() => r.model.checkRent()).not.toThrow();
    r.spend.spentUsd = 0.954; // 46 s left
    r.advance(1000);
    expect(r.snapshot().countdown?.reason).toMatch(/spend cap of \$1\.00 will be reached in about 46s \(\$0\.95 spent this session\)/);
    expect(() => r.model.checkRent()).toThrow(/spend cap of \$1\.00 is about to stop/);
    r.fleet.rows = [...r.fleet.rows, row('c', 'DOWNLOADING')]; // rented anyway (another front end)
    r.spend.spentUsd = 0.983;
    r.advance(29_000);
    expect(r.destroyed).toEqual([]);
    r.advance(1000);
    expect(r.destroyed.sort()).toEqual(['a', 'b', 'c']);
  });

  it('in the demo the projection runs on the cloud’s clock: 10× faster, 10× less time', () => {
    expect(projectCap(1, {spentUsd: 0.5, burnUsdPerHour: 3.6, cloudRate: 1}, 47)).toEqual({reached: false, secondsLeft: 500, due: false});
    expect(projectCap(1, {spentUsd: 0.5, burnUsdPerHour: 3.6, cloudRate: 20}, 47)).toEqual({reached: false, secondsLeft: 25, due: true});
    expect(projectCap(1, {spentUsd: 1.2, burnUsdPerHour: 0, cloudRate: 1}, 47)).toEqual({reached: true, secondsLeft: 0, due: true});
    expect(projectCap(0, {spentUsd: 5, burnUsdPerHour: 3.6, cloudRate: 1}, 47).due).toBe(false);
  });

  it('refuses to rent once the cap is reached, even with nothing left running', () => {
    const r = rig({spendCapUsd: 0.25}, [], []);
    r.spend.spentUsd = 0.25;
    r.advance(0);
    expect(r.snapshot().countdown).toBeUndefined();
    expect(() => r.model.checkRent()).toThrow(/spend cap of \$0\.25 is reached \(\$0\.25 spent this session\): nothing was rented/);
  });

  it('the countdown goes away when its condition clears before it ends', () => {
    const r = rig({destroyWhenDrained: true}, [row('a', 'READY')], [job('done', 'a')]);
    r.advance(0);
    expect(r.snapshot().countdown).toBeDefined();
    r.queue.jobs = [job('done', 'a'), job('queued')];
    r.advance(1000);
    expect(r.snapshot().countdown).toBeUndefined();
    r.advance(60_000);
    expect(r.destroyed).toEqual([]);
  });

  it('toggles destroy-when-drained for the session', () => {
    const r = rig({}, [row('a', 'READY')], [job('done', 'a')]);
    r.advance(0);
    expect(r.snapshot().destroyWhenDrained).toBe(false);
    r.model.toggleDestroyWhenDrained();
    r.model.flush();
    expect(r.snapshot().destroyWhenDrained).toBe(true);
    expect(r.snapshot().countdown).toBeDefined();
  });
});
