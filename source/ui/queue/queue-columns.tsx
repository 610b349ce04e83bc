// The Queue table's columns: which job, its workflow, its state (a spinner while it uploads, runs
// or brings outputs home), a progress cell (the bar with the node and its steps, else what it waits
// for, its outputs or its error), the instance it runs on, how long it ran and its attempts.
// Priorities decide what a narrow pane keeps: the state and its progress first.
import {Text} from 'ink';
import {Spinner} from '../shared/Spinner.js';
import type {Job} from '../../core/deck-types.js';
import {barCells, ProgressBar} from '../shared/ProgressBar.js';
import type {Column} from '../shared/Table.js';
import {fit} from '../shared/text-fit.js';
import {useTheme, type Theme, type Tone} from '../shared/theme.js';
import {elapsedText, isInFlight, jobStatusText, progressFraction, progressLabel, shortJobId} from './job-format.js';

const STATE_MARKS: Record<Job['state'], string> = {queued: '…', uploading: '', running: '', downloading: '', done: '✓', failed: '✗', cancelled: '·'};

function StateCell({job, width}: {job: Job; width: number}) {
  if (isInFlight(job)) {
    return (
      <Text>
        <Spinner />
        {fit(` ${job.state}`, width - 1)}
      </Text>
    );
  }
  return <Text>{fit(`${STATE_MARKS[job.state]} ${job.state}`, width)}</Text>;
}

function ProgressCell({job, width, readyInstances}: {job: Job; width: number; readyInstances: number}) {
  const theme = useTheme();
  const {progress} = job;
  if (job.state === 'running' && progress) {
    const bar = Math.min(width, barCells(width));
    return (
      <Text>
        <ProgressBar fraction={progressFraction(progress)} width={bar} showPercent={false} />
        <Text>{fit(` ${progressLabel(progress)}`, Math.max(0, width - bar))}</Text>
      </Text>
    );
  }
  const tone = job.state === 'failed' ? theme.bad : job.state === 'queued' && readyInstances === 0 ? theme.warn : {};
  return <Text {...tone}>{fit(jobStatusText(job, readyInstances), width)}</Text>;
}

export function queueColumns(nowMs: number, readyInstances: number): Array<Column<Job>> {
  return [
    {key: 'id', header: 'Job', width: 6, format: shortJobId, priority: 0},
    {key: 'workflow', header: 'Workflow', width: 12, format: job => job.spec.workflow, priority: 4},
    {key: 'state', header: 'State', width: 12, cell: (job, width) => <StateCell job={job} width={width} />, priority: 0},
    {key: 'progress', header: 'Progress', width: 24, cell: (job, width) => <ProgressCell job={job} width={width} readyInstances={readyInstances} />, priority: 0, grow: true},
    {key: 'instance', header: 'Instance', width: 8, format: job => (job.instanceId === undefined ? '—' : String(job.instanceId)), priority: 3},
    {key: 'elapsed', header: 'Time', width: 6, align: 'right', format: job => elapsedText(job, nowMs), priority: 1},
    {key: 'attempts', header: 'Try', width: 3, align: 'right', format: job => (job.attempts > 1 ? `×${job.attempts}` : ''), priority: 5},
  ];
}

export function jobTone(theme: Theme, job: Job): Tone {
  if (job.state === 'failed') return theme.bad;
  if (job.state === 'done') return theme.good;
  if (job.state === 'cancelled') return theme.vanished;
  return {};
}
