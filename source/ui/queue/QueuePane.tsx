// The Queue pane: every generation job in a windowed table (state with a spinner while it works,
// the node progress bar, the instance, time and attempts, the error when it failed), the queue's
// counts, the auto-destroy policy, a warning when jobs wait and no instance is READY, and an honest
// empty state. a opens the add-job form, Enter the selected job's detail over the whole body; the
// selection stays on the same job by id.
import {Box, Text} from 'ink';
import {useEffect, useMemo} from 'react';
import type {Job, PoliciesController, QueueController, QueueSnapshot} from '../../core/deck-types.js';
import {Pane, type DetailPaneSlot} from '../shared/Pane.js';
import {Paragraph} from '../shared/Paragraph.js';
import {Table} from '../shared/Table.js';
import {useKeyLayer} from '../keys/Keyboard.js';
import {useOpenDialog} from '../shared/useDialog.js';
import type {FleetActions} from '../shared/useFleetActions.js';
import {useListSelection} from '../shared/useListSelection.js';
import {useModel} from '../shared/useModel.js';
import {useNow} from '../shared/useNow.js';
import {useTheme} from '../shared/theme.js';
import {AddJobDialog} from './AddJobDialog.js';
import {cancelJob, clearFinishedJobs, openJobOutputs, retryJob} from './job-actions.js';
import {jobCounts, policyText, shortJobId} from './job-format.js';
import {JobDetail} from './JobDetail.js';
import {jobTone, queueColumns} from './queue-columns.js';
import {QUEUE_KEYS} from './queue-keys.js';

export {QUEUE_KEYS};

interface QueuePaneProps extends DetailPaneSlot {
  queue: QueueController;
  policies: PoliciesController;
  actions: FleetActions;
}

const keyOf = (job: Job): string => job.id;

const IN_FLIGHT: ReadonlySet<string> = new Set(['uploading', 'running', 'downloading']);
const IDLE_TICK_MS = 30_000;

export function QueuePane({queue, policies, actions, focused, detailOpen, onDetail, width, height}: QueuePaneProps) {
  const theme = useTheme();
  const snapshot = useModel(queue);
  const policy = useModel(policies);
  const openDialog = useOpenDialog();
  // Elapsed times tick every second only while a job is in flight; an idle pane costs no frames.
  const nowMs = useNow(snapshot.jobs.some(job => IN_FLIGHT.has(job.state)) ? 1000 : IDLE_TICK_MS);

  const {jobs, readyInstances} = snapshot;
  const list = useListSelection({items: jobs, latest: () => queue.getSnapshot().jobs, keyOf});
  const {selectedIndex, selected} = list;
  const columns = useMemo(() => queueColumns(nowMs, readyInstances), [nowMs, readyInstances]);

  const withJob = (act: (job: Job) => void) => {
    const job = list.current();
    if (job) act(job);
    else actions.notify('No job selected: press a to add one.');
  };

  useKeyLayer(
    QUEUE_KEYS,
    {
      list: list.controls,
      add: () => openDialog({render: frame => <AddJobDialog queue={queue} notify={actions.notify} {...frame} />}),
      cancel: () =>
        withJob(job => {
          const dialog = cancelJob(job, queue, actions.notify);
          if (dialog) openDialog(dialog);
        }),
      retry: () => withJob(job => retryJob(job, queue, actions.notify)),
      openDetail: () => withJob(() => onDetail(true)),
      openOutputs: () => withJob(job => openJobOutputs(job, queue, actions.notify)),
      clearFinished: () => clearFinishedJobs(queue.getSnapshot().jobs, queue, actions.notify),
    },
    {active: focused && !detailOpen},
  );

  // The job under the detail view left the list (cleared): back to the list.
  useEffect(() => {
    if (detailOpen && !selected) onDetail(false);
  }, [detailOpen, selected, onDetail]);

  if (detailOpen && selected) {
    return <JobDetail job={selected} queue={queue} notify={actions.notify} focused={focused} width={width} height={height} onBack={() => onDetail(false)} />;
  }

  const innerWidth = Math.max(10, width - 4);
  const innerHeight = Math.max(1, height - 2);
  const waiting = readyInstances === 0 && jobs.some(job => job.state === 'queued');
  const notes = [
    ...(innerHeight >= 5 ? [{text: `${policyText(policy)} · A toggles drained`, tone: theme.muted}] : []),
    ...(waiting ? [{text: 'no READY instance — rent one in Offers (c)', tone: theme.warn}] : []),
  ];
  const footer = selected && innerHeight >= 4 ? 1 : 0;
  const tableRows = Math.max(1, innerHeight - 1 - notes.length - footer);

  return (
    <Pane title="3 Queue" info={<TitleInfo snapshot={snapshot} />} focused={focused} width={width} height={height}>
      {notes.map(note => (
        <Text key={note.text} wrap="truncate" {...note.tone}>
          {note.text}
        </Text>
      ))}
      {jobs.length > 0 ? (
        <Box height={tableRows + 1} flexShrink={0}>
          <Table columns={columns} rows={jobs} rowKey={job => job.id} selectedIndex={selectedIndex} height={tableRows} width={innerWidth} rowTone={job => jobTone(theme, job)} />
        </Box>
      ) : (
        <Paragraph text="No jobs. Press a to add one (input image + prompt + workflow)." width={innerWidth} tone={theme.muted} />
      )}
      {selected && footer ? (
        <Text wrap="truncate" {...theme.muted}>
          {selectedLine(selected)}
        </Text>
      ) : null}
    </Pane>
  );
}

/** The selected job in one line: what the table has no room for. */
function selectedLine(job: Job): string {
  const seed = job.seed ?? job.spec.seed;
  return [`job ${shortJobId(job)}`, `"${job.spec.prompt}"`, seed === undefined ? '' : `seed ${seed}`, job.spec.imagePath, 'Enter: detail'].filter(Boolean).join(' · ');
}

function TitleInfo({snapshot}: {snapshot: QueueSnapshot}) {
  const theme = useTheme();
  const counts = jobCounts(snapshot.jobs);
  const ready = `${snapshot.readyInstances} READY ${snapshot.readyInstances === 1 ? 'instance' : 'instances'}`;
  const parts = snapshot.jobs.length === 0 ? [ready] : [`${counts.queued} queued`, `${counts.running} running`, `${counts.done} done`, `${counts.failed} failed`, ready];
  return <Text {...theme.muted}>{`${parts.join(' · ')} `}</Text>;
}
