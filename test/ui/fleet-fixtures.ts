// A FleetController over plain values for the UI tests: rows, creates and the SSH key are set by
// the test; each instance's log is a real LogRingBuffer behind the same batched Model the core
// uses, and every call the dashboard makes (create, saveLog, createSshKey, destroy,
// pendingOutputs) is recorded.
import type {FleetController, FleetSnapshot, InstanceRow, LogView} from '../../source/core/deck-types.js';
import type {Stage, StageState} from '../../source/core/instances/stages.js';
import {Model} from '../../source/core/model.js';
import type {RankedOffer} from '../../source/core/offers/types.js';
import type {LogLine} from '../../source/core/ssh/line-splitter.js';
import {LogRingBuffer, type LogEntry} from '../../source/core/ssh/ring-buffer.js';

export const PROVISIONING_LOG = '/var/log/portal/provisioning.log';
export const COMFYUI_LOG = '/var/log/portal/comfyui.log';

export class TestLog extends Model<{endSeq: number; lines: number}> implements LogView {
  readonly ring: LogRingBuffer;
  /** The largest `count` any slice() asked for: windowing keeps it near the screen height. */
  largestSlice = 0;

  constructor(capacity = 10_000) {
    super({endSeq: 0, lines: 0});
    this.ring = new LogRingBuffer(capacity);
  }

  push(text: string, file = PROVISIONING_LOG, extra: Partial<LogLine> = {}): void {
    this.ring.push({file, text, redraw: false, partial: false, ...extra});
    this.update({endSeq: this.ring.endSeq, lines: this.ring.size});
  }

  /** `count` lines 'line 1' … 'line N' (or `text(n)`), alternating provisioning and comfyui. */
  pushMany(count: number, text: (n: number) => string = n => `line ${n}`): void {
    const start = this.ring.endSeq;
    for (let n = start + 1; n <= start + count; n++) this.ring.push({file: n % 2 === 0 ? COMFYUI_LOG : PROVISIONING_LOG, text: text(n), redraw: false, partial: false});
    this.update({endSeq: this.ring.endSeq, lines: this.ring.size});
  }

  slice = (fromSeq: number, count: number): LogEntry[] => {
    this.largestSlice = Math.max(this.largestSlice, count);
    return this.ring.slice(fromSeq, count);
  };

  firstSeq = (): number => this.ring.firstSeq;
  endSeq = (): number => this.ring.endSeq;
}

export class TestFleet extends Model<FleetSnapshot> implements FleetController {
  readonly logsByKey = new Map<string, TestLog>();
  readonly secrets = new Map<string, {token: string; comfyui?: string; instancePortal?: string}>();
  readonly created: RankedOffer[][] = [];
  readonly saved: string[] = [];
  keysCreated = 0;
  /** When set, saveLog rejects with it. */
  saveError?: Error;
  readonly destroyed: Array<{key: string; options?: {force?: boolean}}> = [];
  readonly pendingAsked: string[] = [];
  /** What pendingOutputs answers. */
  pending: {files: number; note?: string} = {files: 0};
  /** When set, pendingOutputs waits for it before answering (to see "checking…"). */
  pendingGate?: Promise<void>;

  constructor(initial: Partial<FleetSnapshot> = {}) {
    super({rows: [], otherInstalls: [], reconciled: true, creating: [], sshKey: {ok: true, description: '~/.ssh/id_ed25519'}, ...initial});
  }

  set(patch: Partial<FleetSnapshot>): void {
    this.update(previous => ({...previous, ...patch}));
  }

  /** Adds rows (and an empty log for each, unless it has one). */
  addRows(...rows: InstanceRow[]): void {
    for (const row of rows) if (!this.logsByKey.has(row.key)) this.logsByKey.set(row.key, new TestLog());
    this.set({rows: [...this.getSnapshot().rows, ...rows]});
  }

  replaceRow(row: InstanceRow): void {
    this.set({rows: this.getSnapshot().rows.map(current => (current.key === row.key ? row : current))});
  }

