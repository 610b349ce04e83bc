// The stage machine of one instance's boot: INITIALIZING → PROVISIONING → DOWNLOADING → STARTING_APP
// → READY, or FAILED with the line that proves it and what to do. Pure: the instance monitor feeds
// it Vast's status, log lines (rows in log-patterns.ts) and HTTP probe results, each with its time.
import {formatDuration} from '../format.js';
import {type Evidence, matchLogLine, matchStatusMessage} from './log-patterns.js';
import {DownloadProgress, type DownloadSnapshot, parseTransfer} from './progress.js';

export type Stage = 'INITIALIZING' | 'PROVISIONING' | 'DOWNLOADING' | 'STARTING_APP' | 'READY' | 'FAILED';
export type StageTimeout = 'INITIALIZING' | 'PROVISIONING' | 'DOWNLOADING_STALL' | 'STARTING_APP';

export const DEFAULT_STAGE_TIMEOUTS_MS: Readonly<Record<StageTimeout, number>> = {
  INITIALIZING: 20 * 60_000, // until Vast runs the container, image pull included
  PROVISIONING: 30 * 60_000, // nodes and packages; also the limit for any stretch without evidence
  DOWNLOADING_STALL: 5 * 60_000, // a transfer without a single new byte
  STARTING_APP: 5 * 60_000, // from provisioning done to a successful probe
};

/** How long a successful probe waits for the logs to say how provisioning ended (files arrive out of order). */
export const OUTCOME_GRACE_MS = 30_000;
const MAX_WARNINGS = 20;
const MAX_EVIDENCE_CHARS = 300;
const ORDER: readonly Stage[] = ['INITIALIZING', 'PROVISIONING', 'DOWNLOADING', 'STARTING_APP', 'READY'];

export interface StageFailure {
  reason: string;
  evidence: string;
  suggestion: string;
}

export interface StageState {
  stage: Stage;
  sinceMs: number;
  /** The line or fact that proved the current stage. */
  evidence: string;
  download?: DownloadSnapshot;
  failure?: StageFailure;
  warnings: string[];
  timeline: Array<{stage: Stage; atMs: number; evidence: string}>;
  /** ComfyUI said it listens (or answered a probe): the moment to probe. */
  appListening: boolean;
  provisioningFailed: boolean;
}

export interface InstanceStatus {
  actualStatus: string | null;
  intendedStatus?: string;
  statusMsg?: string | null;
  atMs: number;
}

export interface ProbeResult {
  ok: boolean;
  status?: number;
  atMs: number;
}

interface Cause {
  reason: string;
  suggestion?: string;
}

const PROVISIONING_HELP = 'Read /var/log/portal/provisioning.log around the first error, fix the provisioning script or its env (tokens, URLs), then destroy this instance (it bills until destroyed) and create a new one.';
const NEVER_BACK = 'Destroy it (its disk bills until then) and pick another offer.';
/** actual_status values that end a boot: the poll trap (exited, unknown, offline) and an unwanted stop. */
const STATUS_FAILURES: Readonly<Record<string, Omit<StageFailure, 'evidence'>>> = {
  exited: {reason: 'The container exited; an instance in this state never comes back', suggestion: NEVER_BACK},
  unknown: {reason: 'Vast lost contact with the host; an instance in this state never comes back', suggestion: NEVER_BACK},
  offline: {reason: 'The host went offline; an instance in this state never comes back', suggestion: NEVER_BACK},
  stopped: {reason: 'The instance was stopped while it should be running (an interruptible instance stops when outbid)', suggestion: 'A stopped instance still bills for storage: start it again, or destroy it.'},
};

const clip = (text: string): string => (text.length > MAX_EVIDENCE_CHARS ? `${text.slice(0, MAX_EVIDENCE_CHARS - 1)}…` : text);
const minutes = (ms: number): string => formatDuration(ms / 1000);

export class StageTracker {
  readonly #timeoutsMs: Readonly<Record<StageTimeout, number>>;
  #timeline: StageState['timeline'];
  #failure: StageFailure | undefined;
  #warnings: string[] = [];
  #appListening = false;
  #provisioningFailed = false;
  /** The logs showed provisioning run, so READY waits for them to say how it ended. */
  #provisioningSeen = false;
  #provisioned = false;
  /** The line of the last failed step, until a retry or success follows. */
  #pendingFailure: string | undefined;
  /** The first error of the current provisioning attempt, or a later one we know how to fix. */
  #cause: Cause | undefined;
  /** INITIALIZING evidence strength: 0 created, 1 a Vast status, 2 a boot line. */
  #initRank = 0;
  #status = 'no status from Vast yet';
  #runningAtMs: number | undefined;
  #probeOkAtMs: number | undefined;
  /** Any instance log line arrived: the logs can say how provisioning went. */
  #linesSeen = false;
  /** Why the logs cannot be read (no key, key refused, host key changed): no provisioning evidence will come. */
  #logProblem: string | undefined;
  #lastEvidence = 'none yet';
  readonly #download = new DownloadProgress();
  #snapshot: StageState | undefined;

