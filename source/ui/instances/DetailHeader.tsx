// The top of an instance's detail view: where it stands now (stage, Vast's status, the log
// connection), the download bar, the failure with its evidence and the fix, the portal secret when
// asked for, the stage timeline with each stage's time offset and evidence line, and warnings.
// `detailHeaderLines` returns one element per screen row, most important first, so the caller can
// cut the list to the rows it has.
import {Text} from 'ink';
import {Spinner} from '../shared/Spinner.js';
import type {ReactElement} from 'react';
import type {InstanceRow} from '../../core/deck-types.js';
import {formatDuration} from '../../core/format.js';
import {ProgressBar} from '../shared/ProgressBar.js';
import {fit, truncate, wrapWords} from '../shared/text-fit.js';
import type {Theme, Tone} from '../shared/theme.js';
import {autostopText, cleanupStepText, downloadMarks, downloadSentence, isBooting, isGone, isStoppedBilling, STOPPED_BILLING, withoutStamp} from './instance-format.js';
import type {PortalLine} from './portal-lines.js';

const STAGE_WIDTH = 14;
const OFFSET_WIDTH = 8;
const MAX_WARNINGS = 3;
const DOWNLOAD_BAR_CELLS = 20;

function stageTone(theme: Theme, stage: string): Tone {
  if (stage === 'FAILED') return theme.bad;
  if (stage === 'READY') return theme.good;
  return theme.accent;
}

/** `label` then `text` wrapped under it, at most `max` rows. */
function labelled(label: string, text: string, width: number, max: number): string[] {
  const indent = ' '.repeat(label.length);
  const lines = wrapWords(text, Math.max(1, width - label.length));
  const kept = lines.slice(0, max).map((line, index) => (index === 0 ? label : indent) + line);
  if (lines.length > max && kept.length > 0) kept[kept.length - 1] = truncate(`${kept[kept.length - 1]!}…`, width);
  return kept;
}

export function detailHeaderLines(row: InstanceRow, nowMs: number, width: number, theme: Theme, portal: PortalLine[] | undefined, clockSpeed = 1): ReactElement[] {
  const {stage} = row;
  const lines: ReactElement[] = [];
  const vast = `Vast ${row.actualStatus ?? 'no status yet'}${row.statusMsg ? `: ${row.statusMsg}` : ''}`;
  const log = `log ${row.log.state}${row.log.error ? `: ${row.log.error}` : ''}`;
  const autostop = autostopText(row, nowMs);
  lines.push(
    <Text key="now" wrap="truncate">
      {isBooting(row) ? (
        <Text {...theme.accent}>
          <Spinner />{' '}
        </Text>
      ) : null}
      <Text {...stageTone(theme, stage.stage)} bold>{isGone(row) ? `${stage.stage} (${row.ledgerState})` : stage.stage}</Text>
      <Text>{` for ${formatDuration(Math.max(0, nowMs - stage.sinceMs) / 1000)} · `}</Text>
      <Text {...theme.muted}>{`${vast} · `}</Text>
      <Text {...(row.log.state === 'failed' ? theme.bad : row.log.state === 'reconnecting' ? theme.warn : theme.muted)}>{log}</Text>
      {autostop ? <Text {...(row.autostop?.deadlineAtMs === undefined ? theme.muted : theme.warn)}>{` · ${autostop}`}</Text> : null}
    </Text>,
  );
  if (row.note) lines.push(<Text key="note" wrap="truncate" {...theme.muted}>{row.note}</Text>);
  // A destroy that stopped says why in full (it names what would be lost and how to go on).
  if (row.cleanup) {
    const {cleanup} = row;
    labelled('Destroy:  ', `${cleanupStepText(cleanup.step)} · ${cleanup.message}`, width, cleanup.failed ? 5 : 1).forEach((text, index) =>
      lines.push(<Text key={`cleanup${index}`} {...(cleanup.failed ? theme.bad : theme.warn)}>{text}</Text>),
    );
  }
  else if (isStoppedBilling(row)) lines.push(<Text key="stopped" wrap="truncate" {...theme.warn}>{`${STOPPED_BILLING}: d in the instance list destroys it`}</Text>);

  const download = stage.download;
  if (stage.stage === 'DOWNLOADING' && download) {
    const marks = downloadMarks(download);
    lines.push(
      <Text key="download" wrap="truncate">
        <ProgressBar fraction={download.pct / 100} width={Math.min(DOWNLOAD_BAR_CELLS, Math.floor(width / 4))} showPercent={false} />
        <Text>{` ${downloadSentence(download, clockSpeed)}`}</Text>
        {marks ? <Text {...theme.warn}>{` · ${marks}`}</Text> : null}
      </Text>,
    );
  }

  if (stage.failure) {
    const {reason, evidence, suggestion} = stage.failure;
    labelled('Failed:   ', reason, width, 3).forEach((text, index) => lines.push(<Text key={`reason${index}`} {...theme.bad}>{text}</Text>));
    labelled('Evidence: ', evidence, width, 2).forEach((text, index) => lines.push(<Text key={`evidence${index}`} {...theme.muted}>{text}</Text>));
    labelled('Fix:      ', suggestion, width, 3).forEach((text, index) => lines.push(<Text key={`fix${index}`}>{text}</Text>));
  }

  portal?.forEach((line, index) => lines.push(<Text key={`portal${index}`} wrap="truncate" {...theme[line.tone]}>{line.text}</Text>));

  const startMs = stage.timeline[0]?.atMs ?? row.createdAtMs;
  stage.timeline.forEach((entry, index) => {
    const current = index === stage.timeline.length - 1;
    lines.push(
      <Text key={`stage${index}`} wrap="truncate">
        <Text {...(current ? stageTone(theme, entry.stage) : theme.muted)} bold={current}>{fit(entry.stage, STAGE_WIDTH)}</Text>
        <Text {...theme.muted}>{fit(`+${formatDuration(Math.max(0, entry.atMs - startMs) / 1000)}`, OFFSET_WIDTH)}</Text>
        <Text>{withoutStamp(entry.evidence)}</Text>
      </Text>,
    );
  });

  const warnings = stage.warnings;
  warnings.slice(0, MAX_WARNINGS).forEach((warning, index) => lines.push(<Text key={`warn${index}`} wrap="truncate" {...theme.warn}>{`⚠ ${warning}`}</Text>));
  if (warnings.length > MAX_WARNINGS) lines.push(<Text key="more" {...theme.warn}>{`⚠ … and ${warnings.length - MAX_WARNINGS} more warnings`}</Text>);
  return lines;
}
