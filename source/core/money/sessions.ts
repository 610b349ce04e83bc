// Sessions: one record per start of a front end that can rent — the dashboard, `vastdeck up` and
// `vastdeck run` — in $XDG_STATE_HOME/vastdeck/sessions.json (0600), newest last, the last 100 kept.
//
// A session's spend is what this install's instances cost while it ran:
//   every instance it rented (ledger entries stamped with its id), all of it — destroyed ones and
//   ones rented during a countdown included — plus
//   what the install's instances that were already there (rented by an earlier session, e.g. `up`
//   before the dashboard opened) cost from the moment the session first saw them (their spend at
//   that first look is kept as a baseline and subtracted).
// The spend cap (policies.spendCapUsd, --max-spend) is on this figure; `vastdeck spend` reports
// the latest session's.
import {readFileSync} from 'node:fs';
import {randomBytes} from 'node:crypto';
import {join} from 'node:path';
import {writePrivateFile} from '../credentials.js';
import type {LedgerInstance} from '../instances/types.js';
import {spendOf} from './billing.js';

export type SessionKind = 'dashboard' | 'up' | 'run';

export interface SessionRecord {
  id: string;
  kind: SessionKind;
  apiOrigin: string;
  startedAtMs: number;
  /** The cloud's clock at the start (epoch seconds). */
  startedCloudSec: number;
  pid: number;
  /** The cap this session runs under; 0 = none. */
  capUsd: number;
  /** Spend of instances rented before the session, at its first look at each (ledger localId → $). */
  baselines: Record<string, number>;
  endedAtMs?: number;
}

const KEEP = 100;

export class Sessions {
  readonly path: string;

  constructor(stateDir: string) {
    this.path = join(stateDir, 'sessions.json');
  }

  all(): SessionRecord[] {
    let data: unknown;
    try {
      data = JSON.parse(readFileSync(this.path, 'utf8'));
    } catch {
      return [];
    }
    const list = typeof data === 'object' && data !== null ? (data as {sessions?: unknown}).sessions : undefined;
    return Array.isArray(list) ? list.filter(isSessionRecord) : [];
  }

  /** The newest session against this API (the one running now, or the last one). */
  latest(apiOrigin: string): SessionRecord | undefined {
    return this.all().filter(session => session.apiOrigin === apiOrigin).at(-1);
  }

  begin(kind: SessionKind, apiOrigin: string, startedCloudSec: number, capUsd: number): SessionRecord {
    const session: SessionRecord = {id: `${kind}-${randomBytes(4).toString('hex')}`, kind, apiOrigin, startedAtMs: Date.now(), startedCloudSec, pid: process.pid, capUsd, baselines: {}};
    this.#save([...this.all(), session]);
    return session;
  }

  /** Keeps the session's record in step (baselines, cap, end). */
  update(session: SessionRecord): void {
    const sessions = this.all();
    const index = sessions.findIndex(candidate => candidate.id === session.id);
    if (index >= 0) sessions[index] = session;
    else sessions.push(session);
    this.#save(sessions);
  }

  #save(sessions: SessionRecord[]): void {
    writePrivateFile(this.path, `${JSON.stringify({version: 1, sessions: sessions.slice(-KEEP)}, undefined, 2)}\n`);
  }
}

/** What the session's instances cost by `cloudNowSec` (see the top of this file). */
export function sessionSpendUsd(session: SessionRecord, entries: readonly LedgerInstance[], cloudNowSec: number): number {
  let total = 0;
  for (const entry of entries) {
    if (!entry.billing) continue;
    const spent = spendOf(entry.billing, cloudNowSec).totalUsd;
    if (entry.sessionId === session.id) total += spent;
    else if (session.baselines[entry.localId] !== undefined) total += Math.max(0, spent - session.baselines[entry.localId]!);
  }
  return total;
}

/** $/h the session's instances bill right now. */
export function sessionBurnUsdPerHour(session: SessionRecord, entries: readonly LedgerInstance[], cloudNowSec: number): number {
  return entries
    .filter(entry => entry.billing && (entry.sessionId === session.id || session.baselines[entry.localId] !== undefined))
    .reduce((sum, entry) => sum + spendOf(entry.billing!, cloudNowSec).burnUsdPerHour, 0);
}

function isSessionRecord(raw: unknown): raw is SessionRecord {
  if (typeof raw !== 'object' || raw === null) return false;
  const session = raw as Record<string, unknown>;
  return (
    typeof session.id === 'string' && typeof session.kind === 'string' && typeof session.apiOrigin === 'string' &&
    typeof session.startedAtMs === 'number' && typeof session.startedCloudSec === 'number' && typeof session.capUsd === 'number' &&
    typeof session.baselines === 'object' && session.baselines !== null
  );
}
