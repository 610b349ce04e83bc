// The spend book over a real ledger file and sessions file, on a hand-driven cloud clock: billing
// records persist and survive a reopen; a destroy ends them at the moment it was accepted (and a
// look that raced it cannot reopen them); a vanished instance ends halfway since the last look;
// a session counts what it rented (destroyed ones included) and what older instances billed since
// its first look at them; everyone else's instances are priced from the API alone.
import {mkdtempSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import type {Instance} from '../../source/core/instances/types.js';
import {Ledger} from '../../source/core/ledger/ledger.js';
import {Sessions} from '../../source/core/money/sessions.js';
import {SpendBook} from '../../source/core/money/spend-book.js';

const ORIGIN = 'http://127.0.0.1:4200';
const T0 = 1_700_000_000;

// $0.36/h with $0.036/h of storage; the image is 10 GB at $0.02/GB = $0.20.
function instance(id: number, patch: Partial<Instance> = {}): Instance {
  return {
    id, machineId: 1, label: null, actualStatus: 'running', intendedStatus: 'running', curState: 'running', statusMsg: null, imageUuid: null, imageRuntype: null,
    gpuName: 'RTX 4090', numGpus: 1, dphTotal: 0.36, storageCostPerHour: 0.036, diskGb: 60, inetDownMbps: 800, inetDownCostPerGb: 0.02, geolocation: '',
    publicIp: null, ports: {}, sshHost: null, sshPort: null, jupyterToken: null, startDateSec: T0, uptimeMins: 0, inetUpCostPerGb: 0, computeCap: 890,
    ...patch,
  };
}

function rig() {
  const dir = mkdtempSync(join(tmpdir(), 'vastdeck-spend-book-'));
  const clock = {sec: T0};
  const open = (): {ledger: Ledger; book: SpendBook} => {
    const ledger = Ledger.open({path: join(dir, 'ledger.json'), installId: 'a1b2c3', cloudNowSec: () => clock.sec});
    return {ledger, book: new SpendBook({ledger, apiOrigin: ORIGIN, sessions: new Sessions(dir), cloudNowSec: () => clock.sec, imageGb: () => 10})};
  };
  return {clock, open, ...open()};
}

function rented(ledger: Ledger, instanceId: number): string {
  const entry = ledger.begin({apiOrigin: ORIGIN, offerId: instanceId, machineId: 1, gpuName: 'RTX 4090', numGpus: 1, dphTotal: 0.36, webPassword: 'pw'});
  ledger.markCreated(entry.localId, instanceId);
  return entry.localId;
}

describe('the spend book', () => {
  it('keeps each instance’s billing in the ledger, ends it when the destroy is accepted, and a racing look cannot reopen it', () => {
    const {clock, ledger, book, open} = rig();
    const localId = rented(ledger, 11);
    book.observe([instance(11)]); // running since T0
    clock.sec = T0 + 100;
    book.observe([instance(11, {uptimeMins: 100 / 60})]);
    expect(book.instanceSpend(11)!.totalUsd).toBeCloseTo(100 * 0.0001 + 0.2, 10);
    // Reopened by another process: the same record.
    expect(open().book.instanceSpend(11)!.totalUsd).toBeCloseTo(0.21, 10);
    ledger.markDestroying(localId);
    clock.sec = T0 + 130;
    ledger.endBilling(localId, 'destroyed');
    // A list answered before the destroy, processed after it: the record stays ended.
    book.observe([instance(11, {uptimeMins: 2})]);
    clock.sec = T0 + 200;
    ledger.markDestroyed(localId, 'destroyed; confirmed gone');
    const record = ledger.find(localId)!.billing!;
    expect(record.endedSec).toBe(T0 + 130);
    expect(book.summary().ended[0]!.spend.totalUsd).toBeCloseTo(130 * 0.0001 + 0.2, 10);
  });

  it('ends an instance that vanished halfway since the last look', () => {
    const {clock, ledger, book} = rig();
    const localId = rented(ledger, 12);
    book.observe([instance(12)]);
    clock.sec = T0 + 60;
    book.observe([instance(12, {uptimeMins: 1})]);
    clock.sec = T0 + 80;
    ledger.markGone(localId, 'not in the list any more');
    expect(ledger.find(localId)!.billing!.endedSec).toBe(T0 + 70);
  });

  it('a session counts what it rented, destroyed or not, and older instances from its first look; others are priced from the API', () => {
    const {clock, ledger, book} = rig();
    const older = rented(ledger, 21); // rented by an earlier session (e.g. `up`)
    book.observe([instance(21)]);
    clock.sec = T0 + 100;
    book.observe([instance(21, {uptimeMins: 100 / 60})]);
    const session = book.beginSession('dashboard', 1);
    // The older instance counts from here: it has cost $0.21 so far, none of it this session's.
    expect(session.baselines[older]).toBeCloseTo(0.21, 10);
    const mine = rented(ledger, 22);
    expect(ledger.find(mine)!.sessionId).toBe(session.id);
    clock.sec = T0 + 200;
    book.observe([instance(21, {uptimeMins: 200 / 60}), instance(22, {startDateSec: T0 + 100, uptimeMins: 100 / 60}), instance(99, {label: 'a colleague', uptimeMins: 200 / 60})]);
    ledger.markDestroying(mine);
    ledger.endBilling(mine, 'destroyed');
    ledger.markDestroyed(mine, 'destroyed');
    clock.sec = T0 + 300;
    const summary = book.summary();
    // Older: 200 s more at $0.0001/s; mine: 100 s + its image (destroyed at T0+200).
    expect(summary.session!.spentUsd).toBeCloseTo(200 * 0.0001 + (100 * 0.0001 + 0.2), 10);
    expect(summary.session!.burnUsdPerHour).toBeCloseTo(0.36, 10);
    expect(summary.onAccount.map(row => [row.instanceId, row.ours])).toEqual([[21, true], [99, false]]);
    expect(summary.onAccount[1]!.spend.totalUsd).toBeCloseTo(300 * 0.0001 + 0.2, 10);
    expect(summary.burnUsdPerHour).toBeCloseTo(0.72, 10);
    expect(summary.allTimeUsd).toBeCloseTo(300 * 0.0001 + 0.2 + (100 * 0.0001 + 0.2), 10);
    book.endSession();
    expect(new Sessions(join(ledger.path, '..')).latest(ORIGIN)).toMatchObject({id: session.id, kind: 'dashboard', capUsd: 1, endedAtMs: expect.any(Number)});
  });
});
