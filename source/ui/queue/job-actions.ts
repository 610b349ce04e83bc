// What the Queue pane's keys do to one job: cancel (asking first when the job is already on an
// instance, with Keep it as the highlighted default), retry, open its output folder, and clear the
// finished jobs. Each one says what happened in the message line, including why it did nothing.
import type {Job, QueueController} from '../../core/deck-types.js';
import {toVastdeckError} from '../../core/errors.js';
import type {DialogSpec} from '../shared/Dialog.js';
import type {FleetActions} from '../shared/useFleetActions.js';
import {isFinished, isInFlight, progressLabel, shortJobId} from './job-format.js';

type Notify = FleetActions['notify'];

function cancelJobDialog(job: Job, queue: QueueController, notify: Notify): DialogSpec {
  const where = job.instanceId === undefined ? 'an instance' : `instance ${job.instanceId}`;
  const doing = job.state === 'running' && job.progress ? ` (${progressLabel(job.progress)})` : '';
  return {
    title: `Cancel job ${shortJobId(job)}?`,
    tone: 'bad',
    lines: [
      {text: `It is ${job.state} on ${where}${doing}.`},
      {text: 'Cancelling stops it there: the work done so far is lost, and r retries it from the start.', tone: 'warn'},
    ],
    buttons: [
      {label: 'Keep it', keys: ['n']},
      {label: 'Cancel job', keys: ['y'], onChoose: () => cancelNow(job, queue, notify)},
    ],
  };
}

function cancelNow(job: Job, queue: QueueController, notify: Notify): void {
  queue.cancel(job.id);
  notify(`Job ${shortJobId(job)} cancelled.`);
}

/** x: a queued job is cancelled at once; one on an instance asks first (returns the dialog to open). */
export function cancelJob(job: Job, queue: QueueController, notify: Notify): DialogSpec | undefined {
  if (isInFlight(job)) return cancelJobDialog(job, queue, notify);
  if (job.state === 'queued') cancelNow(job, queue, notify);
  else notify(`Job ${shortJobId(job)} is ${job.state}: there is nothing to cancel.`);
  return undefined;
}

export function retryJob(job: Job, queue: QueueController, notify: Notify): void {
  if (job.state !== 'failed' && job.state !== 'cancelled') {
    notify(`Job ${shortJobId(job)} is ${job.state}: only failed or cancelled jobs can be retried.`);
    return;
  }
  queue.retry(job.id);
  notify(`Job ${shortJobId(job)} is queued again.`);
}

export function openJobOutputs(job: Job, queue: QueueController, notify: Notify): void {
  queue.openOutputs(job.id).then(
    folder => notify(folder ? `Outputs of job ${shortJobId(job)}: ${folder}` : `Job ${shortJobId(job)} has no outputs yet.`),
    (error: unknown) => notify(toVastdeckError(error).message, 'error'),
  );
}

export function clearFinishedJobs(jobs: readonly Job[], queue: QueueController, notify: Notify): void {
  const count = jobs.filter(isFinished).length;
  if (count === 0) {
    notify('No done or cancelled jobs to clear.');
    return;
  }
  queue.clearFinished();
  notify(`Cleared ${count} finished ${count === 1 ? 'job' : 'jobs'} from the list; their outputs stay on disk.`);
}
