// Download progress from provisioning log lines: wget's `--show-progress` bar, tqdm-style bars
// (`hf download` on a terminal), provision.sh's log-contract lines and the scripts' `Downloading …`
// announcements. `DownloadProgress` folds them into file, bytes, %, rate, ETA, stalls and resumes.
import {parseContractLine} from './log-contract.js';

/** wget 1.21 bar after CR/LF splitting (sim-data/boot/README.md §5), name field not fixed-width. */
export const WGET_BAR = /^(\S.*?) +(\d{1,3})%\[([+= >]*)\] +(\d+(?:\.\d+)?)([KMGT]?) +(--\.-KB\/s|(\d+(?:\.\d+)?)([KMGT]?)B\/s)(?: +(eta|in) (.+?))? *$/;
/** tqdm with unit="B", unit_scale=True: `name:  43%|████▎     | 2.81G/6.46G [01:23<01:48, 33.6MB/s]`. */
export const TQDM_BAR = /^(.+?): +(\d{1,3})%\|[^|]*\| *(\d+(?:\.\d+)?)([kMGTP]?)B?\/(\d+(?:\.\d+)?)([kMGTP]?)B? \[[\d:]+<([\d:]+|\?), *(?:(\d+(?:\.\d+)?)([kMGTP]?)B\/s|\?B\/s)/;
/** default.sh: `Downloading 2 model(s) to /workspace/ComfyUI/models/checkpoints...`. */
export const DOWNLOAD_BATCH = /^Downloading (\d+) model\(s\) to (.+?)\.\.\.$/;

/** A transfer whose bar has not been redrawn for this long is stalled. */
export const STALL_NOTICE_MS = 30_000;

export interface TransferProgress {
  /** The name the tool shows (wget may shorten long names). */
  file: string;
  pct: number;
  bytesDone: number;
  bytesTotal?: number;
  rateBytesPerSec?: number;
  etaSec?: number;
  /** wget's last redraw of a transfer (`in 2m 24s`), at 100 % or cut short; tqdm at 100 %. */
  ended: boolean;
  /** wget draws the bytes already on disk as `+` after a range request. */
  resumed: boolean;
}

export interface DownloadSnapshot {
  file: string;
  pct: number;
  bytesDone: number;
  bytesTotal?: number;
  rateBytesPerSec?: number;
  etaSec?: number;
  stalled: boolean;
  resumed: boolean;
  filesDone: number;
  filesTotal?: number;
}

const BINARY: Record<string, number> = {'': 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40};
const DECIMAL: Record<string, number> = {'': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15};
const DURATION_UNITS: Record<string, number> = {d: 86_400, h: 3600, m: 60, s: 1};

/** wget sizes and rates are binary: `812.52M`, `1004M`, `6.46G`, `46.6MB/s` (MiB/s). */
function bytes(value: string | undefined, unit: string | undefined, scale: Record<string, number>): number | undefined {
  if (value === undefined) return undefined;
  return Math.round(Number(value) * (scale[unit ?? ''] ?? 1));
}

/** wget `2m 19s`, `1h 5m`, `9.6s`; tqdm `01:48`, `1:02:03`. */
export function parseDurationSec(text: string): number | undefined {
  if (/^\d+(?::\d\d)+$/.test(text)) return text.split(':').reduce((sum, part) => sum * 60 + Number(part), 0);
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)([dhms])/g)];
  if (parts.length === 0) return undefined;
  return parts.reduce((sum, [, value, unit]) => sum + Number(value) * (DURATION_UNITS[unit!] ?? 0), 0);
}

export function parseTransfer(text: string): TransferProgress | undefined {
  const wget = WGET_BAR.exec(text);
  if (wget) {
    const [, file, pct, bar, done, doneUnit, , rate, rateUnit, etaKind, eta] = wget;
    const bytesDone = bytes(done, doneUnit, BINARY)!;
    const ended = etaKind === 'in';
    const progress: TransferProgress = {file: file!.trim(), pct: Number(pct), bytesDone, ended, resumed: bar!.includes('+')};
    if (ended && progress.pct === 100) Object.assign(progress, {bytesTotal: bytesDone, etaSec: 0});
    else if (etaKind === 'eta') progress.etaSec = parseDurationSec(eta!);
    const rateBytesPerSec = bytes(rate, rateUnit, BINARY);
    return rateBytesPerSec === undefined ? progress : {...progress, rateBytesPerSec};
  }
  const tqdm = TQDM_BAR.exec(text);
  if (!tqdm) return parseContractTransfer(text);
  const [, file, pct, done, doneUnit, total, totalUnit, eta, rate, rateUnit] = tqdm;
  const progress: TransferProgress = {
    file: file!.trim(),
    pct: Number(pct),
    bytesDone: bytes(done, doneUnit, DECIMAL)!,
    bytesTotal: bytes(total, totalUnit, DECIMAL)!,
    ended: Number(pct) === 100,
    resumed: false,
  };
  const etaSec = eta === '?' ? undefined : parseDurationSec(eta!);
  const rateBytesPerSec = bytes(rate, rateUnit, DECIMAL);
  return {...progress, ...(etaSec === undefined ? {} : {etaSec}), ...(rateBytesPerSec === undefined ? {} : {rateBytesPerSec})};
}

