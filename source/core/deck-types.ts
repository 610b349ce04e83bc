// What the dashboard (source/ui) sees of the service layer. The UI reads these models through
// useSyncExternalStore and calls their actions; it never touches got, ssh2, ws or fs.
import type {AutostopView} from './instances/instance-watch.js';
import type {StageState} from './instances/stages.js';
import type {LedgerState} from './instances/types.js';
import type {OffersSnapshot, RankedOffer, SortKey} from './offers/types.js';
import type {LogEntry} from './ssh/ring-buffer.js';
import type {JobField, JobSpec, WorkflowInfo} from './comfy/types.js';
import type {Job} from './queue/job-store.js';
import type {MoneySnapshot} from './money/money-model.js';

export interface ModelView<T> {
  subscribe(listener: () => void): () => void;
  getSnapshot(): T;
}

export interface OffersController extends ModelView<OffersSnapshot> {
  /** Apply a filter expression; returns one user-facing sentence if it is invalid (nothing changes then). */
  setFilter(text: string): string | undefined;
  /** Move to the next sort key and return it. */
  cycleSort(): SortKey;
  setSort(key: SortKey): void;
  /** Refresh now instead of waiting for the interval. */
  refreshNow(): void;
}

export interface AccountSnapshot {
  /** Credit balance in $ when known. */
  balanceUsd?: number;
  email?: string;
  error?: string;
}

export type MessageLevel = 'info' | 'warn' | 'error';

export interface Message {
  text: string;
  level: MessageLevel;
  atMs: number;
}

export interface MessageSnapshot {
  /** Latest message for the status line; undefined when there is none. */
  current?: Message;
  /** Every message of the session, oldest first (bounded). */
  history: readonly Message[];
}

export interface DeckView {
  mode: 'demo' | 'live';
  /**
   * How much faster than the wall clock the cloud's own clock runs: 10 for the demo's simulated
   * cloud (boots, tool-reported ETAs and rates), 1 live. The dashboard shows times on the wall clock.
   */
  clockSpeed?: number;
  /** One line saying where we are connected, e.g. "simulated Vast.ai cloud on 127.0.0.1:40123". */
  modeDetail: string;
  offers: OffersController;
  fleet: FleetController;
  queue: QueueController;
  policies: PoliciesController;
  onstart: OnStartController;
  account: ModelView<AccountSnapshot>;
  /** Burn $/h, this session's spend against its cap, all-time spend, balance and how long it lasts. */
  money: ModelView<MoneySnapshot>;
  messages: ModelView<MessageSnapshot>;
  notify(text: string, level?: MessageLevel): void;
}

// ── Instances (the fleet) ─────────────────────────────────────────────────────────────────────

export type LogConnectionState = 'waiting' | 'connecting' | 'streaming' | 'reconnecting' | 'stopped' | 'failed';

export interface InstanceRow {
  /** Stable key: the ledger's local id. */
  key: string;
  instanceId?: number;
  label: string;
  gpuName: string;
  numGpus: number;
  /** $/h while running. */
  dphTotal: number;
  ledgerState: LedgerState;
  actualStatus: string | null;
  statusMsg: string | null;
  stage: StageState;
  createdAtMs: number;
  /** When Vast first reported the container running. */
  runningSinceMs?: number;
  /** $ spent so far as Vast bills it (storage since create, GPU while running, downloads; core/money/billing.ts). */
  accruedUsd: number;
  log: {state: LogConnectionState; error?: string; lines: number; endSeq: number};
  /** Its autostop watchdog (docs/autostop.md) and whether vastdeck's heartbeat reaches it; absent without one. */
  autostop?: AutostopView;
  /** URLs without any token (the token is shown only on request, see portalSecret). */
  portal: {comfyui?: string; instancePortal?: string};
  /** e.g. 'found on the account, not created by this vastdeck' */
  note?: string;
  /** The cleanup in progress (extract → verify → destroy → confirm), one line for the table. */
  cleanup?: {step: string; message: string; failed?: boolean};
}

/** A vastdeck instance of another install on the same account: listed (it bills the account), never touched. */
export interface OtherInstance {
  instanceId: number;
  label: string;
  gpuName: string;
  numGpus: number;
  dphTotal: number;
  actualStatus: string | null;
}

export interface FleetSnapshot {
  rows: readonly InstanceRow[];
  /** Other installs' vastdeck instances on this account (D and the policies leave them alone). */
  otherInstalls: readonly OtherInstance[];
  /** True once the first instance list was compared with the local ledger. */
  reconciled: boolean;
  /** Creates in flight, one line each ("renting RTX 4090 offer 20001234…"). */
  creating: readonly string[];
  error?: string;
  lastPollAtMs?: number;
  /** 'ok' when an SSH key was found; otherwise the sentence saying where we looked and how to make one. */
  sshKey: {ok: true; description: string} | {ok: false; message: string};
}

