// How the Queue pane and the job detail write a job's facts: its short id, its state, its progress
// ("KSampler 12/20"), how long it ran, the queue's counts and the auto-destroy policy line. Pure,
// so the table cells and the detail read the same.
import type {Job, PoliciesSnapshot} from '../../core/deck-types.js';
import type {PromptProgress} from '../../core/comfy/types.js';
import {formatDuration} from '../../core/format.js';
import {usd} from '../shared/money.js';

/** The random tail of the id (the head is the date, the same for a day's jobs). */
export function shortJobId(job: Job): string {
  return job.id.slice(-6);
}

/** The job's output files, each once (a file reported twice is still one file). */
export function uniqueOutputs(job: Job): string[] {
  return [...new Set(job.outputs)];
}

/** Working on an instance right now: a spinner shows it. */
export function isInFlight(job: Job): boolean {
  return job.state === 'uploading' || job.state === 'running' || job.state === 'downloading';
}

export function isFinished(job: Job): boolean {
  return job.state === 'done' || job.state === 'cancelled';
}

/** Seconds it has run (until now, or until it finished); undefined before it started. */
export function elapsedSec(job: Job, nowMs: number): number | undefined {
  if (job.startedAtMs === undefined) return undefined;
  return Math.max(0, (job.finishedAtMs ?? nowMs) - job.startedAtMs) / 1000;
}

export function elapsedText(job: Job, nowMs: number): string {
  const seconds = elapsedSec(job, nowMs);
  return seconds === undefined ? '—' : formatDuration(seconds);
}

/** How far along: the sampler's steps when a node reports them, else the nodes finished. */
export function progressFraction(progress: PromptProgress): number {
  if (progress.value !== undefined && progress.max) return progress.value / progress.max;
  return progress.nodesTotal > 0 ? progress.nodesDone / progress.nodesTotal : 0;
}

/** 'KSampler 12/20', or the node and the nodes done ('VAE Decode · node 6/7'). */
export function progressLabel(progress: PromptProgress): string {
  const node = progress.nodeTitle ?? (progress.nodeId ? `node ${progress.nodeId}` : 'starting');
  if (progress.value !== undefined && progress.max) return `${node} ${progress.value}/${progress.max}`;
  return `${node} · node ${progress.nodesDone}/${progress.nodesTotal}`;
}

/** What the progress cell says when there is no bar to draw. */
export function jobStatusText(job: Job, readyInstances: number): string {
  switch (job.state) {
    case 'queued':
      return readyInstances === 0 ? 'waiting for a READY instance' : job.attempts > 0 ? 'waiting for another instance' : 'waiting for a free instance';
    case 'uploading':
      return 'uploading the input image';
    case 'running':
      return 'sent to ComfyUI, waiting for it to start';
    case 'downloading':
      return 'bringing the outputs home';
    case 'done': {
      const files = uniqueOutputs(job).length;
      return `${files} ${files === 1 ? 'file' : 'files'}${job.outputDir ? ` in ${job.outputDir}` : ''}`;
    }
    case 'failed':
    case 'cancelled':
      return job.error ?? job.state;
  }
}

export interface JobCounts {
  queued: number;
  running: number;
  done: number;
  failed: number;
  cancelled: number;
}

export function jobCounts(jobs: readonly Job[]): JobCounts {
  const counts: JobCounts = {queued: 0, running: 0, done: 0, failed: 0, cancelled: 0};
  for (const job of jobs) {
    if (isInFlight(job)) counts.running++;
    else counts[job.state as keyof JobCounts]++;
  }
  return counts;
}

/** 'auto-destroy: drained on · idle 15 min · cap $5.00 (spent $1.23)'. */
export function policyText(policies: PoliciesSnapshot): string {
  const idle = policies.idleMinutes > 0 ? `idle ${policies.idleMinutes} min` : 'idle off';
  const cap = policies.spendCapUsd > 0 ? `cap ${usd(policies.spendCapUsd)}` : 'no cap';
  return `auto-destroy: drained ${policies.destroyWhenDrained ? 'on' : 'off'} · ${idle} · ${cap} (spent ${usd(policies.spentUsd)})`;
}
