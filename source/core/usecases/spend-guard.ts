// The spend guard: auto-destroy policies that destroy instances when the generation queue has
// drained, when an instance sat READY with no job for N minutes, or when the session's spend reaches
// a cap — always after a visible countdown that one key cancels, and always through the clean-up
// use case (outputs first). It sees only this install's fleet rows.
import type {FleetSnapshot, PoliciesController, PoliciesSnapshot, QueueSnapshot} from '../deck-types.js';
import {Model} from '../model.js';
import type {PolicySettings} from '../settings.js';

export interface PolicyDeps {
  fleet: {getSnapshot(): FleetSnapshot; destroy(key: string, options?: {force?: boolean}): Promise<void>};
  queue: {getSnapshot(): QueueSnapshot};
  settings: () => PolicySettings;
  now?: () => number;
  /** Evaluation interval (1 s); tests call tick() themselves. */
  tickMs?: number;
}

type Trigger = 'cap' | 'drained' | 'idle';
const BUSY_JOB_STATES = new Set(['queued', 'uploading', 'running', 'downloading']);

export class PoliciesModel extends Model<PoliciesSnapshot> implements PoliciesController {
  readonly #deps: PolicyDeps;
  readonly #now: () => number;
  #timer: NodeJS.Timeout | undefined;
  #drainedOverride: boolean | undefined;
  #countdown: (NonNullable<PoliciesSnapshot['countdown']> & {trigger: Trigger}) | undefined;
  /** Triggers the user cancelled: quiet until their condition clears. */
  readonly #suppressed = new Set<Trigger>();
  /** Per instance key: when it last had a job (or became READY). */
  readonly #lastBusyAtMs = new Map<string, number>();
  #queueEverUsed = false;

  constructor(deps: PolicyDeps) {
    const settings = deps.settings();
    super({destroyWhenDrained: settings.destroyWhenDrained, idleMinutes: settings.idleMinutes, spendCapUsd: settings.spendCapUsd, spentUsd: 0});
    this.#deps = deps;
    this.#now = deps.now ?? Date.now;
  }

  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => this.tick(), this.#deps.tickMs ?? 1000);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  cancelCountdown(): void {
    if (!this.#countdown) return;
    this.#suppressed.add(this.#countdown.trigger);
    this.#countdown = undefined;
    this.tick();
  }

  toggleDestroyWhenDrained(): void {
    this.#drainedOverride = !this.#settings().destroyWhenDrained;
    this.tick();
  }

  /** Evaluates the policies once: starts, clears or fires the countdown. */
  tick(): void {
    const now = this.#now();
    const settings = this.#settings();
    const rows = this.#deps.fleet.getSnapshot().rows.filter(row => row.ledgerState === 'active' && !row.cleanup);
    const jobs = this.#deps.queue.getSnapshot().jobs;
    const spentUsd = rows.reduce((sum, row) => sum + row.accruedUsd, 0);
    this.#trackBusy(rows, jobs, now);

    const active = new Map<Trigger, {reason: string; keys: string[]}>();
    if (settings.spendCapUsd > 0 && spentUsd >= settings.spendCapUsd && rows.length > 0) {
      active.set('cap', {reason: `the spend cap of $${settings.spendCapUsd.toFixed(2)} is reached ($${spentUsd.toFixed(2)} spent)`, keys: rows.map(row => row.key)});
    }
    const ready = rows.filter(row => row.stage.stage === 'READY');
    if (settings.destroyWhenDrained && this.#queueEverUsed && ready.length > 0 && !jobs.some(job => BUSY_JOB_STATES.has(job.state))) {
      active.set('drained', {reason: 'the generation queue has drained', keys: ready.map(row => row.key)});
    }
    if (settings.idleMinutes > 0) {
      const idle = ready.filter(row => now - (this.#lastBusyAtMs.get(row.key) ?? now) >= settings.idleMinutes * 60_000);
      if (idle.length > 0) active.set('idle', {reason: `${idle.length === 1 ? 'an instance has' : `${idle.length} instances have`} been idle ${settings.idleMinutes} min`, keys: idle.map(row => row.key)});
    }
    for (const trigger of [...this.#suppressed]) if (!active.has(trigger)) this.#suppressed.delete(trigger);

    if (this.#countdown && !active.has(this.#countdown.trigger)) this.#countdown = undefined;
    if (!this.#countdown) {
      const trigger = (['cap', 'drained', 'idle'] as const).find(candidate => active.has(candidate) && !this.#suppressed.has(candidate));
      if (trigger) {
        const {reason, keys} = active.get(trigger)!;
        this.#countdown = {trigger, reason, instanceKeys: keys, endsAtMs: now + settings.countdownSeconds * 1000};
      }
    } else if (now >= this.#countdown.endsAtMs) {
      const {instanceKeys, trigger} = this.#countdown;
      this.#countdown = undefined;
      this.#suppressed.add(trigger);
      for (const key of instanceKeys) void this.#deps.fleet.destroy(key);
    }
    const {trigger: _trigger, ...countdown} = this.#countdown ?? {trigger: undefined};
    const next: PoliciesSnapshot = {
      destroyWhenDrained: settings.destroyWhenDrained,
      idleMinutes: settings.idleMinutes,
      spendCapUsd: settings.spendCapUsd,
      // Rounded to a hundredth of a cent: the label shows no more, and an unchanged snapshot renders nothing.
      spentUsd: Math.round(spentUsd * 10_000) / 10_000,
      countdown: this.#countdown ? (countdown as PoliciesSnapshot['countdown']) : undefined,
    };
    if (JSON.stringify(next) !== JSON.stringify(this.getSnapshot())) this.update(next);
  }

  #settings(): PolicySettings {
    const settings = this.#deps.settings();
    return this.#drainedOverride === undefined ? settings : {...settings, destroyWhenDrained: this.#drainedOverride};
  }

  #trackBusy(rows: FleetSnapshot['rows'], jobs: QueueSnapshot['jobs'], now: number): void {
    if (jobs.length > 0) this.#queueEverUsed = true;
    for (const row of rows) {
      const busy = jobs.some(job => job.instanceKey === row.key && BUSY_JOB_STATES.has(job.state));
      if (busy || row.stage.stage !== 'READY' || !this.#lastBusyAtMs.has(row.key)) this.#lastBusyAtMs.set(row.key, now);
    }
  }
}
