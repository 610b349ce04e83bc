// The spend guard: auto-destroy policies that destroy instances when the generation queue has
// drained, when an instance sat READY with no job for N minutes, or before the session's spend
// reaches its cap — always after a visible countdown that one key cancels, and always through the
// clean-up use case (outputs first). It sees only this install's fleet rows.
//
// The cap (policies.spendCapUsd, --max-spend) is on the session's spend (core/money/sessions.ts:
// everything the session rented, destroyed instances and ones rented during a countdown included).
// Its countdown starts early: when, at the session's current burn, the cap would be reached within
// the countdown plus the time a cleanup takes (the longest measured, 15 s until one was) plus two
// evaluation ticks, so the cleanup ends at the cap instead of a countdown after it. When it fires
// it destroys every instance of the install then alive. Renting is refused while the cap is
// reached or its countdown runs. The CLI (`up`, `run`) uses the same projection (projectCap) with
// no countdown (CapGuard).
import type {FleetSnapshot, PoliciesController, PoliciesSnapshot, QueueSnapshot} from '../deck-types.js';
import {alignedInterval} from '../clock.js';
import {InputError} from '../errors.js';
import {formatDuration} from '../format.js';
import {Model} from '../model.js';
import type {PolicySettings} from '../settings.js';
import type {DeckContext} from './context.js';

/** The session's spend as the cap sees it. */
export interface SessionSpend {
  spentUsd: number;
  /** $/h the session's instances bill now. */
  burnUsdPerHour: number;
  /** Cloud seconds per local second (the simulator's speed in the demo, 1 live). */
  cloudRate: number;
}

export interface PolicyDeps {
  fleet: {getSnapshot(): FleetSnapshot; destroy(key: string, options?: {force?: boolean}): Promise<void>};
  queue: {getSnapshot(): QueueSnapshot};
  settings: () => PolicySettings;
  /** The session's spend now (the spend book). */
  spend: () => SessionSpend;
  now?: () => number;
  /** Evaluation interval (1 s); tests call tick() themselves. */
  tickMs?: number;
}

/** What a cleanup takes (local seconds) until one has been measured. */
export const DEFAULT_CLEANUP_SEC = 15;
const TICK_MARGIN_SEC = 2;

export interface CapProjection {
  reached: boolean;
  /** Local seconds until the cap at the current burn (Infinity when nothing bills). */
  secondsLeft: number;
  /** The cleanup must start now to end by the cap. */
  due: boolean;
}

/** Where the session stands against its cap, given how many local seconds the stop takes. */
export function projectCap(capUsd: number, spend: SessionSpend, leadSec: number): CapProjection {
  const leftUsd = capUsd - spend.spentUsd;
  const secondsLeft = leftUsd <= 0 ? 0 : spend.burnUsdPerHour > 0 ? (leftUsd / spend.burnUsdPerHour) * 3600 / Math.max(1e-6, spend.cloudRate) : Infinity;
  return {reached: leftUsd <= 0, secondsLeft, due: capUsd > 0 && secondsLeft <= leadSec};
}

/** The sentence a rent gets while the cap is reached (or about to be), else undefined. */
export function capRefusal(capUsd: number, spend: SessionSpend, leadSec: number): string | undefined {
  if (!(capUsd > 0)) return undefined;
  const projection = projectCap(capUsd, spend, leadSec);
  if (!projection.due) return undefined;
  const state = projection.reached ? 'is reached' : `will be reached in about ${formatDuration(projection.secondsLeft)}`;
  return `The spend cap of $${capUsd.toFixed(2)} ${state} ($${spend.spentUsd.toFixed(2)} spent this session): nothing was rented; raise the cap (policies.spendCapUsd or --max-spend) to rent more.`;
}

type Trigger = 'cap' | 'drained' | 'idle';
const BUSY_JOB_STATES = new Set(['queued', 'uploading', 'running', 'downloading']);

export class PoliciesModel extends Model<PoliciesSnapshot> implements PoliciesController {
  readonly #deps: PolicyDeps;
  readonly #now: () => number;
  #stopTimer: (() => void) | undefined;
  #drainedOverride: boolean | undefined;
  #countdown: (NonNullable<PoliciesSnapshot['countdown']> & {trigger: Trigger}) | undefined;
  /** Triggers the user cancelled: quiet until their condition clears. */
  readonly #suppressed = new Set<Trigger>();
  /** Per instance key: when it last had a job (or became READY). */
  readonly #lastBusyAtMs = new Map<string, number>();
  #queueEverUsed = false;
  /** The longest a cap cleanup took in this session (local seconds), at least DEFAULT_CLEANUP_SEC. */
  #cleanupSec = DEFAULT_CLEANUP_SEC;

  constructor(deps: PolicyDeps) {
    const settings = deps.settings();
    super({destroyWhenDrained: settings.destroyWhenDrained, idleMinutes: settings.idleMinutes, spendCapUsd: settings.spendCapUsd, spentUsd: 0});
    this.#deps = deps;
    this.#now = deps.now ?? Date.now;
  }

