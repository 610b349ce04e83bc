// How the Instances pane and the log view write an instance's facts: its name, its stage, download
// sizes (binary, as the download tools print them), rates (Mbps, like the offers' bandwidth) and
// times left (on the wall clock), and whether it is still booting. Pure, so the table cells and
// the detail header read the same.
import type {InstanceRow} from '../../core/deck-types.js';
import {formatDuration, formatMbps} from '../../core/format.js';
import type {DownloadSnapshot} from '../../core/instances/progress.js';

const UNITS = ['B', 'KB', 'MB', 'GB', 'TB'] as const;

/** Sizes as the download tools print them (binary units): 812 KB, 33.6 MB, 6.46 GB. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '—';
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  const digits = unit === 0 || value >= 100 ? 0 : value >= 10 ? 1 : 2;
  return `${value.toFixed(digits)} ${UNITS[unit]}`;
}

/** '26001234', or the label while Vast has not answered the create yet. */
export function instanceName(row: InstanceRow): string {
  return row.instanceId === undefined ? row.label : String(row.instanceId);
}

export function gpuText(row: InstanceRow): string {
  return `${row.gpuName} ×${row.numGpus}`;
}

/** Gone from the account or never created: shown dim, no spinner, no cost ticking. */
export function isGone(row: InstanceRow): boolean {
  return row.ledgerState === 'destroyed' || row.ledgerState === 'gone' || row.ledgerState === 'create-failed';
}

/** Still on its way to READY (a spinner shows it). */
export function isBooting(row: InstanceRow): boolean {
  return !isGone(row) && row.stage.stage !== 'READY' && row.stage.stage !== 'FAILED';
}

/** Stopped on Vast: no GPU charge, but its disk still bills until it is destroyed. */
export function isStoppedBilling(row: InstanceRow): boolean {
  return !isGone(row) && row.actualStatus === 'stopped';
}

export const STOPPED_BILLING = 'stopped · still billing storage';

/**
 * Its autostop (docs/autostop.md): 'autostop 30m idle' while vastdeck's heartbeat reaches it, the
 * countdown once it does not ('autostop in 27m'); undefined for an instance without a watchdog.
 */
export function autostopText(row: InstanceRow, nowMs: number): string | undefined {
  const autostop = row.autostop;
  if (!autostop || isGone(row)) return undefined;
  const {idleMinutes, maxHours, action} = autostop.config;
  const max = maxHours > 0 ? ` · max ${maxHours}h` : '';
  const verb = action === 'stop' ? 'autostop (stop)' : 'autostop';
  if (autostop.deadlineAtMs === undefined) return `${verb} ${idleMinutes}m idle${max}`;
  const left = (autostop.deadlineAtMs - nowMs) / 1000;
  return left > 0 ? `${verb} in ${Math.ceil(left / 60)}m unless a job runs${max}` : `${verb} due: no heartbeat for ${idleMinutes}m`;
}

/** The fleet reports cleanup steps by their ids; the Stage cell says them in a word or two. */
const CLEANUP_STEP_WORDS: Readonly<Record<string, string>> = {
  'extract-outputs': 'extracting',
  'extract-logs': 'saving logs',
  verify: 'verifying',
  destroy: 'destroying',
  'confirm-gone': 'confirming',
  failed: 'not gone',
};

export function cleanupStepText(step: string): string {
  return CLEANUP_STEP_WORDS[step] ?? step;
}

/** Being destroyed right now (a failed cleanup has stopped and may be started again). */
export function isCleaningUp(row: InstanceRow): boolean {
  return row.cleanup !== undefined && !row.cleanup.failed;
}

export function uptimeText(row: InstanceRow, nowMs: number): string {
  return row.runningSinceMs === undefined ? '—' : formatDuration(Math.max(0, nowMs - row.runningSinceMs) / 1000);
}

