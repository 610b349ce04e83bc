// Draws the add-job form (AddJobDialog holds its state and keys): the workflow chooser with the
// chosen one's description and any broken workflows, one row per field with its allowed range,
// the completion matches under the image path, the problem sentence, and [ Queue ]. When the
// screen is short, the field rows scroll to keep the focused one in view.
import {Box, Text} from 'ink';
import {DialogFrame} from '../shared/Dialog.js';
import {lineAtEnd, TextInput} from '../shared/TextInput.js';
import {truncate, wrapWords} from '../shared/text-fit.js';
import {useTheme, type Theme, type Tone} from '../shared/theme.js';
import {FIELD_LABELS, fieldHint, isTextField, matchName, type FormField, type FormState, type TextField} from './add-job-form.js';
import {QUEUE_VARIANT, type FormVariant} from './onstart-form.js';

const LABEL_WIDTH = 13;
const MAX_BROKEN_LINES = 2;
const MAX_NOTE_LINES = 3;
const PLACEHOLDERS: Partial<Record<TextField, string>> = {seed: 'random', prompt: 'what the picture should show'};

interface AddJobViewProps {
  form: FormState;
  fields: readonly FormField[];
  /** Width of the dialog box, border included. */
  width: number;
  maxHeight: number;
  /** The queue's form (default) or the OnStart one: title, image field, button. */
  variant?: FormVariant;
}

interface InfoLine {
  text: string;
  tone: Tone;
}

export function AddJobView({form, fields, width, maxHeight, variant = QUEUE_VARIANT}: AddJobViewProps) {
  const theme = useTheme();
  const inner = Math.max(10, width - 2);
  const info = workflowInfo(form, inner, theme);
  const notes = form.note ? wrapWords(form.note.text, inner - 1).slice(0, MAX_NOTE_LINES) : [];
  const textFields = fields.filter(isTextField);
  const matchesRows = form.matches.length > 0 ? 1 : 0;
  // Title, workflow row, its info, the matches, the notes and the buttons row are always shown.
  const fixed = 3 + info.length + matchesRows + notes.length;
  const room = Math.max(1, maxHeight - 2 - fixed);
  const focusIndex = Math.max(0, textFields.indexOf(form.focus as TextField));
  const start = textFields.length <= room ? 0 : Math.min(Math.max(0, focusIndex - Math.floor(room / 2)), textFields.length - room);
  const shown = textFields.slice(start, start + room);

  return (
    <DialogFrame title={variant.title} width={width} rows={fixed + shown.length}>
      <WorkflowRow form={form} width={inner} />
      {info.map(line => (
        <Text key={line.text} wrap="truncate" {...line.tone}>
          {line.text}
        </Text>
      ))}
      {shown.flatMap(field => [
        <FieldRow key={field} field={field} form={form} width={inner} variant={variant} />,
        ...(field === 'image' && matchesRows ? [<Text key="matches" wrap="truncate" {...theme.muted}>{`${' '.repeat(LABEL_WIDTH + 1)}${matchesText(form.matches)}`}</Text>] : []),
      ])}
      {notes.map((line, index) => (
        <Text key={`note${index}`} wrap="truncate" {...(form.note?.tone === 'bad' ? theme.bad : form.note?.tone === 'warn' ? theme.warn : theme.muted)}>
          {` ${line}`}
        </Text>
      ))}
      <Text wrap="truncate">
        {'  '}
        <Text {...(form.focus === 'queue' ? theme.selected : {})} bold={form.focus === 'queue'}>
          {form.submitting ? variant.busyButton : variant.button}
        </Text>
        <Text {...theme.muted}>{'  Enter on a field goes to the next · Esc cancels'}</Text>
      </Text>
    </DialogFrame>
  );
}

function matchesText(matches: readonly string[]): string {
  return `${matches.length} matches: ${matches.map(matchName).join('  ')}`;
}

/** The chosen workflow's description, then the broken ones with their problem (not selectable). */
function workflowInfo(form: FormState, width: number, theme: Theme): InfoLine[] {
  const workflows = form.workflows ?? [];
  const chosen = workflows.find(info => info.ok && info.name === form.workflow);
  const lines: InfoLine[] = chosen?.ok ? [{text: truncate(`  ${chosen.description}`, width), tone: theme.muted}] : [];
  const broken = workflows.flatMap(info => (info.ok ? [] : [info]));
  for (const info of broken.slice(0, MAX_BROKEN_LINES)) lines.push({text: `  ✗ ${info.name} (broken, not selectable): ${info.problem}`, tone: theme.bad});
  if (broken.length > MAX_BROKEN_LINES) lines.push({text: `  ✗ … and ${broken.length - MAX_BROKEN_LINES} more broken workflows`, tone: theme.bad});
  return lines;
}

function WorkflowRow({form, width}: {form: FormState; width: number}) {
  const theme = useTheme();
  const focused = form.focus === 'workflow';
  const usable = (form.workflows ?? []).filter(info => info.ok);
  const index = usable.findIndex(info => info.name === form.workflow);
  const chosen = usable[index];
  const label = `${focused ? '▸' : ' '} ${FIELD_LABELS.workflow}`.padEnd(LABEL_WIDTH);
  let value = <Text {...theme.muted}>loading the workflows…</Text>;
  if (form.workflows && usable.length === 0) value = <Text {...theme.bad}>no usable workflow</Text>;
  else if (chosen?.ok) {
    value = (
      <Text>
        <Text {...(focused ? theme.selected : {})}>{` ‹ ${chosen.name} › `}</Text>
        <Text {...theme.muted}>{` ${chosen.kind} · ${index + 1} of ${usable.length}${usable.length > 1 ? ' · ←/→ choose' : ''}${form.bound ? '' : ' · loading its fields…'}`}</Text>
      </Text>
    );
  }
  return (
    <Box width={width} height={1}>
      <Text wrap="truncate">
        <Text {...(focused ? theme.accent : {})}>{label}</Text>
        {value}
      </Text>
    </Box>
  );
}

function FieldRow({field, form, width, variant}: {field: TextField; form: FormState; width: number; variant: FormVariant}) {
  const theme = useTheme();
  const focused = form.focus === field;
  const label = `${focused ? '▸' : ' '} ${field === 'image' ? variant.imageLabel : FIELD_LABELS[field]}`.padEnd(LABEL_WIDTH);
  const hint = field === 'image' ? variant.imageHint : fieldHint(field, form.bound);
  const hintText = hint ? ` ${hint}` : '';
  const inputWidth = Math.max(LABEL_WIDTH + 2, width - hintText.length);
  const line = form.values[field] ?? lineAtEnd('');
  const placeholder = field === 'image' ? variant.imagePlaceholder : PLACEHOLDERS[field];
  return (
    <Box width={width} height={1}>
      <Box width={inputWidth} flexShrink={0}>
        {focused ? (
          <TextInput label={label} state={line} width={inputWidth} placeholder={placeholder} />
        ) : (
          <Text wrap="truncate">
            <Text>{label}</Text>
            <Text> </Text>
            {line.value ? <Text>{line.value}</Text> : <Text {...theme.muted}>{placeholder ?? ''}</Text>}
          </Text>
        )}
      </Box>
      <Text wrap="truncate" {...theme.muted}>
        {hintText}
      </Text>
    </Box>
  );
}
