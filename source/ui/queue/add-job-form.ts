// The add-job form's rules, without React: which fields a workflow shows (only the ones its
// manifest binds), their prefilled defaults and allowed ranges, the shape check of the typed
// numbers, the JobSpec they make, and what a Tab completion of the image path does. The ranges
// themselves are checked by queue.add(), which answers with a sentence.
import type {JobField, JobSpec, WorkflowInfo} from '../../core/comfy/types.js';
import type {LineState} from '../shared/TextInput.js';

export type FieldRanges = Partial<Record<JobField, {default?: string | number; min?: number; max?: number}>>;

export const SETTING_FIELDS = ['prompt', 'negative', 'seed', 'steps', 'cfg', 'denoise', 'width', 'height', 'frames'] as const;
export type SettingField = (typeof SETTING_FIELDS)[number];
/** The fields typed as text (the workflow is chosen, [ Queue ] is pressed). */
export type TextField = 'image' | SettingField | 'count';
export type FormField = 'workflow' | TextField | 'queue';

/** Everything the form shows; AddJobDialog changes it, AddJobView draws it. */
export interface FormState {
  /** undefined while the list loads. */
  workflows?: WorkflowInfo[];
  workflow?: string;
  /** The chosen workflow's bound fields; undefined while they load (or when they failed). */
  bound?: FieldRanges;
  values: Partial<Record<TextField, LineState>>;
  focus: FormField;
  /** Several completions of the image path, listed under it. */
  matches: string[];
  /** A problem (bad) or a remark (muted) above [ Queue ]. */
  note?: {text: string; tone: 'bad' | 'muted' | 'warn'};
  submitting: boolean;
  /** The OnStart variant: the first Enter on its button showed the confirm line; the next one rents. */
  armed?: boolean;
}

export const FIELD_LABELS: Record<Exclude<FormField, 'queue'>, string> = {
  workflow: 'Workflow',
  image: 'Image path',
  prompt: 'Prompt',
  negative: 'Negative',
  seed: 'Seed',
  steps: 'Steps',
  cfg: 'CFG',
  denoise: 'Denoise',
  width: 'Width',
  height: 'Height',
  frames: 'Frames',
  count: 'Count',
};

const WHOLE_NUMBERS: ReadonlySet<TextField> = new Set(['seed', 'steps', 'width', 'height', 'frames', 'count']);
const DECIMALS: ReadonlySet<TextField> = new Set(['cfg', 'denoise']);

/** The typed text of every field that has a line (a field never typed into has none). */
export function typedValues(values: FormState['values']): Partial<Record<TextField, string>> {
  const typed: Partial<Record<TextField, string>> = {};
  for (const [field, line] of Object.entries(values) as Array<[TextField, LineState | undefined]>) {
    if (line) typed[field] = line.value;
  }
  return typed;
}

export function isTextField(field: FormField): field is TextField {
  return field !== 'workflow' && field !== 'queue';
}

/** The focus order: the workflow, the image, the settings the workflow binds, the count (unless left out), [ Queue ]. */
export function formFields(bound: FieldRanges | undefined, count = true): FormField[] {
  return ['workflow', 'image', ...SETTING_FIELDS.filter(field => bound?.[field] !== undefined), ...(count ? (['count'] as const) : []), 'queue'];
}

/** Each bound setting prefilled with the manifest's default (a 'random' seed stays blank). */
export function defaultValues(bound: FieldRanges): Partial<Record<SettingField, string>> {
  const values: Partial<Record<SettingField, string>> = {};
  for (const field of SETTING_FIELDS) {
    const binding = bound[field];
    if (!binding) continue;
    values[field] = binding.default === undefined || binding.default === 'random' ? '' : String(binding.default);
  }
  return values;
}

