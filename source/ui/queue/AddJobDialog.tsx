// The add-job form, drawn over the panes: the workflow (←/→ through the ones that load; broken
// ones are listed with their problem and skipped), the input image path (Tab completes it), and
// only the settings the workflow binds, prefilled with its defaults and showing their ranges; then
// the count and [ Queue ]. queue.add() checks the rest: its sentence keeps the form open, success
// closes it. It takes the keyboard while open (JOB_FORM_KEYS and the shared text-editing keys).
import {useEffect} from 'react';
import type {OnStartController, QueueController} from '../../core/deck-types.js';
import type {RankedOffer} from '../../core/offers/types.js';
import {toVastdeckError} from '../../core/errors.js';
import {dialogWidth} from '../shared/Dialog.js';
import {useKeyLayer} from '../keys/Keyboard.js';
import {editLine, lineAtEnd, type LineEdit} from '../shared/TextInput.js';
import type {FleetActions} from '../shared/useFleetActions.js';
import {useStateRef} from '../shared/useStateRef.js';
import {AddJobView} from './AddJobView.js';
import {buildJob, completePathValue, defaultValues, formFields, isTextField, matchName, typedValues, type FormState} from './add-job-form.js';
import {buildOnstartJob, ONSTART_VARIANT, QUEUE_VARIANT, rentConfirmText} from './onstart-form.js';
import {JOB_FORM_KEYS} from './queue-keys.js';

export {JOB_FORM_KEYS};

/** The OnStart variant: rent candidates[0] (falling through the rest) with the job embedded. */
export interface OnStartTarget {
  controller: OnStartController;
  candidates: readonly RankedOffer[];
  live: boolean;
}

interface AddJobDialogProps {
  queue: QueueController;
  notify: FleetActions['notify'];
  width: number;
  maxHeight: number;
  onClose(): void;
  /** Set for the OnStart variant (O in the Offers pane) instead of queueing. */
  onstart?: OnStartTarget;
}

const INITIAL: FormState = {values: {count: lineAtEnd('1')}, focus: 'workflow', matches: [], submitting: false};