/** provision.sh's `[vastdeck] download file=… bytes=… total=… pct=… rate=…` and `download done` lines. */
function parseContractTransfer(text: string): TransferProgress | undefined {
  const event = parseContractLine(text);
  if (event?.kind === 'download-done') {
    const bytesDone = Number(event.values.bytes);
    return {file: event.values.file!, pct: 100, bytesDone, bytesTotal: bytesDone, etaSec: 0, ended: true, resumed: false};
  }
  if (event?.kind !== 'download-progress') return undefined;
  const {file, bytes, total, pct, rate} = event.values;
  const bytesDone = Number(bytes);
  const bytesTotal = Number(total) > 0 ? Number(total) : undefined;
  const rateBytesPerSec = Number(rate);
  const progress: TransferProgress = {file: file!, pct: Math.min(Number(pct), 100), bytesDone, ended: false, resumed: false, rateBytesPerSec};
  if (bytesTotal !== undefined) progress.bytesTotal = bytesTotal;
  if (bytesTotal !== undefined && rateBytesPerSec > 0) progress.etaSec = Math.max(0, Math.round((bytesTotal - bytesDone) / rateBytesPerSec));
  return progress;
}

interface Transfer extends TransferProgress {
  /** When the last bar of this transfer was accepted. */
  lastBarAtMs: number;
  /** When bytesDone last grew (or the transfer began). */
  lastGrowthAtMs: number;
  /** The tool has shown a real rate during this transfer, so `--.-KB/s` now means no data. */
  rateSeen: boolean;
  stalled: boolean;
}

