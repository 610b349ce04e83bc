// Billing accounting on hand-computed numbers: storage from start_date in every state (stopped
// included), GPU per run from uptime_mins (a restart between two looks, a stop, no uptime at all),
// the image pull by bandwidth, provisioning bytes, offline, and the end of a record.
import {describe, expect, it} from 'vitest';
import {endBilling, observeBilling, spendFromApi, spendOf} from '../../source/core/money/billing.js';
import type {BillingRecord, Instance} from '../../source/core/instances/types.js';

// $0.36/h in all, of which storage $0.036/h: GPU $0.324/h = $0.00009/s, storage $0.00001/s.
// 800 Mbit/s: a 10 GB image pulls in 100 s; $0.02/GB down.
const T0 = 1_700_000_000;
function instance(patch: Partial<Instance>): Instance {
  return {
    id: 7,
    machineId: 1,
    label: null,
    actualStatus: 'running',
    intendedStatus: 'running',
    curState: 'running',
    statusMsg: null,
    imageUuid: null,
    imageRuntype: null,
    gpuName: 'RTX 4090',
    numGpus: 1,
    dphTotal: 0.36,
    storageCostPerHour: 0.036,
    diskGb: 60,
    inetDownMbps: 800,
    inetDownCostPerGb: 0.02,
    geolocation: '',
    publicIp: null,
    ports: {},
    sshHost: null,
    sshPort: null,
    jupyterToken: null,
    startDateSec: T0,
    uptimeMins: null,
    inetUpCostPerGb: 0,
    computeCap: 890,
    ...patch,
  };
}

function look(previous: BillingRecord | undefined, atSec: number, patch: Partial<Instance>, provisionedBytes?: number): BillingRecord {
  return observeBilling(previous, {instance: instance(patch), cloudNowSec: T0 + atSec, imageGb: 10, provisionedBytes});
}