export function AddJobDialog({queue, notify, width, maxHeight, onClose, onstart}: AddJobDialogProps) {
  const [form, setForm, formRef] = useStateRef<FormState>(INITIAL);
  // Any change but the confirming Enter disarms the OnStart confirm line.
  const update = (change: (state: FormState) => Partial<FormState>) => setForm({...formRef.current, armed: false, ...change(formRef.current)});
  const withCount = onstart === undefined;

  useEffect(() => {
    queue.workflows().then(
      workflows => update(() => ({workflows, workflow: workflows.find(info => info.ok)?.name})),
      (error: unknown) => update(() => ({workflows: [], note: {text: toVastdeckError(error).message, tone: 'bad'}})),
    );
    // Once, when the form opens (update reads the latest state through the ref).
  }, [queue]);

  // The chosen workflow's fields: keep what was typed for the image, prompt and count; the rest
  // starts again from this workflow's defaults.
  const chosen = form.workflow;
  useEffect(() => {
    if (!chosen) return;
    queue.workflowFields(chosen).then(
      result => {
        if (formRef.current.workflow !== chosen) return;
        if ('error' in result) {
          update(() => ({bound: undefined, note: {text: result.error, tone: 'bad'}}));
          return;
        }
        const defaults = Object.entries(defaultValues(result.fields)).map(([field, value]) => [field, lineAtEnd(value)] as const);
        update(state => {
          const {prompt = lineAtEnd(''), image, count} = state.values;
          return {bound: result.fields, note: undefined, values: {...Object.fromEntries(defaults), prompt, ...(image ? {image} : {}), ...(count ? {count} : {})}};
        });
      },
      (error: unknown) => update(() => ({note: {text: toVastdeckError(error).message, tone: 'bad'}})),
    );
    // update reads the latest state through the ref: only the workflow name matters here.
  }, [queue, chosen]);

  const fields = formFields(form.bound, withCount);
  const moveFocus = (delta: number) => {
    const state = formRef.current;
    const order = formFields(state.bound, withCount);
    const index = Math.max(0, order.indexOf(state.focus));
    update(() => ({focus: order[(index + delta + order.length) % order.length]!, matches: []}));
  };
  const chooseWorkflow = (delta: number) => {
    const state = formRef.current;
    const usable = (state.workflows ?? []).filter(info => info.ok).map(info => info.name);
    if (usable.length < 2) return;
    const index = Math.max(0, usable.indexOf(state.workflow ?? ''));
    update(() => ({workflow: usable[(index + delta + usable.length) % usable.length], bound: undefined}));
  };
  const edit = (change: LineEdit) => {
    const {focus, values} = formRef.current;
    if (!isTextField(focus)) return;
    update(() => ({values: {...values, [focus]: editLine(values[focus] ?? lineAtEnd(''), change)}, matches: focus === 'image' ? [] : formRef.current.matches}));
  };
  const complete = () => {
    const typed = formRef.current.values.image?.value ?? '';
    queue.completePath(typed).then(
      matches => {
        const state = formRef.current;
        if (state.focus !== 'image' || (state.values.image?.value ?? '') !== typed) return;
        const outcome = completePathValue(typed, matches);
        if (outcome.advance) {
          moveFocus(1);
          return;
        }
        update(() => ({values: {...state.values, image: lineAtEnd(outcome.value)}, matches: outcome.matches, note: outcome.note ? {text: outcome.note, tone: 'muted'} : undefined}));
      },
      (error: unknown) => update(() => ({note: {text: toVastdeckError(error).message, tone: 'bad'}})),
    );
  };
  const report = (error: unknown) => update(() => ({submitting: false, note: {text: toVastdeckError(error).message, tone: 'bad'}}));
  const submitOnstart = (target: OnStartTarget) => {
    const state = formRef.current;
    if (state.submitting) return;
    const built = buildOnstartJob(state.workflow, state.bound, typedValues(state.values));
    if ('problem' in built) {
      update(() => ({note: {text: built.problem, tone: 'bad'}, focus: built.field}));
      return;
    }
    if (!state.armed) {
      update(() => ({armed: true, note: {text: rentConfirmText(target.candidates, target.live), tone: 'warn'}}));
      return;
    }
    update(() => ({submitting: true, note: undefined}));
    target.controller.start(built.spec, target.candidates).then(problem => {
      if (problem) {
        update(() => ({submitting: false, note: {text: problem, tone: 'bad'}}));
        return;
      }
      onClose();
      notify(`OnStart job started: renting offer ${target.candidates[0]?.offer.id ?? '?'} to run ${built.spec.workflow} at boot.`);
    }, report);
  };
  const submit = () => {
    if (onstart) {
      submitOnstart(onstart);
      return;
    }
    const state = formRef.current;
    if (state.submitting) return;
    const built = buildJob(state.workflow, state.bound, typedValues(state.values));
    if ('problem' in built) {
      update(() => ({note: {text: built.problem, tone: 'bad'}, focus: built.field}));
      return;
    }
    update(() => ({submitting: true, note: undefined}));
    queue.add(built.spec, {count: built.count}).then(
      problem => {
        if (problem) {
          update(() => ({submitting: false, note: {text: problem, tone: 'bad'}}));
          return;
        }
        onClose();
        const what = built.count === 1 ? 'a job' : `${built.count} jobs`;
        notify(`Queued ${what}: ${built.spec.workflow} on ${matchName(built.spec.imagePath)}.`);
      },
      (error: unknown) => update(() => ({submitting: false, note: {text: toVastdeckError(error).message, tone: 'bad'}})),
    );
  };

  useKeyLayer(
    JOB_FORM_KEYS,
    {
      edit,
      cancel: onClose,
      tab: () => {
        if (withCount && formRef.current.focus === 'image' && (formRef.current.values.image?.value ?? '') !== '') complete();
        else moveFocus(1);
      },
      step: moveFocus,
      sideways: delta => {
        if (formRef.current.focus === 'workflow') chooseWorkflow(delta);
        else edit(delta < 0 ? 'left' : 'right');
      },
      enter: () => {
        if (formRef.current.focus === 'queue') submit();
        else moveFocus(1);
      },
    },
    {kind: 'modal'},
  );

  return <AddJobView form={form} fields={fields} width={dialogWidth(width)} maxHeight={maxHeight} variant={onstart ? ONSTART_VARIANT : QUEUE_VARIANT} />;
}
