// One instance watched from create to READY or FAILED: feeds its StageTracker from Vast's status
// (the fleet-wide list call, passed in by the owner), from the SSH log stream, and from an
// authenticated probe of ComfyUI. While it follows the logs of an instance that has an autostop
// watchdog it also sends the heartbeat over that connection (ssh/heartbeat.ts, docs/autostop.md).
// Used by FleetModel (dashboard) and by `vastdeck up` / `watch`.
import type {LogConnectionState} from '../deck-types.js';
import type {AutostopConfig} from '../provisioning/autostop.js';
import {Heartbeat} from '../ssh/heartbeat.js';
import type {KnownHosts} from '../ssh/known-hosts.js';
import {hostPinKey} from '../ssh/known-hosts.js';
import type {SshIdentity} from '../ssh/keys.js';
import {LogStream} from '../ssh/log-stream.js';
import {portalUrls, sshEndpoint} from './endpoints.js';
import {probeComfy, type ProbeFunction} from './probe.js';
import {StageTracker, type StageState, type StageTimeout} from './stages.js';
import type {Instance, LedgerInstance} from './types.js';

export interface InstanceWatchOptions {
  entry: LedgerInstance;
  apiOrigin: string;
  identity?: SshIdentity;
  knownHosts: KnownHosts;
  probe?: ProbeFunction;
  /** Called (often) whenever anything visible changed; owners batch their own notifications. */
  onChange: () => void;
  logCapacity?: number;
  timeoutsMs?: Partial<Record<StageTimeout, number>>;
  now?: () => number;
  /** Between autostop heartbeats (60 s live; shorter against a fast simulator). */
  heartbeatMs?: number | (() => number);
  /** Cloud seconds per local second (usecases/pace.ts), for autostop's deadline on this machine's clock. */
  cloudSpeed?: () => number;
}

/** What the dashboard shows of an instance's autostop. */
export interface AutostopView {
  config: AutostopConfig;
  /** This machine's clock at the last heartbeat the instance confirmed. */
  lastBeatAtMs?: number;
  /** The log connection is up, so heartbeats are arriving. */
  beating: boolean;
  /** When not beating: this machine's time at which the instance acts unless a ComfyUI job keeps it busy. */
  deadlineAtMs?: number;
}

/** Probe cadence: fast once ComfyUI says it listens, slow while the boot is still under way. */
const PROBE_LISTENING_MS = 500;
const PROBE_RUNNING_MS = 5000;
const PROBE_FIRST_MS = 1000;

export class InstanceWatch {
  readonly key: string;
  readonly tracker: StageTracker;
  readonly logs: LogStream;
  /** Tells the instance's autostop watchdog that vastdeck is here (only for instances that have one). */
  readonly heartbeat: Heartbeat;
  entry: LedgerInstance;
  instance: Instance | undefined;
  runningSinceMs: number | undefined;
  readonly #options: InstanceWatchOptions;
  readonly #now: () => number;
  #probeTimer: NodeJS.Timeout | undefined;
  #probing = false;
  #stopped = false;
  #unsubscribeLogs: () => void;

