// Reconciling the ledger with the account's instance list: known instances stay tracked, unknown
// vastdeck ones are adopted, vanished ones become 'gone', lost creates are found again by label.
import {mkdtempSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import type {Instance} from '../../source/core/instances/types.js';
import {Ledger, type LedgerIntent} from '../../source/core/ledger/ledger.js';
import {reconcile} from '../../source/core/ledger/reconcile.js';
import {parseInstance} from '../../source/core/vast/instances-api.js';

const ORIGIN = 'http://127.0.0.1:4100';

function freshLedger(): Ledger {
  return Ledger.open({path: join(mkdtempSync(join(tmpdir(), 'vastdeck-reconcile-')), 'ledger.json')});
}

function intent(offerId: number): LedgerIntent {
  return {apiOrigin: ORIGIN, offerId, machineId: offerId * 10, gpuName: 'RTX 4090', numGpus: 1, dphTotal: 0.4, webPassword: 'pw'};
}

function instance(id: number, label: string | null): Instance {
  return parseInstance({id, label, machine_id: 9, gpu_name: 'RTX 3090', num_gpus: 2, dph_total: 0.5, actual_status: 'running'});
}

describe('reconcile', () => {
  it('keeps instances the ledger knows as tracked', () => {
    const ledger = freshLedger();
    const entry = ledger.begin(intent(1));
    ledger.markCreated(entry.localId, 101);
    const result = reconcile(ledger, ORIGIN, [instance(101, entry.label)]);
    expect(result.tracked.map(tracked => tracked.localId)).toEqual([entry.localId]);
    expect(result).toMatchObject({adopted: [], vanished: [], unresolved: []});
    expect(ledger.find(entry.localId)?.state).toBe('active');
  });

  it("adopts this install's instances it did not know, lists other installs' ones, and ignores other people's", () => {
    const ledger = Ledger.open({path: join(mkdtempSync(join(tmpdir(), 'vastdeck-reconcile-')), 'ledger.json'), installId: 'a1b2c3'});
    const result = reconcile(ledger, ORIGIN, [instance(201, 'vastdeck:a1b2c3-0badc0de'), instance(202, 'my-notebook'), instance(203, null), instance(204, 'vastdeck:d4e5f6-feedface'), instance(205, 'vastdeck:0ldlabel')]);
    expect(result.adopted).toHaveLength(1);
    expect(result.adopted[0]).toMatchObject({localId: '0badc0de', label: 'vastdeck:a1b2c3-0badc0de', state: 'active', instanceId: 201, gpuName: 'RTX 3090', numGpus: 2, dphTotal: 0.5});
    expect(result.adopted[0]!.events.map(event => event.what)).toEqual(['found on the account']);
    // Another install's, and a label from before install ids that this ledger never knew: listed, never adopted.
    expect(result.others.map(other => other.id)).toEqual([204, 205]);
    expect(ledger.all()).toHaveLength(1);
    expect(reconcile(ledger, ORIGIN, [instance(201, 'vastdeck:a1b2c3-0badc0de')]).adopted).toEqual([]);
  });

  it('labels new entries with the install id', () => {
    const ledger = Ledger.open({path: join(mkdtempSync(join(tmpdir(), 'vastdeck-reconcile-')), 'ledger.json'), installId: 'a1b2c3'});
    const entry = ledger.begin(intent(1));
    expect(entry.label).toBe(`vastdeck:a1b2c3-${entry.localId}`);
  });

  it("marks active and destroying entries missing from the list as gone", () => {
    const ledger = freshLedger();
    const active = ledger.begin(intent(1));
    ledger.markCreated(active.localId, 301);
    const destroying = ledger.begin(intent(2));
    ledger.markCreated(destroying.localId, 302);
    ledger.markDestroying(destroying.localId);
    const result = reconcile(ledger, ORIGIN, []);
    expect(result.vanished.map(entry => entry.localId).sort()).toEqual([active.localId, destroying.localId].sort());
    expect(result.vanished.every(entry => entry.state === 'gone')).toBe(true);
    expect(ledger.find(active.localId)?.events.at(-1)?.what).toBe("not in the account's instance list any more");
  });

  it('finds a create whose answer was lost by its label', () => {
    const ledger = freshLedger();
    const lost = ledger.begin(intent(1));
    const result = reconcile(ledger, ORIGIN, [instance(401, lost.label)]);
    expect(result.tracked).toHaveLength(1);
    expect(result.tracked[0]).toMatchObject({localId: lost.localId, state: 'active', instanceId: 401});
    expect(result.adopted).toEqual([]);
  });

  it('keeps and reports a lost create that is not on the account, and gives up after a day', () => {
    const ledger = freshLedger();
    const lost = ledger.begin(intent(1));
    const result = reconcile(ledger, ORIGIN, []);
    expect(result.unresolved.map(entry => entry.localId)).toEqual([lost.localId]);
    expect(ledger.find(lost.localId)?.state).toBe('creating');
    const later = reconcile(ledger, ORIGIN, [], {nowMs: Date.now() + 25 * 60 * 60 * 1000});
    expect(later.unresolved).toEqual([]);
    expect(ledger.find(lost.localId)?.state).toBe('create-failed');
  });

  it('reactivates an entry marked destroyed whose instance is still on the account', () => {
    const ledger = freshLedger();
    const entry = ledger.begin(intent(1));
    ledger.markCreated(entry.localId, 501);
    ledger.markDestroyed(entry.localId, 'destroyed');
    const result = reconcile(ledger, ORIGIN, [instance(501, entry.label)]);
    expect(result.tracked[0]).toMatchObject({localId: entry.localId, state: 'active'});
  });

  it('only looks at entries of the same API origin', () => {
    const ledger = freshLedger();
    const elsewhere = ledger.begin({...intent(1), apiOrigin: 'https://console.vast.ai'});
    ledger.markCreated(elsewhere.localId, 601);
    const result = reconcile(ledger, ORIGIN, []);
    expect(result.vanished).toEqual([]);
    expect(ledger.find(elsewhere.localId)?.state).toBe('active');
  });
});
