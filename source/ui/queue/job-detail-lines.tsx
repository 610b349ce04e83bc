// The rows of a job's detail view, one element per screen row, most important first: where it
// stands (state, instance, attempt, progress bar), its error, its settings and seed, its timings,
// every node of the workflow with its state, and the output files brought home.
import {Text} from 'ink';
import {Spinner} from '../shared/Spinner.js';
import type {ReactElement} from 'react';
import type {Job} from '../../core/deck-types.js';
import {formatDuration} from '../../core/format.js';
import {ProgressBar} from '../shared/ProgressBar.js';
import {truncate, wrapWords} from '../shared/text-fit.js';
import type {Theme, Tone} from '../shared/theme.js';
import {elapsedSec, isInFlight, progressFraction, progressLabel, uniqueOutputs} from './job-format.js';

const LABEL_WIDTH = 10;
const BAR_CELLS = 20;
const NODE_MARKS = {pending: '·', done: '✓', cached: '↺'} as const;

function stateTone(theme: Theme, job: Job): Tone {
  if (job.state === 'failed') return theme.bad;
  if (job.state === 'done') return theme.good;
  if (job.state === 'cancelled') return theme.muted;
  return theme.accent;
}

/** `label` then `text` wrapped under it, at most `max` rows. */
function labelled(label: string, text: string, width: number, max: number): string[] {
  const head = label.padEnd(LABEL_WIDTH);
  const lines = wrapWords(text, Math.max(1, width - LABEL_WIDTH));
  const kept = lines.slice(0, max).map((line, index) => (index === 0 ? head : ' '.repeat(LABEL_WIDTH)) + line);
  if (lines.length > max && kept.length > 0) kept[kept.length - 1] = truncate(`${kept[kept.length - 1]!}…`, width);
  return kept.length > 0 ? kept : [head];
}

function clock(ms: number): string {
  return new Date(ms).toTimeString().slice(0, 8);
}

/** 'steps 20 · cfg 6.5 · 1024×1024', from what the job set (the rest comes from the manifest). */
function settingsText(job: Job): string {
  const {steps, cfg, denoise, width, height, frames} = job.spec;
  const parts = [
    steps === undefined ? '' : `steps ${steps}`,
    cfg === undefined ? '' : `cfg ${cfg}`,
    denoise === undefined ? '' : `denoise ${denoise}`,
    width === undefined && height === undefined ? '' : `${width ?? 'default'}×${height ?? 'default'}`,
    frames === undefined ? '' : `${frames} frames`,
  ].filter(Boolean);
  return parts.length === 0 ? "the workflow's defaults" : `${parts.join(' · ')} (anything else: the workflow's defaults)`;
}

function timingsText(job: Job, nowMs: number): string {
  const parts = [`created ${clock(job.createdAtMs)}`];
  if (job.startedAtMs !== undefined) parts.push(`waited ${formatDuration((job.startedAtMs - job.createdAtMs) / 1000)}`, `ran ${formatDuration(elapsedSec(job, nowMs) ?? 0)}`);
  if (job.finishedAtMs !== undefined) parts.push(`finished ${clock(job.finishedAtMs)}`);
  return parts.join(' · ');
}

export function jobDetailLines(job: Job, nowMs: number, width: number, theme: Theme): ReactElement[] {
  const lines: ReactElement[] = [];
  const text = (key: string, content: string, tone: Tone = {}) => lines.push(<Text key={key} wrap="truncate" {...tone}>{content}</Text>);
  const heading = (key: string, content: string) => lines.push(<Text key={key} wrap="truncate" bold>{content}</Text>);

  const ran = elapsedSec(job, nowMs);
  const where = job.instanceId === undefined ? '' : ` · instance ${job.instanceId}`;
  const attempt = job.attempts > 0 ? ` · attempt ${job.attempts}` : '';
  lines.push(
    <Text key="now" wrap="truncate">
      {isInFlight(job) ? (
        <Text {...theme.accent}>
          <Spinner />{' '}
        </Text>
      ) : null}
      <Text {...stateTone(theme, job)} bold>{job.state.toUpperCase()}</Text>
      <Text>{`${ran === undefined ? '' : `${job.finishedAtMs === undefined ? ' for' : ' after'} ${formatDuration(ran)}`}${where}${attempt}`}</Text>
    </Text>,
  );
  if (job.progress && isInFlight(job)) {
    const {progress} = job;
    lines.push(
      <Text key="progress" wrap="truncate">
        <ProgressBar fraction={progressFraction(progress)} width={Math.min(BAR_CELLS, Math.floor(width / 3))} showPercent />
        <Text>{` ${progressLabel(progress)} · ${progress.nodesDone} of ${progress.nodesTotal} nodes done`}</Text>
      </Text>,
    );
  }
  if (job.error) labelled('Error', job.error, width, 3).forEach((line, index) => text(`error${index}`, line, job.state === 'failed' ? theme.bad : theme.muted));

  heading('settings', 'Settings');
  text('workflow', `${'Workflow'.padEnd(LABEL_WIDTH)}${job.spec.workflow}`);
  text('image', `${'Image'.padEnd(LABEL_WIDTH)}${job.spec.imagePath}`);
  labelled('Prompt', job.spec.prompt, width, 3).forEach((line, index) => text(`prompt${index}`, line));
  if (job.spec.negative !== undefined) labelled('Negative', job.spec.negative, width, 2).forEach((line, index) => text(`negative${index}`, line, theme.muted));
  const seed = job.seed ?? job.spec.seed;
  text('seed', `${'Seed'.padEnd(LABEL_WIDTH)}${seed === undefined ? 'random (picked when it starts)' : seed}`);
  labelled('Values', settingsText(job), width, 2).forEach((line, index) => text(`values${index}`, line));
  text('timings', `${'Timings'.padEnd(LABEL_WIDTH)}${timingsText(job, nowMs)}`, theme.muted);

  const nodes = job.nodes ?? [];
  heading('nodes', nodes.length === 0 ? 'Nodes: not known yet (they appear once ComfyUI runs it)' : `Nodes (${nodes.filter(node => node.state === 'done' || node.state === 'cached').length} of ${nodes.length} done)`);
  for (const node of nodes) {
    lines.push(
      <Text key={`node${node.id}`} wrap="truncate" {...(node.state === 'pending' ? theme.muted : node.state === 'running' ? theme.accent : {})}>
        {'  '}
        {node.state === 'running' ? <Spinner /> : NODE_MARKS[node.state]}
        {` ${node.state.padEnd(8)}${node.title} (${node.id})`}
      </Text>,
    );
  }

  const outputs = uniqueOutputs(job);
  heading('outputs', outputs.length === 0 ? 'Outputs: none yet' : `Outputs (${outputs.length})${job.outputDir ? ` in ${job.outputDir}` : ''}`);
  outputs.forEach((path, index) => text(`output${index}`, `  ${path}`));
  return lines;
}
