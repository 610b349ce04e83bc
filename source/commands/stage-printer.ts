// Prints an instance's boot for `vastdeck up` and `vastdeck watch`: a stage timeline as text, or
// one JSON event per line with --json (for scripts). The portal token is never printed.
import {formatDuration} from '../core/format.js';
import type {StageState} from '../core/instances/stages.js';

export type PrintedEvent =
  | {event: 'trying' | 'offer-taken' | 'created' | 'key-attach-failed' | 'warning'; message: string; offerId?: number; instanceId?: number}
  | {event: 'stage'; stage: string; atMs: number; evidence: string}
  | {event: 'progress'; file: string; pct: number; bytesDone: number; bytesTotal?: number; rateBytesPerSec?: number; etaSec?: number; stalled: boolean}
  | {event: 'ready'; instanceId: number; comfyui?: string; instancePortal?: string; secondsToReady: number}
  | {event: 'failed'; instanceId: number; reason: string; evidence: string; suggestion: string};

export class StagePrinter {
  constructor(
    private readonly out: NodeJS.WritableStream,
    private readonly json: boolean,
    private readonly createdAtMs: number,
  ) {}

  emit(event: PrintedEvent): void {
    if (this.json) {
      this.out.write(`${JSON.stringify(event)}\n`);
      return;
    }
    this.out.write(`${this.#text(event)}\n`);
  }

  stage(state: StageState): void {
    const last = state.timeline.at(-1);
    this.emit({event: 'stage', stage: state.stage, atMs: last?.atMs ?? state.sinceMs, evidence: last?.evidence ?? state.evidence});
  }

  progress(state: StageState): void {
    const download = state.download;
    if (!download) return;
    this.emit({
      event: 'progress',
      file: download.file,
      pct: download.pct,
      bytesDone: download.bytesDone,
      bytesTotal: download.bytesTotal,
      rateBytesPerSec: download.rateBytesPerSec,
      etaSec: download.etaSec,
      stalled: download.stalled,
    });
  }

  #text(event: PrintedEvent): string {
    switch (event.event) {
      case 'stage':
        return `  +${formatDuration(Math.max(0, event.atMs - this.createdAtMs) / 1000).padEnd(7)} ${event.stage.padEnd(13)} ${event.evidence}`;
      case 'progress': {
        const rate = event.rateBytesPerSec ? ` ${(event.rateBytesPerSec / 1_048_576).toFixed(1)} MiB/s` : '';
        const eta = event.etaSec !== undefined ? ` eta ${formatDuration(event.etaSec)}` : '';
        return `                        ${event.file} ${event.pct.toFixed(0)}%${rate}${eta}${event.stalled ? ' (stalled)' : ''}`;
      }
      case 'ready':
        return `Instance ${event.instanceId} is READY after ${formatDuration(event.secondsToReady)}: ComfyUI at ${event.comfyui ?? '?'} (token: \`vastdeck\` dashboard, p on the instance).`;
      case 'failed':
        return `Instance ${event.instanceId} FAILED: ${event.reason}\n  evidence: ${event.evidence}\n  what to do: ${event.suggestion}`;
      default:
        return event.message;
    }
  }
}