/** What the field accepts, shown after it: '1–150', 'blank = random'. */
export function fieldHint(field: TextField, bound: FieldRanges | undefined): string {
  if (field === 'seed') return 'blank = random';
  if (field === 'count') return 'copies, seeds count up';
  if (field === 'image') return 'Tab completes';
  const binding = field === 'prompt' || field === 'negative' ? undefined : bound?.[field];
  if (binding?.min !== undefined && binding.max !== undefined) return `${binding.min}–${binding.max}`;
  if (binding?.min !== undefined) return `≥ ${binding.min}`;
  if (binding?.max !== undefined) return `≤ ${binding.max}`;
  return '';
}

/** The typed number, undefined when blank, or the sentence saying what shape it needs. */
function parseNumber(field: TextField, text: string): number | undefined | {problem: string} {
  const value = text.trim();
  if (value === '') return undefined;
  if (WHOLE_NUMBERS.has(field) && !/^-?\d+$/.test(value)) return {problem: `${FIELD_LABELS[field]} must be a whole number, not "${value}".`};
  if (DECIMALS.has(field) && !/^-?(\d+\.?\d*|\.\d+)$/.test(value)) return {problem: `${FIELD_LABELS[field]} must be a number such as 0.5, not "${value}".`};
  return Number(value);
}

export type BuiltJob = {spec: JobSpec; count: number} | {problem: string; field: FormField};

/** The JobSpec and count from the typed values, or the first problem of shape (with the field to go to). */
export function buildJob(workflow: string | undefined, bound: FieldRanges | undefined, values: Partial<Record<TextField, string>>): BuiltJob {
  if (!workflow || !bound) return {problem: 'Choose a workflow that loads first (←/→ in Workflow).', field: 'workflow'};
  const imagePath = (values.image ?? '').trim();
  if (imagePath === '') return {problem: "Type the input image's path (Tab completes it).", field: 'image'};
  const spec: JobSpec = {workflow, imagePath, prompt: values.prompt ?? ''};
  if (bound.negative !== undefined) spec.negative = values.negative ?? '';
  for (const field of ['seed', 'steps', 'cfg', 'denoise', 'width', 'height', 'frames'] as const) {
    if (bound[field] === undefined) continue;
    const parsed = parseNumber(field, values[field] ?? '');
    if (typeof parsed === 'object') return {problem: parsed.problem, field};
    if (parsed !== undefined) spec[field] = parsed;
  }
  const count = parseNumber('count', values.count ?? '');
  if (typeof count === 'object') return {problem: count.problem, field: 'count'};
  if (count === undefined || count < 1) return {problem: 'Count must be 1 or more.', field: 'count'};
  return {spec, count};
}

export interface Completion {
  value: string;
  /** Several matches: shown under the field. */
  matches: string[];
  /** Nothing to complete: the value is a whole file path, so Tab goes on to the next field. */
  advance: boolean;
  note?: string;
}

function commonPrefix(items: readonly string[]): string {
  return items.reduce((prefix, item) => {
    let length = 0;
    while (length < prefix.length && prefix[length] === item[length]) length++;
    return prefix.slice(0, length);
  });
}

/** One match completes (a folder ends in '/', so the next Tab looks inside); several complete their common start and are listed. */
export function completePathValue(value: string, matches: readonly string[]): Completion {
  if (matches.length === 0) return {value, matches: [], advance: false, note: `No file or folder starts with "${value}".`};
  if (matches.length === 1) {
    const match = matches[0]!;
    return {value: match, matches: [], advance: match === value && !match.endsWith('/')};
  }
  const prefix = commonPrefix(matches);
  return {value: prefix.length > value.length ? prefix : value, matches: [...matches], advance: false};
}

/** A match as the list shows it: its last part ('cat.png', 'shots/'). */
export function matchName(match: string): string {
  const trimmed = match.endsWith('/') ? match.slice(0, -1) : match;
  return `${trimmed.slice(trimmed.lastIndexOf('/') + 1)}${match.endsWith('/') ? '/' : ''}`;
}