/** A live log the UI renders windowed; subscribe for (batched) changes. */
export interface LogView extends ModelView<{endSeq: number; lines: number}> {
  slice(fromSeq: number, count: number): LogEntry[];
  firstSeq(): number;
  endSeq(): number;
}

export interface FleetController extends ModelView<FleetSnapshot> {
  /** Rent the first offer that is still available, falling through the rest; resolves when created (not ready). */
  create(candidates: readonly RankedOffer[]): Promise<void>;
  logs(key: string): LogView | undefined;
  /** The portal token and URLs, shown only when the user asks. */
  portalSecret(key: string): {token: string; comfyui?: string; instancePortal?: string} | undefined;
  /**
   * Opens the instance's ComfyUI in the desktop's browser (the URL only: the token never goes in a
   * URL; the portal asks for it, user `vastai`). Returns one sentence for the message line.
   */
  openPortal(key: string): Promise<string>;
  /** Writes the buffered log to a file and returns its path. */
  saveLog(key: string): Promise<string>;
  /** Creates ~/.ssh/vastdeck_ed25519 when the user has no key. */
  createSshKey(): Promise<void>;
  /**
   * Brings outputs and logs home, verifies them, then destroys the instance and confirms it is gone.
   * `force` skips the extraction. Progress shows in the row's `cleanup`; the outcome in messages.
   */
  destroy(key: string, options?: {force?: boolean}): Promise<void>;
  /** What destroying now would leave behind, for the confirm dialog (remote output files not yet home). */
  pendingOutputs(key: string): Promise<{files: number; note?: string}>;
}

// ── Auto-destroy policies ─────────────────────────────────────────────────────────────────────

export interface PoliciesSnapshot {
  /** Destroy instances when the queue has drained (no queued or running job). */
  destroyWhenDrained: boolean;
  /** Destroy an instance idle (READY, no job) this many minutes; 0 = off. */
  idleMinutes: number;
  /** Destroy everything so that the session's spend stays within this many $; 0 = off. */
  spendCapUsd: number;
  /** $ this session has spent so far (core/money/sessions.ts: what it rented, destroyed ones included). */
  spentUsd: number;
  /** A pending automatic destroy, shown with its countdown; cancel it with the policy key. */
  countdown?: {reason: string; instanceKeys: readonly string[]; endsAtMs: number};
}

export interface PoliciesController extends ModelView<PoliciesSnapshot> {
  /** Stops the pending countdown; that trigger stays quiet until its condition clears and returns. */
  cancelCountdown(): void;
  toggleDestroyWhenDrained(): void;
}

// ── Generations (the queue) ───────────────────────────────────────────────────────────────────

export type {Job};

export interface QueueSnapshot {
  jobs: readonly Job[];
  /** READY instances the queue can use right now. */
  readyInstances: number;
}

export interface QueueController extends ModelView<QueueSnapshot> {
  /** Checks and queues the job (`count` copies with successive seeds); returns an error sentence, or undefined when queued. */
  add(spec: JobSpec, options?: {count?: number}): Promise<string | undefined>;
  cancel(id: string): void;
  retry(id: string): void;
  /** Drops done and cancelled jobs from the list (their outputs stay on disk). */
  clearFinished(): void;
  /** The workflows the add dialog offers (shipped and the user's own), broken ones with their problem. */
  workflows(): Promise<WorkflowInfo[]>;
  /** The fields a workflow binds with their defaults (to prefill the add dialog), or an error sentence. */
  workflowFields(name: string): Promise<{fields: Partial<Record<JobField, {default?: string | number; min?: number; max?: number}>>} | {error: string}>;
  /** Completions for a partly typed image path (files and folders). */
  completePath(partial: string): Promise<string[]>;
  /** Opens a job's output folder with the desktop's opener when there is one; returns the folder. */
  openOutputs(id: string): Promise<string>;
}

// ── The OnStart method (the job rides in the instance and runs at boot) ──────────────────────

/** A job whose input image the instance fetches from a URL at boot. */
export interface OnStartJobSpec extends Omit<JobSpec, 'imagePath'> {
  /** http(s) URL the instance can reach. */
  imageUrl: string;
}

export interface OnStartController {
  /**
   * Checks the job locally, then rents the first candidate still available (falling through the rest)
   * with the job in its variables, waits for the done marker over SSH and collects the outputs, all in
   * the background (progress and outcome in messages). Returns an error sentence, or undefined once started.
   */
  start(spec: OnStartJobSpec, candidates: readonly RankedOffer[]): Promise<string | undefined>;
}