  constructor(options: {createdAtMs: number; timeoutsMs?: Partial<Record<StageTimeout, number>>}) {
    this.#timeoutsMs = {...DEFAULT_STAGE_TIMEOUTS_MS, ...options.timeoutsMs};
    this.#timeline = [{stage: 'INITIALIZING', atMs: options.createdAtMs, evidence: 'Instance created; waiting for Vast to start the container'}];
  }

  get #current(): StageState['timeline'][number] {
    return this.#timeline[this.#timeline.length - 1]!;
  }

  feedStatus(status: InstanceStatus): void {
    const {actualStatus, intendedStatus, atMs} = status;
    const message = status.statusMsg?.trim() ?? '';
    if (this.#current.stage === 'FAILED') return;
    const fact = `Vast reports actual_status ${actualStatus ?? 'null'}${message ? `: ${message}` : ''}`;
    this.#status = fact;
    const known = actualStatus !== 'running' && message ? matchStatusMessage(message) : undefined;
    const unwanted = actualStatus !== null && !(actualStatus === 'stopped' && intendedStatus === 'stopped');
    const failure = known ? {reason: known.reason!, suggestion: known.suggestion!} : unwanted ? STATUS_FAILURES[actualStatus] : undefined;
    if (failure) return this.#fail(atMs, {...failure, evidence: fact});
    if (actualStatus === 'running') this.#runningAtMs ??= atMs;
    if (actualStatus === null || actualStatus === 'created' || actualStatus === 'loading' || actualStatus === 'running') this.#noteInitializing(fact, 1);
  }

  feedLine(file: string, text: string, atMs: number): void {
    this.#linesSeen = true;
    const evidence = matchLogLine(file, text);
    if (!evidence) return;
    const line = clip(text.trim());
    this.#lastEvidence = line;
    if (evidence.effect === 'app-listening') this.#setAppListening();
    if (this.#current.stage !== 'FAILED') this.#apply(evidence, line, text, atMs);
  }

  /**
   * Whether the instance's logs can be read: `problem` is one sentence when they cannot (and will
   * not without the user's help). READY needs provisioning evidence, so a ComfyUI that answers while
   * the logs are out of reach ends FAILED with that reason instead of a READY nobody can vouch for.
   */
  feedLogAccess(problem: string | undefined, atMs: number): void {
    this.#logProblem = problem;
    if (problem && this.#probeOkAtMs !== undefined && !this.#provisioned) this.#failUnverified(atMs);
  }

  /** The instance is no longer on the account: the boot cannot end any other way. */
  feedGone(atMs: number): void {
    this.#fail(atMs, {reason: 'The instance is no longer on the account (destroyed, or removed by Vast)', evidence: this.#status, suggestion: 'Nothing of it bills any more; rent another one.'});
  }

  feedProbe(result: ProbeResult): void {
    const {ok, status, atMs} = result;
    if (!ok) {
      if (status === 401 || status === 403) this.#warn(`The portal refused the ComfyUI probe (HTTP ${status}): the portal token (WEB_PASSWORD / OPEN_BUTTON_TOKEN) does not match.`);
      return;
    }
    this.#setAppListening();
    const stage = this.#current.stage;
    if (stage === 'FAILED' || stage === 'READY') return;
    const fact = `ComfyUI answered GET /system_stats through the portal (HTTP ${status ?? 200})`;
    this.#lastEvidence = fact;
    if (this.#pendingFailure) return this.#failProvisioning(atMs, this.#pendingFailure, 'Provisioning failed and ComfyUI started anyway');
    if (this.#provisioned) return this.#advance('READY', atMs, fact);
    this.#probeOkAtMs ??= atMs;
    if (this.#logProblem) return this.#failUnverified(atMs);
    // Without a single log line nothing proves provisioning ran, let alone succeeded: wait for the logs.
    if (this.#provisioningSeen || !this.#linesSeen) return this.#advance('STARTING_APP', atMs, fact);
    this.#advance('READY', atMs, fact);
  }

  checkTimeouts(nowMs: number): void {
    const {stage} = this.#current;
    if (stage === 'FAILED' || stage === 'READY') return;
    if (this.#download.refresh(nowMs)) this.#changed();
    if (this.#probeOkAtMs !== undefined && this.#linesSeen && nowMs - this.#probeOkAtMs >= OUTCOME_GRACE_MS) {
      this.#warn('ComfyUI answers, but the provisioning log never said how provisioning ended: models or nodes may be missing.');
      return this.#advance('READY', nowMs, `ComfyUI answered /system_stats ${minutes(nowMs - this.#probeOkAtMs)} ago`);
    }
    const clock = this.#clock();
    const elapsedMs = nowMs - clock.fromMs;
    if (elapsedMs < clock.limitMs) return;
    this.#fail(nowMs, {reason: `${stage} timed out after ${minutes(elapsedMs)}: ${clock.reason}`, evidence: `Last evidence: ${this.#lastEvidence}`, suggestion: clock.suggestion});
  }

  /** Bytes the provisioning downloads have moved so far, from the transfer lines. */
  get downloadedBytes(): number {
    return this.#download.downloadedBytes;
  }

  snapshot(): StageState {
    if (this.#snapshot) return this.#snapshot;
    const {stage, atMs, evidence} = this.#current;
    const download = this.#download.snapshot();
    this.#snapshot = {
      stage, sinceMs: atMs, evidence,
      ...(download ? {download} : {}),
      ...(this.#failure ? {failure: this.#failure} : {}),
      warnings: [...this.#warnings],
      timeline: this.#timeline.map(entry => ({...entry})),
      appListening: this.#appListening,
      provisioningFailed: this.#provisioningFailed,
    };
    return this.#snapshot;
  }

  #apply(evidence: Evidence, line: string, text: string, atMs: number): void {
    const [first = '', second = ''] = evidence.groups;
    switch (evidence.effect) {
      case 'boot':
        return this.#noteInitializing(line, 2);
      case 'attempt-start':
        this.#pendingFailure = undefined;
        this.#cause = undefined;
        return this.#provisioning(atMs, line);
      case 'provisioning':
        return this.#provisioning(atMs, line);
      case 'download-batch':
        return this.#downloading(atMs, line, this.#download.announceBatch(second, Number(first), atMs));
      case 'download-url':
      case 'download-file':
        return this.#downloading(atMs, line, this.#download.announceFile(first, atMs, evidence.effect === 'download-url'));
      case 'download-done':
        this.#download.finishFile(first, atMs);
        return this.#changed();
      case 'transfer':
        return this.#downloading(atMs, line, this.#download.update(parseTransfer(text.trim())!, atMs));
      case 'provisioned':
        this.#provisioningSeen = this.#provisioned = true;
        this.#pendingFailure = this.#cause = undefined;
        this.#warn(this.#download.settle());
        this.#advance('STARTING_APP', atMs, line);
        if (this.#probeOkAtMs !== undefined) this.#advance('READY', atMs, `${line} (ComfyUI already answered /system_stats)`);
        return;
      case 'app-starting':
      case 'app-listening':
        if (this.#pendingFailure) return this.#failProvisioning(atMs, this.#pendingFailure, 'Provisioning failed and ComfyUI started anyway');
        return this.#advance('STARTING_APP', atMs, line);
      case 'cause':
      case 'step-failed':
        this.#noteCause({reason: evidence.reason!, ...(evidence.suggestion ? {suggestion: evidence.suggestion} : {})});
        if (evidence.effect === 'step-failed') this.#pendingFailure = line;
        return;
      case 'attempt-failed':
        return this.#warn(`${evidence.reason!}${this.#cause ? ` (${this.#cause.reason})` : ''}`);
      case 'provisioning-failed':
        return this.#failProvisioning(atMs, line, evidence.reason!);
      case 'warning':
        return this.#warn(evidence.reason);
      case 'fatal':
        return this.#fail(atMs, {reason: evidence.reason!, evidence: line, suggestion: evidence.suggestion!});
    }
  }

  /** The clock of the current stage: since when it runs, its limit, and what to say when it runs out. */
  #clock(): {fromMs: number; limitMs: number; reason: string; suggestion: string} {
    const {stage, atMs} = this.#current;
    const limits = this.#timeoutsMs;
    const download = this.#download;
    if (stage === 'INITIALIZING' && this.#runningAtMs === undefined) {
      return {fromMs: atMs, limitMs: limits.INITIALIZING, reason: `Vast has not started the container (${this.#status})`, suggestion: 'The host may be slow to pull the image: destroy it and pick another offer, ideally one with faster internet.'};
    }
    if (stage === 'DOWNLOADING' && download.transferring) {
      const {file, pct} = download.snapshot()!;
      return {fromMs: download.lastGrowthAtMs!, limitMs: limits.DOWNLOADING_STALL, reason: `no new bytes of ${file} arrived (stuck at ${pct} %)`, suggestion: "The host's connection is too slow or broken: destroy it and pick an offer with faster internet."};
    }
    if (stage === 'STARTING_APP' && this.#probeOkAtMs !== undefined && !this.#linesSeen) {
      return {fromMs: this.#probeOkAtMs, limitMs: limits.STARTING_APP, reason: 'ComfyUI answers, but no line of the instance logs arrived over SSH, so nothing confirms that provisioning succeeded', suggestion: 'Check that SSH reaches the instance (your key on the Vast account, `vastdeck ssh-forget ID` after a changed host key) and watch it again; destroy it if you do not need it (it bills until then).'};
    }
    if (stage === 'STARTING_APP') {
      return this.#appListening
        ? {fromMs: atMs, limitMs: limits.STARTING_APP, reason: 'ComfyUI says it listens, but /system_stats does not answer through the portal', suggestion: 'Check the portal token and that port 8188 is mapped; open the Instance Portal to see if ComfyUI answers there, else destroy the instance and retry.'}
        : {fromMs: atMs, limitMs: limits.STARTING_APP, reason: `ComfyUI did not start${this.#cause ? ` (last error: ${this.#cause.reason})` : ''}`, suggestion: 'Read /var/log/portal/comfyui.log for the error (a custom node failing to import, out of memory, a CUDA mismatch); destroy the instance and fix the template or script.'};
    }
    // A running container still INITIALIZING (no log yet), PROVISIONING, or DOWNLOADING between files.
    return stage === 'INITIALIZING'
      ? {fromMs: this.#runningAtMs!, limitMs: limits.PROVISIONING, reason: 'the container runs, but neither its logs nor ComfyUI show progress', suggestion: 'Check that SSH reaches the instance (your key in the Vast account) and that the portal token is right; else destroy it and pick another offer.'}
      : {fromMs: Math.max(atMs, download.lastActivityAtMs ?? atMs), limitMs: limits.PROVISIONING, reason: 'provisioning has not moved on', suggestion: PROVISIONING_HELP};
  }

  #provisioning(atMs: number, line: string): void {
    this.#provisioningSeen = true;
    this.#advance('PROVISIONING', atMs, line);
  }

  #downloading(atMs: number, line: string, warning: string | undefined): void {
    this.#provisioningSeen = true;
    this.#warn(warning);
    this.#advance('DOWNLOADING', atMs, line);
    this.#changed();
  }

  #noteInitializing(evidence: string, rank: number): void {
    const current = this.#current;
    if (current.stage !== 'INITIALIZING' || current.evidence === evidence || rank < this.#initRank || (rank === 2 && this.#initRank === 2)) return;
    this.#initRank = rank;
    this.#timeline = [{...current, evidence}];
    this.#changed();
  }

  #noteCause(cause: Cause): void {
    if (!this.#cause || (cause.suggestion && !this.#cause.suggestion)) this.#cause = cause;
  }

  #failUnverified(atMs: number): void {
    this.#fail(atMs, {
      reason: `ComfyUI answers, but vastdeck cannot read the instance's logs (${(this.#logProblem ?? '').replace(/[.\s]+$/, '')}), so nothing confirms that provisioning succeeded`,
      evidence: `Last evidence: ${this.#lastEvidence}`,
      suggestion: 'Fix SSH access as that sentence says and run `vastdeck watch ID` again, or use the instance at your own risk; destroy it if you do not need it (it bills until then).',
    });
  }

  #failProvisioning(atMs: number, evidence: string, reason: string): void {
    const cause = this.#cause;
    this.#provisioningFailed = true;
    this.#fail(atMs, {reason: cause ? `${reason} (${cause.reason})` : reason, evidence, suggestion: cause?.suggestion ?? PROVISIONING_HELP});
  }

  #advance(stage: Stage, atMs: number, evidence: string): void {
    const current = this.#current.stage;
    if (current === 'FAILED' || ORDER.indexOf(stage) <= ORDER.indexOf(current)) return;
    this.#timeline = [...this.#timeline, {stage, atMs, evidence}];
    this.#changed();
  }

  #fail(atMs: number, failure: StageFailure): void {
    if (this.#current.stage === 'FAILED') return;
    this.#failure = failure;
    this.#timeline = [...this.#timeline, {stage: 'FAILED', atMs, evidence: failure.evidence}];
    this.#changed();
  }

  #setAppListening(): void {
    if (this.#appListening) return;
    this.#appListening = true;
    this.#changed();
  }

  #warn(warning: string | undefined): void {
    if (warning === undefined || this.#warnings.includes(warning)) return;
    this.#warnings = [...this.#warnings, warning].slice(-MAX_WARNINGS);
    this.#changed();
  }

  #changed(): void {
    this.#snapshot = undefined;
  }
}