  log(key: string): TestLog {
    const log = this.logsByKey.get(key);
    if (!log) throw new Error(`no test log for ${key}`);
    return log;
  }

  create = async (candidates: readonly RankedOffer[]): Promise<void> => {
    this.created.push([...candidates]);
  };

  logs = (key: string): LogView | undefined => this.logsByKey.get(key);

  portalSecret = (key: string) => this.secrets.get(key);

  readonly opened: string[] = [];

  openPortal = async (key: string): Promise<string> => {
    this.opened.push(key);
    return `Opening the portal of ${key}.`;
  };

  saveLog = async (key: string): Promise<string> => {
    this.saved.push(key);
    if (this.saveError) throw this.saveError;
    return `/home/user/vastdeck-logs/${key}.log`;
  };

  destroy = async (key: string, options?: {force?: boolean}): Promise<void> => {
    this.destroyed.push(options === undefined ? {key} : {key, options});
  };

  pendingOutputs = async (key: string): Promise<{files: number; note?: string}> => {
    this.pendingAsked.push(key);
    await this.pendingGate;
    return this.pending;
  };

  createSshKey = async (): Promise<void> => {
    this.keysCreated++;
    this.set({sshKey: {ok: true, description: '~/.ssh/vastdeck_ed25519'}});
  };
}

const ORDER: readonly Stage[] = ['INITIALIZING', 'PROVISIONING', 'DOWNLOADING', 'STARTING_APP', 'READY'];
const OFFSETS_MS = [0, 8_000, 21_000, 95_000, 110_000];
export const EVIDENCE: Record<Stage, string> = {
  INITIALIZING: 'Instance created; waiting for Vast to start the container',
  PROVISIONING: 'Provisioner starting (version 1)',
  DOWNLOADING: 'Downloading 2 model(s) to /workspace/ComfyUI/models/checkpoints...',
  STARTING_APP: 'Provisioning complete',
  READY: 'ComfyUI answered GET /system_stats through the portal (HTTP 200)',
  FAILED: 'ERROR: HTTP 401 Unauthorized while downloading sd_xl_base_1.0.safetensors',
};

/** A stage state that went through the stages up to `stage` (FAILED fails during PROVISIONING). */
export function makeStage(stage: Stage, startMs: number, extra: Partial<StageState> = {}): StageState {
  const passed = stage === 'FAILED' ? ['INITIALIZING', 'PROVISIONING', 'FAILED'] as Stage[] : ORDER.slice(0, ORDER.indexOf(stage) + 1);
  const timeline = passed.map((name, index) => ({stage: name, atMs: startMs + (name === 'FAILED' ? 40_000 : OFFSETS_MS[index]!), evidence: EVIDENCE[name]}));
  const last = timeline.at(-1)!;
  return {
    stage,
    sinceMs: last.atMs,
    evidence: last.evidence,
    warnings: [],
    timeline,
    appListening: stage === 'READY',
    provisioningFailed: stage === 'FAILED',
    ...(stage === 'FAILED'
      ? {failure: {reason: 'A model download was refused (HTTP 401)', evidence: EVIDENCE.FAILED, suggestion: 'Set HF_TOKEN, destroy this instance and create a new one.'}}
      : {}),
    ...extra,
  };
}

export function makeInstanceRow(key: string, stage: Stage, overrides: Partial<InstanceRow> = {}): InstanceRow {
  const createdAtMs = Date.now() - 120_000;
  return {
    key,
    instanceId: 26_000_000 + key.length * 1000 + key.charCodeAt(0),
    label: `vastdeck:${key}`,
    gpuName: 'RTX 4090',
    numGpus: 1,
    dphTotal: 0.4,
    ledgerState: 'active',
    actualStatus: stage === 'INITIALIZING' ? 'loading' : 'running',
    statusMsg: null,
    stage: makeStage(stage, createdAtMs),
    createdAtMs,
    runningSinceMs: createdAtMs + 6_000,
    accruedUsd: 0.0123,
    log: {state: 'streaming', lines: 0, endSeq: 0},
    portal: {},
    ...overrides,
  };
}
