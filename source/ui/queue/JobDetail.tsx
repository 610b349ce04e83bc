// One job over the whole body: where it stands, its node-by-node progress, settings, seed, instance,
// timings and output paths (job-detail-lines.tsx). Only the rows that fit are drawn; j/k scroll when
// there are more, o opens the output folder, Esc goes back to the list.
import {Text} from 'ink';
import type {Job, QueueController} from '../../core/deck-types.js';
import {Pane} from '../shared/Pane.js';
import {useKeyLayer} from '../keys/Keyboard.js';
import type {FleetActions} from '../shared/useFleetActions.js';
import {useNow} from '../shared/useNow.js';
import {useStateRef} from '../shared/useStateRef.js';
import {useTheme} from '../shared/theme.js';
import {openJobOutputs} from './job-actions.js';
import {jobDetailLines} from './job-detail-lines.js';
import {shortJobId} from './job-format.js';
import {JOB_KEYS} from './queue-keys.js';

export {JOB_KEYS};

interface JobDetailProps {
  job: Job;
  queue: QueueController;
  notify: FleetActions['notify'];
  focused: boolean;
  width: number;
  height: number;
  onBack(): void;
}

export function JobDetail({job, queue, notify, focused, width, height, onBack}: JobDetailProps) {
  const theme = useTheme();
  const nowMs = useNow(1000);
  const [scroll, setScroll, scrollRef] = useStateRef(0);

  const innerWidth = Math.max(10, width - 4);
  const innerHeight = Math.max(1, height - 2);
  const lines = jobDetailLines(job, nowMs, innerWidth, theme);
  const maxScroll = Math.max(0, lines.length - innerHeight);
  const top = Math.min(scroll, maxScroll);

  useKeyLayer(
    JOB_KEYS,
    {
      back: onBack,
      scroll: delta => setScroll(Math.min(maxScroll, Math.max(0, Math.min(scrollRef.current, maxScroll) + delta))),
      openOutputs: () => openJobOutputs(job, queue, notify),
    },
    {active: focused},
  );

  const more = maxScroll > 0 ? ` · rows ${top + 1}–${top + innerHeight} of ${lines.length}, j/k scroll` : '';
  const info = <Text {...theme.muted}>{`${job.spec.workflow} · ${job.state}${more} · Esc back `}</Text>;
  return (
    <Pane title={`3 Queue › job ${shortJobId(job)}`} info={info} focused={focused} width={width} height={height}>
      {lines.slice(top, top + innerHeight)}
    </Pane>
  );
}
