// The Instances table's columns: which instance, its GPU and price, its stage (with a spinner
// while it boots, or the cleanup step while it is destroyed), a progress cell (download bar with
// %/rate/ETA, else the cleanup's message, the stage's evidence or the failure reason; a stopped
// instance says it still bills storage), uptime, money spent and the log connection. Priorities
// decide what an 80-column terminal keeps: the stage and its progress first, then which instance
// and what it cost.
import {Text} from 'ink';
import {Spinner} from '../shared/Spinner.js';
import type {InstanceRow} from '../../core/deck-types.js';
import type {DownloadSnapshot} from '../../core/instances/progress.js';
import {barCells, ProgressBar} from '../shared/ProgressBar.js';
import type {Column} from '../shared/Table.js';
import {fit} from '../shared/text-fit.js';
import {usd} from '../shared/money.js';
import {useTheme, type Theme, type Tone} from '../shared/theme.js';
import {cleanupStepText, downloadFigures, gpuText, instanceName, isBooting, isCleaningUp, isGone, isStoppedBilling, progressText, uptimeText} from './instance-format.js';

function StageCell({row, width}: {row: InstanceRow; width: number}) {
  const {stage} = row.stage;
  const cleanup = row.cleanup;
  if (isBooting(row) || isCleaningUp(row)) {
    return (
      <Text>
        <Spinner />
        {fit(` ${cleanup ? cleanupStepText(cleanup.step) : stage}`, width - 1)}
      </Text>
    );
  }
  if (cleanup) return <Text>{fit(`✗ ${cleanupStepText(cleanup.step)}`, width)}</Text>;
  if (isStoppedBilling(row)) return <Text>{fit('■ stopped', width)}</Text>;
  const mark = isGone(row) ? '·' : stage === 'READY' ? '✓' : '✗';
  return <Text>{fit(`${mark} ${stage}`, width)}</Text>;
}

function DownloadCell({download, width, clockSpeed}: {download: DownloadSnapshot; width: number; clockSpeed: number}) {
  const theme = useTheme();
  // One mark fits a cell: a stall matters more than a resume (the detail view shows both).
  const marks = download.stalled ? 'stalled' : download.resumed ? 'resumed' : '';
  const bar = Math.min(width, barCells(width));
  const figures = downloadFigures(download, clockSpeed).map(text => ` ${text}${marks ? ` ${marks}` : ''}`);
  const suffix = figures.find(text => text.length <= width - bar) ?? figures.at(-1)!;
  return (
    <Text>
      <ProgressBar fraction={download.pct / 100} width={bar} showPercent={false} />
      <Text {...(marks ? theme.warn : {})}>{fit(suffix, width - bar)}</Text>
    </Text>
  );
}

function ProgressCell({row, width, clockSpeed}: {row: InstanceRow; width: number; clockSpeed: number}) {
  const download = row.stage.download;
  if (!row.cleanup && row.stage.stage === 'DOWNLOADING' && download && !isGone(row)) return <DownloadCell download={download} width={width} clockSpeed={clockSpeed} />;
  return <Text>{fit(progressText(row), width)}</Text>;
}

export function instanceColumns(nowMs: number, clockSpeed = 1): Array<Column<InstanceRow>> {
  return [
    {key: 'id', header: 'Instance', width: 8, format: instanceName, priority: 0},
    {key: 'label', header: 'Label', width: 17, format: row => row.label, priority: 5},
    {key: 'gpu', header: 'GPU', width: 11, format: gpuText, priority: 3},
    {key: 'dph', header: '$/h', width: 7, align: 'right', format: row => usd(row.dphTotal), priority: 4},
    {key: 'stage', header: 'Stage', width: 14, cell: (row, width) => <StageCell row={row} width={width} />, priority: 0},
    {key: 'progress', header: 'Progress', width: 22, cell: (row, width) => <ProgressCell row={row} width={width} clockSpeed={clockSpeed} />, priority: 0, grow: true},
    {key: 'up', header: 'Up', width: 6, align: 'right', format: row => uptimeText(row, nowMs), priority: 2},
    {key: 'spent', header: 'Spent', width: 8, align: 'right', format: row => usd(row.accruedUsd), priority: 1},
    {key: 'log', header: 'Log', width: 9, format: row => row.log.state, priority: 4},
  ];
}

export function instanceTone(theme: Theme, row: InstanceRow): Tone {
  if (row.cleanup?.failed) return theme.bad;
  if (isGone(row)) return theme.vanished;
  if (isCleaningUp(row) || isStoppedBilling(row)) return theme.warn;
  if (row.stage.stage === 'FAILED') return theme.bad;
  if (row.stage.stage === 'READY') return theme.good;
  return {};
}