  constructor(options: InstanceWatchOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.entry = options.entry;
    this.key = options.entry.localId;
    this.tracker = new StageTracker({createdAtMs: options.entry.createdAtMs, timeoutsMs: options.timeoutsMs});
    this.logs = new LogStream({
      endpoint: () => (this.instance ? sshEndpoint(this.instance) : undefined),
      identity: {privateKey: options.identity?.privateKey, agentSocket: options.identity?.agentSocket, path: options.identity?.path},
      pinKey: hostPinKey(options.apiOrigin, options.entry.instanceId ?? 0),
      knownHosts: options.knownHosts,
      capacity: options.logCapacity,
      onLine: (line, atMs) => {
        if (line.notice) return;
        this.tracker.feedLine(line.file ?? '', line.text, atMs);
        this.#afterEvidence();
      },
    });
    this.heartbeat = new Heartbeat({client: () => this.logs.connectedClient(), intervalMs: options.heartbeatMs, now: this.#now, onBeat: () => options.onChange()});
    let streaming = false;
    this.#unsubscribeLogs = this.logs.subscribe(() => {
      const logs = this.logs.getSnapshot();
      // A new connection beats at once: the watchdog hears of vastdeck as soon as it can.
      if (logs.state === 'streaming' && !streaming && this.instance?.autostop && !this.#stopped) void this.heartbeat.beat();
      streaming = logs.state === 'streaming';
      if (logs.state === 'failed' && !this.#stopped) this.tracker.feedLogAccess(logs.error ?? 'the SSH log stream failed', this.#now());
      options.onChange();
    });
  }

  get stage(): StageState {
    return this.tracker.snapshot();
  }

  /** The portal token: our per-instance WEB_PASSWORD, else the platform's jupyter_token. */
  token(): string | undefined {
    return this.entry.webPassword ?? this.instance?.jupyterToken ?? undefined;
  }

  /** Feed the latest entry from the fleet-wide instance list (undefined: not on the account). */
  feedInstance(instance: Instance | undefined, atMs = this.#now()): void {
    if (this.#stopped) return;
    this.instance = instance ?? this.instance;
    if (!instance) return;
    this.tracker.feedStatus({actualStatus: instance.actualStatus, intendedStatus: instance.intendedStatus ?? undefined, statusMsg: instance.statusMsg, atMs});
    if (instance.actualStatus === 'running') {
      this.runningSinceMs ??= atMs;
      if (!this.#options.identity) this.tracker.feedLogAccess('no SSH key was found to log in with', atMs);
      if (this.#options.identity && sshEndpoint(instance) && this.logs.getSnapshot().state === 'stopped' && !this.#stopped) this.logs.start();
      if (instance.autostop && !this.#stopped) this.heartbeat.start();
      this.#scheduleProbe(PROBE_FIRST_MS);
    }
    this.#afterEvidence();
  }

  /** Check the per-stage timeouts; the owner calls this on its own tick. */
  tick(nowMs = this.#now()): void {
    this.tracker.checkTimeouts(nowMs);
    this.#afterEvidence();
  }

  /** The instance's autostop as configured at create, and whether vastdeck's heartbeat reaches it; undefined without a watchdog. */
  autostop(): AutostopView | undefined {
    const config = this.instance?.autostop;
    if (!config) return undefined;
    const {lastBeatAtMs} = this.heartbeat.state;
    const beating = this.logs.getSnapshot().state === 'streaming' && lastBeatAtMs !== undefined;
    const deadlineAtMs = !beating && lastBeatAtMs !== undefined ? lastBeatAtMs + (config.idleMinutes * 60_000) / (this.#options.cloudSpeed?.() ?? 1) : undefined;
    return {config, ...(lastBeatAtMs === undefined ? {} : {lastBeatAtMs}), beating, ...(deadlineAtMs === undefined ? {} : {deadlineAtMs})};
  }

  logState(): {state: LogConnectionState; error?: string; lines: number; endSeq: number} {
    const snapshot = this.logs.getSnapshot();
    const waiting = snapshot.state === 'stopped' && snapshot.endSeq === 0 && !this.#stopped;
    return {state: waiting ? 'waiting' : snapshot.state, error: snapshot.error, lines: snapshot.lines, endSeq: snapshot.endSeq};
  }

  portal(): {comfyui?: string; instancePortal?: string} {
    return this.instance ? portalUrls(this.instance) : {};
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#probeTimer) clearTimeout(this.#probeTimer);
    this.heartbeat.stop();
    // Outputs that came home are put on the instance's list before the connection goes.
    if (this.heartbeat.state.pending > 0 && this.logs.connectedClient()) await this.heartbeat.flush();
    this.#unsubscribeLogs();
    await this.logs.stop();
  }

  #afterEvidence(): void {
    const stage = this.tracker.snapshot();
    if (stage.appListening && stage.stage !== 'READY' && stage.stage !== 'FAILED') this.#scheduleProbe(0);
    this.#options.onChange();
  }

  #scheduleProbe(delayMs: number): void {
    if (this.#stopped || this.#probing) return;
    const stage = this.tracker.snapshot().stage;
    if (stage === 'READY' || stage === 'FAILED') return;
    if (this.#probeTimer) {
      if (delayMs > 0) return;
      clearTimeout(this.#probeTimer);
    }
    this.#probeTimer = setTimeout(() => void this.#probe(), delayMs);
    this.#probeTimer.unref();
  }

  async #probe(): Promise<void> {
    this.#probeTimer = undefined;
    const url = this.portal().comfyui;
    const token = this.token();
    if (!url || !token || this.#stopped) return;
    this.#probing = true;
    try {
      const result = await (this.#options.probe ?? probeComfy)(url, token);
      this.tracker.feedProbe({ok: result.ok, status: result.status, atMs: this.#now()});
    } finally {
      this.#probing = false;
    }
    this.#options.onChange();
    const stage = this.tracker.snapshot();
    this.#scheduleProbe(stage.appListening ? PROBE_LISTENING_MS : PROBE_RUNNING_MS);
  }
}