  start(): void {
    if (this.#stopTimer) return;
    this.#stopTimer = alignedInterval(this.#deps.tickMs ?? 1000, () => this.tick());
  }

  stop(): void {
    this.#stopTimer?.();
    this.#stopTimer = undefined;
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

  /** Throws the cap's sentence when renting now would go past it (the rent use case's beforeCreate). */
  checkRent(): void {
    const settings = this.#settings();
    if (this.#countdown?.trigger === 'cap') {
      throw new InputError(`The spend cap of $${settings.spendCapUsd.toFixed(2)} is about to stop this session's instances (${this.#countdown.reason}): nothing was rented; raise the cap to rent more.`);
    }
    const refusal = capRefusal(settings.spendCapUsd, this.#deps.spend(), this.#leadSec(settings));
    if (refusal) throw new InputError(refusal);
  }

  /** Evaluates the policies once: starts, clears or fires the countdown. */
  tick(): void {
    const now = this.#now();
    const settings = this.#settings();
    const rows = this.#deps.fleet.getSnapshot().rows.filter(row => row.ledgerState === 'active' && !row.cleanup);
    const jobs = this.#deps.queue.getSnapshot().jobs;
    const spend = this.#deps.spend();
    const spentUsd = spend.spentUsd;
    this.#trackBusy(rows, jobs, now);

    const active = new Map<Trigger, {reason: string; keys: string[]}>();
    const cap = projectCap(settings.spendCapUsd, spend, this.#leadSec(settings));
    if (cap.due && rows.length > 0) {
      const when = cap.reached ? 'is reached' : `will be reached in about ${formatDuration(cap.secondsLeft)}`;
      active.set('cap', {reason: `the spend cap of $${settings.spendCapUsd.toFixed(2)} ${when} ($${spentUsd.toFixed(2)} spent this session)`, keys: rows.map(row => row.key)});
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
      const {trigger} = this.#countdown;
      // The cap stops everything alive now, instances rented during the countdown included.
      const instanceKeys = trigger === 'cap' ? rows.map(row => row.key) : this.#countdown.instanceKeys;
      this.#countdown = undefined;
      // A cap that fired stays armed (a later rent counts against it); the others wait for their condition to clear.
      if (trigger !== 'cap') this.#suppressed.add(trigger);
      for (const key of instanceKeys) {
        const startedMs = this.#now();
        void this.#deps.fleet.destroy(key).then(() => {
          if (trigger === 'cap') this.#cleanupSec = Math.max(this.#cleanupSec, (this.#now() - startedMs) / 1000);
        });
      }
    } else if (this.#countdown.trigger === 'cap') {
      this.#countdown = {...this.#countdown, reason: active.get('cap')!.reason, instanceKeys: active.get('cap')!.keys};
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

  /** Local seconds from the start of a cap countdown until its cleanup has ended. */
  #leadSec(settings: PolicySettings): number {
    return settings.countdownSeconds + this.#cleanupSec + TICK_MARGIN_SEC;
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

/** The session's spend from the spend book, on the cloud's clock. */
export function sessionSpendOf(ctx: Pick<DeckContext, 'spend' | 'client'>): SessionSpend {
  const session = ctx.spend.summary().session;
  return {spentUsd: session?.spentUsd ?? 0, burnUsdPerHour: session?.burnUsdPerHour ?? 0, cloudRate: ctx.client.cloudClock.rate()};
}

/**
 * The cap in a command (`up`, `run`): no countdown to cancel, so the stop begins when, at the
 * session's burn, the cap would be reached within a cleanup (DEFAULT_CLEANUP_SEC) and two checks.
 * `onDue` is called once, with the sentence to print.
 */
export class CapGuard {
  readonly capUsd: number;
  readonly #spend: () => SessionSpend;
  readonly #onDue: (reason: string) => void;
  readonly #leadSec: number;
  readonly #tickMs: number;
  #timer: NodeJS.Timeout | undefined;
  #fired: string | undefined;

  constructor(options: {capUsd: number; spend: () => SessionSpend; onDue: (reason: string) => void; leadSec?: number; tickMs?: number}) {
    this.capUsd = options.capUsd;
    this.#spend = options.spend;
    this.#onDue = options.onDue;
    this.#leadSec = options.leadSec ?? DEFAULT_CLEANUP_SEC + TICK_MARGIN_SEC;
    this.#tickMs = options.tickMs ?? 1000;
  }

  /** The sentence once the cap fired. */
  get fired(): string | undefined {
    return this.#fired;
  }

  start(): void {
    if (this.#timer || !(this.capUsd > 0)) return;
    this.#timer = setInterval(() => this.check(), this.#tickMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Throws the cap's sentence when a rent now would go past the cap (the rent use case's beforeCreate). */
  checkRent(): void {
    const refusal = capRefusal(this.capUsd, this.#spend(), this.#leadSec);
    if (refusal) throw new InputError(refusal);
  }

  check(): void {
    if (this.#fired || !(this.capUsd > 0)) return;
    const spend = this.#spend();
    const cap = projectCap(this.capUsd, spend, this.#leadSec);
    if (!cap.due) return;
    const when = cap.reached ? 'was reached' : `would be reached in about ${formatDuration(cap.secondsLeft)}`;
    this.#fired = `the spend cap of $${this.capUsd.toFixed(2)} ${when} ($${spend.spentUsd.toFixed(4)} spent this session, $${spend.burnUsdPerHour.toFixed(3)}/h)`;
    this.stop();
    this.#onDue(this.#fired);
  }
}