const baseName = (label: string): string => label.replace(/[?#].*$/, '').split('/').filter(Boolean).pop() ?? label;
const isComplete = (transfer: TransferProgress): boolean => transfer.ended && transfer.pct === 100;

/**
 * One instance's model downloads, fed in log order. Lines may come twice (the portal log and its
 * clean copy in onstart.log) or late; repeats and stale copies are ignored.
 */
export class DownloadProgress {
  #transfer: Transfer | undefined;
  /** A file announced after the last transfer finished, before its first bar. */
  #next: string | undefined;
  /** A wget `Downloading: <url>` with no bar yet (wget -q prints nothing when it fails). */
  #silent: string | undefined;
  readonly #announced = new Set<string>();
  readonly #batches = new Map<string, number>();
  readonly #done = new Set<string>();
  /** The most bytes seen per file (a resumed transfer does not count twice). */
  readonly #bytes = new Map<string, number>();
  #lastActivityAtMs: number | undefined;

  /** Bytes downloaded so far over every file (what the instance's bandwidth bill counts). */
  get downloadedBytes(): number {
    let total = 0;
    for (const bytes of this.#bytes.values()) total += bytes;
    return total;
  }

  /** True while bytes are expected: a bar was drawn and its file is not complete. */
  get transferring(): boolean {
    return this.#transfer !== undefined && !isComplete(this.#transfer);
  }

  get lastGrowthAtMs(): number | undefined {
    return this.#transfer?.lastGrowthAtMs;
  }

  get lastActivityAtMs(): number | undefined {
    return this.#lastActivityAtMs;
  }

  /** `Downloading N model(s) to <dir>...`: adds to the files expected. */
  announceBatch(dir: string, files: number, atMs: number): string | undefined {
    this.#batches.set(dir, Math.max(files, this.#batches.get(dir) ?? 0));
    this.#lastActivityAtMs = atMs;
    return this.settle();
  }

  /** A file announced by URL or path; `expectBar` for wget, which draws a bar unless it fails. */
  announceFile(label: string, atMs: number, expectBar: boolean): string | undefined {
    if (this.#announced.has(label)) return undefined;
    const warning = this.settle();
    this.#announced.add(label);
    if (!this.transferring) this.#next = baseName(label);
    if (expectBar) this.#silent = label;
    this.#lastActivityAtMs = atMs;
    return warning;
  }

  /** A download that completed without a bar (the provisioner's `Successfully downloaded:`). */
  finishFile(label: string, atMs: number): void {
    this.#done.add(baseName(label));
    this.#lastActivityAtMs = atMs;
  }

  /** The next download starts, or all are over: warns about a wget that never drew a bar. */
  settle(): string | undefined {
    const silent = this.#silent;
    this.#silent = undefined;
    if (silent === undefined) return undefined;
    return `No download progress was shown for ${silent}: wget -q prints nothing when the server refuses (e.g. HTTP 401 without HF_TOKEN or CIVITAI_TOKEN) or when the file already exists; check the file on the instance.`;
  }

  /** Returns a warning when the connection dropped mid-file. */
  update(progress: TransferProgress, atMs: number): string | undefined {
    const current = this.#transfer;
    if (this.#done.has(progress.file)) return undefined;
    const same = current?.file === progress.file ? current : undefined;
    if (same?.ended && (progress.ended || (!progress.resumed && progress.pct !== 0))) return undefined;
    if (same && !same.ended && progress.bytesDone < same.bytesDone) return undefined;
    const continued = same !== undefined && !same.ended ? same : undefined;
    const transfer: Transfer = {
      ...progress,
      lastBarAtMs: atMs,
      lastGrowthAtMs: continued && progress.bytesDone === continued.bytesDone ? continued.lastGrowthAtMs : atMs,
      rateSeen: (continued?.rateSeen ?? false) || progress.rateBytesPerSec !== undefined,
      stalled: false,
    };
    transfer.stalled = isStalled(transfer, atMs);
    this.#transfer = transfer;
    this.#bytes.set(progress.file, Math.max(this.#bytes.get(progress.file) ?? 0, isComplete(progress) && progress.bytesTotal !== undefined ? progress.bytesTotal : progress.bytesDone));
    this.#next = undefined;
    this.#silent = undefined;
    this.#lastActivityAtMs = atMs;
    if (isComplete(progress)) this.#done.add(progress.file);
    else if (progress.ended) return `The download of ${progress.file} was cut off at ${progress.pct} %; wget retries with a range request.`;
    return undefined;
  }

  /** Re-evaluates `stalled` at `nowMs` (no bar may arrive during a stall); true when it changed. */
  refresh(nowMs: number): boolean {
    const transfer = this.#transfer;
    if (!transfer) return false;
    const stalled = isStalled(transfer, nowMs);
    if (stalled === transfer.stalled) return false;
    this.#transfer = {...transfer, stalled};
    return true;
  }

  snapshot(): DownloadSnapshot | undefined {
    const filesTotal = this.#batches.size > 0 ? [...this.#batches.values()].reduce((sum, n) => sum + n, 0) : undefined;
    const counts = {filesDone: this.#done.size, ...(filesTotal === undefined ? {} : {filesTotal})};
    if (this.#next !== undefined) return {file: this.#next, pct: 0, bytesDone: 0, stalled: false, resumed: false, ...counts};
    const transfer = this.#transfer;
    if (!transfer) return undefined;
    const {file, pct, bytesDone, bytesTotal, rateBytesPerSec, etaSec, stalled, resumed} = transfer;
    return {
      file, pct, bytesDone, stalled, resumed, ...counts,
      ...(bytesTotal === undefined ? {} : {bytesTotal}),
      ...(rateBytesPerSec === undefined ? {} : {rateBytesPerSec}),
      ...(etaSec === undefined ? {} : {etaSec}),
    };
  }
}

/**
 * Stalled: wget says no data is arriving (`--.-KB/s` after it had shown a rate), or the tool has
 * stopped drawing (tqdm only redraws when data comes). Bytes alone are too coarse to judge
 * (`6.46G` moves in 10 MiB steps), so a slow link that still shows a rate is not stalled.
 */
function isStalled(transfer: Transfer, nowMs: number): boolean {
  if (isComplete(transfer)) return false;
  const noData = transfer.rateSeen && transfer.rateBytesPerSec === undefined && transfer.bytesDone > 0;
  return noData || nowMs - transfer.lastBarAtMs >= STALL_NOTICE_MS;
}
