// execution.py's PromptQueue for the simulated ComfyUI: pending items picked by lowest `number`
// (then prompt_id), the running item, and the history written when a job is done (at most 10 000
// entries, oldest evicted), with GET /queue and /history views. Used by comfy-server.ts.
import type {ExecutionOutcome} from './executor.js';

export interface QueueItem {
  number: number;
  promptId: string;
  prompt: Record<string, unknown>;
  extraData: Record<string, unknown>;
  outputs: string[];
}

export interface HistoryEntry {
  prompt: unknown[];
  outputs: ExecutionOutcome['outputs'];
  status: {status_str: 'success' | 'error'; completed: boolean; messages: ExecutionOutcome['messages']};
  meta: ExecutionOutcome['meta'];
}

const MAXIMUM_HISTORY_SIZE = 10_000;

/** The 5-element tuple clients see: [number, prompt_id, prompt, extra_data, outputs_to_execute]. */
function tuple(item: QueueItem): unknown[] {
  return [item.number, item.promptId, item.prompt, item.extraData, item.outputs];
}

export class PromptQueue {
  running: QueueItem | undefined;
  private pending: QueueItem[] = [];
  private readonly history = new Map<string, HistoryEntry>();

  /** @param changed queue_updated(): called on every change of the queue (a status broadcast). */
  constructor(private readonly changed: () => void) {}

  remaining(): number {
    return this.pending.length + (this.running ? 1 : 0);
  }

  put(item: QueueItem): void {
    this.pending.push(item);
    this.changed();
  }

  /** get(): the pending item with the lowest (number, prompt_id) becomes the running one. */
  take(): QueueItem | undefined {
    if (this.pending.length === 0) return undefined;
    let best = 0;
    this.pending.forEach((item, index) => {
      const current = this.pending[best] as QueueItem;
      if (item.number < current.number || (item.number === current.number && item.promptId < current.promptId)) best = index;
    });
    const [item] = this.pending.splice(best, 1);
    this.running = item;
    this.changed();
    return item;
  }

  /** task_done(): the running item leaves and its history entry is written. */
  done(item: QueueItem, outcome: ExecutionOutcome): void {
    this.running = undefined;
    if (this.history.size > MAXIMUM_HISTORY_SIZE) this.history.delete(this.history.keys().next().value as string);
    this.history.delete(item.promptId);
    this.history.set(item.promptId, {
      prompt: tuple(item),
      outputs: outcome.outputs,
      status: {status_str: outcome.success ? 'success' : 'error', completed: outcome.success, messages: outcome.messages},
      meta: outcome.meta,
    });
    this.changed();
  }

  view(): {queue_running: unknown[]; queue_pending: unknown[]} {
    return {queue_running: this.running ? [tuple(this.running)] : [], queue_pending: this.pending.map(tuple)};
  }

  /** POST /queue {delete}: each pending id found is removed (a running job is untouched). */
  deletePending(ids: unknown[]): void {
    for (const id of ids) {
      const index = this.pending.findIndex((item) => item.promptId === id);
      if (index < 0) continue;
      this.pending.splice(index, 1);
      this.changed();
    }
  }

  clearPending(): void {
    this.pending = [];
    this.changed();
  }

  /** Restart: queue and history are memory only. */
  wipe(): void {
    this.pending = [];
    this.running = undefined;
    this.history.clear();
  }

  entry(promptId: string): Record<string, HistoryEntry> {
    const entry = this.history.get(promptId);
    return entry ? {[promptId]: entry} : {};
  }

  /** get_history(max_items, offset): max_items alone → the most recent N; oldest first. */
  window(maxItems: number | undefined, offset: number | undefined): Record<string, HistoryEntry> {
    let skip = offset ?? -1;
    if (skip < 0 && maxItems !== undefined) skip = this.history.size - maxItems;
    const out: Record<string, HistoryEntry> = {};
    let index = 0;
    let taken = 0;
    for (const [id, entry] of this.history) {
      if (index++ < skip) continue;
      out[id] = entry;
      if (maxItems !== undefined && ++taken >= maxItems) break;
    }
    return out;
  }

  deleteHistory(ids: unknown[]): void {
    for (const id of ids) if (typeof id === 'string') this.history.delete(id);
  }

  clearHistory(): void {
    this.history.clear();
  }
}
