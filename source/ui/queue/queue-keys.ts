// The Queue view's keys, next to what they do: the job list (navigation, add, cancel, retry,
// detail, outputs, clear), the job detail view, and the add-job form. The components supply the
// contexts.
import type {KeyTable} from '../keys/key-table.js';
import {EDITOR_KEYS, type EditorContext} from '../shared/TextInput.js';
import {listKeys, type ListContext} from '../shared/useListSelection.js';

export interface QueueKeyContext extends ListContext {
  add(): void;
  cancel(): void;
  retry(): void;
  openDetail(): void;
  openOutputs(): void;
  clearFinished(): void;
}

export const QUEUE_KEYS: KeyTable<QueueKeyContext> = {
  title: 'Queue pane',
  actions: [
    ...listKeys('job', 'jobs'),
    {keys: ['a'], label: 'add', help: 'Add a job: image, prompt, workflow, settings', run: context => context.add(), switchesView: true},
    {keys: ['enter'], label: 'detail', hintKeys: 'Enter', help: 'Job detail: nodes, settings, timings, outputs', run: context => context.openDetail(), switchesView: true},
    {keys: ['o'], label: 'outputs', help: "Open the job's output folder and show its path", run: context => context.openOutputs()},
    {keys: ['r'], label: 'retry', help: 'Retry the selected failed or cancelled job', run: context => context.retry()},
    {keys: ['x'], label: 'cancel', help: 'Cancel the selected job (asks when it is running)', run: context => context.cancel(), dangerous: true, switchesView: true},
    {keys: ['C'], help: 'Clear done/cancelled jobs (outputs stay on disk)', run: context => context.clearFinished()},
  ],
};

export interface JobKeyContext {
  back(): void;
  scroll(delta: number): void;
  openOutputs(): void;
}

export const JOB_KEYS: KeyTable<JobKeyContext> = {
  title: 'Job detail (Enter on a job)',
  actions: [
    {keys: ['escape'], label: 'back', help: 'Back to the job list', run: context => context.back(), switchesView: true},
    {keys: ['j', 'down'], label: 'scroll', hintKeys: 'j/k', help: 'Scroll down', run: context => context.scroll(1)},
    {keys: ['k', 'up'], help: 'Scroll up', run: context => context.scroll(-1)},
    {keys: ['o'], label: 'outputs', help: "Open the job's output folder", run: context => context.openOutputs()},
  ],
};

export interface JobFormKeyContext extends EditorContext {
  /** Tab: complete the image path when there is one to complete, else the next field. */
  tab(): void;
  step(delta: 1 | -1): void;
  /** ←/→: the workflow in the Workflow field, else the cursor. */
  sideways(delta: 1 | -1): void;
  enter(): void;
  cancel(): void;
}

export const JOB_FORM_KEYS: KeyTable<JobFormKeyContext> = {
  title: 'Add-job form (a in the Queue pane; O in Offers for an OnStart job)',
  actions: [
    {keys: ['tab'], label: 'next/complete', help: 'Next field; in Image path: complete the path', run: context => context.tab()},
    {keys: ['down'], help: 'Next field', run: context => context.step(1)},
    {keys: ['up', 'backtab'], help: 'Previous field', run: context => context.step(-1)},
    {keys: ['left'], label: 'workflow', hintKeys: '←/→', help: 'Previous workflow (in Workflow), else cursor left', run: context => context.sideways(-1)},
    {keys: ['right'], help: 'Next workflow (in Workflow), else cursor right', run: context => context.sideways(1)},
    {keys: ['enter'], label: 'next/queue', help: 'Next field; on [ Queue ] queue the job(s)', run: context => context.enter(), switchesView: true},
    {keys: ['escape'], label: 'cancel', help: 'Close the form (letters are text here; F1 helps)', run: context => context.cancel(), switchesView: true},
    // ←/→ are the form's own (the workflow, else the cursor).
    ...EDITOR_KEYS.filter(action => !action.keys.includes('left') && !action.keys.includes('right')),
  ],
};
