// The sentences a cleanup ends with when it stops short: what would be lost, why, and how to go on
// (run it again to resume, or force the destroy). Also marks the interrupted step failed in
// cleanup.json. Used by destroy.ts.
import {VastAuthError, VastRateLimitedError, VastRefusedError, VastUnreachableError, VastdeckError} from '../errors.js';
import type {Instance} from '../instances/types.js';
import {SshError, type SshFailure} from '../ssh/connect.js';
import {CleanupError, type CleanupState} from './cleanup-state.js';

const SSH_PHRASES: Record<SshFailure, string> = {
  auth: 'the instance refused your SSH key',
  key: 'vastdeck has no usable SSH key',
  'host-key': "the instance's SSH host key changed",
  unreachable: 'SSH could not reach the instance',
  timeout: 'SSH timed out',
  keepalive: 'the SSH connection stopped answering',
  dropped: 'the SSH connection broke',
};

/** Why something failed, as a clause that follows "because". */
export function failurePhrase(error: unknown, context: {stopped: boolean; connectionBroke?: boolean}): string {
  if (context.stopped) return 'it is stopped, so SSH cannot reach it (start it first)';
  if (error instanceof SshError) return SSH_PHRASES[error.failure];
  if (context.connectionBroke) return 'the SSH connection broke';
  if (error instanceof VastUnreachableError) return `the Vast.ai API did not answer (${/ \(([^()]*)\): /.exec(error.message)?.[1] ?? 'no answer'})`;
  if (error instanceof VastRateLimitedError) return 'Vast.ai kept answering "too many requests"';
  if (error instanceof VastAuthError) return 'Vast.ai refused the API key';
  if (error instanceof VastRefusedError) {
    const words = /\(HTTP \d+\): (.*?)\.?$/.exec(error.message)?.[1];
    return `Vast.ai refused it (HTTP ${error.status}${words ? `: ${words}` : ''})`;
  }
  const code = (error as NodeJS.ErrnoException).code;
  if (!(error instanceof VastdeckError) && typeof code === 'string' && /^E[A-Z]+$/.test(code)) return `writing into the run folder failed (${code})`;
  const text = error instanceof Error ? error.message : String(error);
  const clause = (text.split('\n', 1)[0] ?? '').split(': ', 1)[0]!.replace(/[.\s]+$/, '').slice(0, 200);
  return /^[A-Z][a-z]/.test(clause) ? `${clause[0]!.toLowerCase()}${clause.slice(1)}` : clause;
}

/** The extraction failed or was stopped: the instance is NOT destroyed, and this says what is at stake. */
export function refusalError(instance: Instance, state: CleanupState, error: unknown, context: {startedMs: number; aborted: boolean; connectionBroke: boolean}): CleanupError {
  const id = instance.id;
  const {steps, files} = state.record;
  const thisRun = (step: 'extract-outputs' | 'verify'): boolean => steps[step].status === 'done' && (steps[step].atMs ?? 0) >= context.startedMs;
  const refused = files.filter(file => file.status === 'refused');
  const phrase =
    refused.length > 0 && thisRun('verify')
      ? `${refused.length} remote file${refused.length === 1 ? ' has an unsafe name' : 's have unsafe names'} (${refused.slice(0, 3).map(file => JSON.stringify(file.remotePath)).join(', ')}; rename ${refused.length === 1 ? 'it' : 'them'} on the instance)`
      : error instanceof CleanupError
        ? error.message.replace(/[.\s]+$/, '')
        : failurePhrase(error, {stopped: instance.actualStatus === 'stopped', connectionBroke: context.connectionBroke});
  for (const step of ['extract-outputs', 'extract-logs', 'verify'] as const) {
    if (steps[step].status === 'running') state.step(step, 'failed', phrase);
  }
  if (error instanceof CleanupError && error.reason === 'interrupted') return error;
  if (context.aborted) {
    return new CleanupError('interrupted', id, `The cleanup of instance ${id} was stopped while pulling its files: nothing was destroyed, run the cleanup again to resume where it stopped.`);
  }
  const outputsLeft = files.filter(file => file.kind === 'output' && (file.status === 'downloaded' || file.status === 'refused')).length;
  const lost = [
    ...(thisRun('extract-outputs') ? (outputsLeft > 0 ? [`${outputsLeft} output file${outputsLeft === 1 ? '' : 's'}`] : []) : ['its output files']),
    ...(thisRun('verify') ? [] : ['the logs']),
  ];
  return new CleanupError(
    'refused',
    id,
    `Instance ${id} was not destroyed: ${lost.join(' and ') || 'some files'} would be lost because ${phrase} — fix that and run the cleanup again (it resumes where it stopped), or destroy it anyway with \`vastdeck down ${id} --force\`.`,
    {cause: error},
  );
}

/** DELETE failed: the ledger stays 'destroying' and the instance keeps billing. */
export function destroyFailedError(instanceId: number, error: unknown): CleanupError {
  return new CleanupError(
    'destroy-failed',
    instanceId,
    `Instance ${instanceId} was not destroyed because ${failurePhrase(error, {stopped: false})}: it keeps billing — destroy it in the Vast console (https://cloud.vast.ai/instances/), or run the cleanup again.`,
    {cause: error, code: error instanceof VastdeckError ? error.code : 'api-refused'},
  );
}