describe('billing accounting', () => {
  it('an instance first seen running (created before anyone looked) counts storage from start_date and GPU from uptime_mins', () => {
    // Created at T0, running for 5 min when first seen at T0+400 s.
    const record = look(undefined, 400, {uptimeMins: 5});
    expect(record.runStartSec).toBe(T0 + 100);
    const spend = spendOf(record, T0 + 400);
    expect(spend.storageUsd).toBeCloseTo(400 * 0.00001, 10); // $0.004
    expect(spend.gpuUsd).toBeCloseTo(300 * 0.00009, 10); // $0.027
    expect(spend.bandwidthUsd).toBeCloseTo(10 * 0.02, 10); // the whole image: $0.20
    expect(spend.totalUsd).toBeCloseTo(0.231, 10);
    expect(spend.burnUsdPerHour).toBeCloseTo(0.36, 10);
    // 100 s later nothing was looked at: the running state is assumed to hold.
    expect(spendOf(record, T0 + 500).totalUsd).toBeCloseTo(0.231 + 100 * 0.0001, 10);
  });

  it('a stopped interval bills storage only, and the run that follows is counted from its own uptime', () => {
    let record = look(undefined, 400, {uptimeMins: 5}); // running since T0+100
    record = look(record, 460, {actualStatus: 'stopped', uptimeMins: null}); // stopped between 400 and 460 → at 430
    expect(record.runStartSec).toBeUndefined();
    expect(record.closedGpuSec).toBe(330);
    expect(spendOf(record, T0 + 1000).burnUsdPerHour).toBeCloseTo(0.036, 10);
    expect(spendOf(record, T0 + 1000).gpuSec).toBe(330); // stopped: no GPU
    record = look(record, 1300, {uptimeMins: 1}); // started again at T0+1240
    expect(record.runStartSec).toBe(T0 + 1240);
    const spend = spendOf(record, T0 + 1300);
    expect(spend.gpuSec).toBe(330 + 60);
    expect(spend.gpuUsd).toBeCloseTo(390 * 0.00009, 10);
    expect(spend.storageUsd).toBeCloseTo(1300 * 0.00001, 10); // storage never stopped
  });

  it('a restart between two looks closes the old run halfway through the gap and opens the new one from uptime_mins', () => {
    let record = look(undefined, 200, {uptimeMins: 1}); // run since T0+140
    record = look(record, 300, {uptimeMins: 0.5}); // a new run since T0+270: the old ended between 200 and 270 → 235
    expect(record.closedGpuSec).toBe(235 - 140);
    expect(record.runStartSec).toBe(T0 + 270);
    expect(spendOf(record, T0 + 300).gpuSec).toBe(95 + 30);
  });

  it('without uptime_mins a run is counted from halfway since the last look, or (first look) from when the image would be pulled', () => {
    const first = look(undefined, 400, {uptimeMins: null});
    expect(first.runStartSec).toBe(T0 + 100); // start_date + 10 GB at 800 Mbit/s
    let record = look(undefined, 50, {actualStatus: 'loading', uptimeMins: null});
    record = look(record, 150, {uptimeMins: null});
    expect(record.runStartSec).toBe(T0 + 100);
    record = look(record, 250, {uptimeMins: null});
    expect(record.runStartSec).toBe(T0 + 100);
    expect(spendOf(record, T0 + 250).gpuSec).toBe(150);
  });

  it('the image is billed as it is pulled, then whole once the container runs; provisioning bytes add to it', () => {
    let record = look(undefined, 2, {actualStatus: null}); // created, not loading yet
    expect(spendOf(record, T0 + 2).bandwidthUsd).toBe(0);
    record = look(record, 6, {actualStatus: 'loading'}); // the pull began between 2 and 6 → at 4
    expect(record.pullStartSec).toBe(T0 + 4);
    record = look(record, 54, {actualStatus: 'loading'});
    expect(record.pulledGb).toBeCloseTo(5, 10); // 50 s × 800 Mbit/s = 5 GB
    const pulling = spendOf(record, T0 + 54);
    expect(pulling.bandwidthUsd).toBeCloseTo(0.1, 10);
    // While pulling it burns storage + 0.1 GB/s × $0.02 × 3600.
    expect(pulling.burnUsdPerHour).toBeCloseTo(0.036 + 7.2, 10);
    expect(pulling.gpuUsd).toBe(0); // loading is not GPU time
    record = look(record, 130, {uptimeMins: 0.2}, 2_500_000_000);
    const running = spendOf(record, T0 + 130);
    expect(running.downloadedGb).toBeCloseTo(12.5, 10);
    expect(running.bandwidthUsd).toBeCloseTo(0.25, 10);
    // Provisioning bytes never go down (a stream that restarts counts again from 0).
    record = look(record, 140, {uptimeMins: 0.4}, 1_000_000_000);
    expect(record.provisionedGb).toBeCloseTo(2.5, 10);
  });

  it('a destroy ends every clock at the moment the API accepted it; a vanished instance halfway since the last look', () => {
    let record = look(undefined, 400, {uptimeMins: 5}); // run since T0+100
    const destroyed = endBilling(record, T0 + 420, 'destroyed');
    expect(destroyed.endedSec).toBe(T0 + 420);
    const final = spendOf(destroyed, T0 + 9999);
    expect(final.gpuSec).toBe(320);
    expect(final.storageUsd).toBeCloseTo(420 * 0.00001, 10);
    expect(final.totalUsd).toBeCloseTo(320 * 0.00009 + 420 * 0.00001 + 0.2, 10);
    expect(final.burnUsdPerHour).toBe(0);
    expect(observeBilling(destroyed, {instance: instance({}), cloudNowSec: T0 + 500, imageGb: 10})).toBe(destroyed);
    const vanished = endBilling(record, T0 + 440, 'vanished');
    expect(vanished.endedSec).toBe(T0 + 420);
    // A destroy while still pulling bills the image up to the destroy.
    record = look(undefined, 10, {actualStatus: 'loading'}); // first look: the pull is taken to begin at creation
    expect(spendOf(endBilling(record, T0 + 30), T0 + 30).downloadedGb).toBeCloseTo(3, 10);
  });

  it('offline time bills no storage', () => {
    let record = look(undefined, 100, {uptimeMins: 0});
    record = look(record, 200, {actualStatus: 'offline', uptimeMins: null}); // went offline at 150
    record = look(record, 300, {actualStatus: 'offline', uptimeMins: null});
    expect(spendOf(record, T0 + 300).burnUsdPerHour).toBe(0);
    record = look(record, 400, {actualStatus: 'stopped', uptimeMins: null}); // back at 350
    const spend = spendOf(record, T0 + 400);
    expect(spend.storageUsd).toBeCloseTo((400 - 200) * 0.00001, 10);
    expect(spend.gpuSec).toBe(50);
  });

  it('another install’s instance is priced from its API record alone', () => {
    const spend = spendFromApi(instance({uptimeMins: 5}), T0 + 400, 10);
    expect(spend.totalUsd).toBeCloseTo(0.231, 10);
  });
});