/** A download rate on the wall clock in Mbps, the unit the offers' bandwidth is in. */
export function rateText(bytesPerSec: number, clockSpeed = 1): string {
  return formatMbps((bytesPerSec * clockSpeed * 8) / 1e6);
}

/** A time left that the cloud's own clock reported, on the wall clock. */
function etaText(etaSec: number, clockSpeed: number): string {
  return formatDuration(etaSec / clockSpeed);
}

/** 'stalled' / 'resumed' marks after a download's figures. */
export function downloadMarks(download: DownloadSnapshot): string {
  return [download.stalled ? 'stalled' : '', download.resumed ? 'resumed' : ''].filter(Boolean).join(' ');
}

/** The download's figures, shortest last: the table tries them until the bar still has room. */
export function downloadFigures(download: DownloadSnapshot, clockSpeed = 1): string[] {
  const pct = `${download.pct}%`;
  const rate = download.rateBytesPerSec === undefined ? undefined : rateText(download.rateBytesPerSec, clockSpeed).replace(' ', '');
  const eta = download.etaSec === undefined ? undefined : etaText(download.etaSec, clockSpeed);
  return [[pct, rate, eta], [pct, eta], [pct]].map(parts => parts.filter(Boolean).join(' '));
}

/** One line for the detail header: the figures first (they matter most on a narrow screen), then the file. */
export function downloadSentence(download: DownloadSnapshot, clockSpeed = 1): string {
  const count = download.filesTotal === undefined ? '' : ` (file ${Math.min(download.filesTotal, download.filesDone + 1)} of ${download.filesTotal})`;
  const bytes = download.bytesTotal === undefined ? formatBytes(download.bytesDone) : `${formatBytes(download.bytesDone)} of ${formatBytes(download.bytesTotal)}`;
  const parts = [
    `${download.pct}%`,
    bytes,
    download.rateBytesPerSec === undefined ? '' : rateText(download.rateBytesPerSec, clockSpeed),
    download.etaSec === undefined ? '' : `ETA ${etaText(download.etaSec, clockSpeed)}`,
  ].filter(Boolean);
  return `${parts.join(' · ')} · ${download.file}${count}`;
}

/** A log line's leading date and level ('2026-09-14 10:02:12 [INFO] '): noise next to a stage's time offset. */
const LINE_STAMP = /^\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:[.,]\d+)?\s*(?:\[\w+\]\s*)?/;

export function withoutStamp(evidence: string): string {
  return evidence.replace(LINE_STAMP, '');
}

/** What the progress cell says when there is no download bar to draw. */
export function progressText(row: InstanceRow): string {
  if (row.cleanup) return row.cleanup.message;
  if (row.ledgerState === 'creating' && row.instanceId === undefined) return 'renting…';
  if (isGone(row)) return row.note ?? row.ledgerState;
  if (isStoppedBilling(row)) return 'still billing storage · d destroys it';
  const {stage} = row;
  if (stage.stage === 'FAILED') return stage.failure?.reason ?? stage.evidence;
  if (stage.stage === 'READY') return 'ComfyUI answers';
  if (stage.stage === 'INITIALIZING' && row.actualStatus !== 'running') return `Vast ${row.actualStatus ?? 'has no status yet'}${row.statusMsg ? `: ${row.statusMsg}` : ''}`;
  return withoutStamp(stage.evidence);
}

/** What an empty log view says, by the state of the log connection. */
export function emptyLogSentence(row: InstanceRow): string {
  const {state, error} = row.log;
  const why = error ? ` (${error})` : '';
  switch (state) {
    case 'waiting':
      return 'No log lines yet: vastdeck connects over SSH once Vast runs the container.';
    case 'connecting':
      return 'No log lines yet: connecting over SSH…';
    case 'streaming':
      return 'No log lines yet: connected, waiting for the first line.';
    case 'reconnecting':
      return `No log lines yet: reconnecting over SSH${why}…`;
    case 'stopped':
      return `The log stream is stopped${why}.`;
    case 'failed':
      return `The log stream failed${why}.`;
  }
}
