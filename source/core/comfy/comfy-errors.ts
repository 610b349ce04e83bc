// Errors of the ComfyUI client, each one sentence for the user, and the renderer that turns
// ComfyUI's 400 answers (whose useful part hides in node_errors, docs/comfyui-api.md §1.3) into
// plain words. Used by comfy-http.ts and client.ts.
import {VastdeckError} from '../errors.js';
import {isRecord} from '../vast/parse.js';
import type {ApiWorkflow} from './types.js';

/** One problem of a refused workflow, for views that list them. */
export interface WorkflowProblem {
  nodeId?: string;
  classType?: string;
  text: string;
}

/** POST /prompt refused the workflow (400, or a 200 that dropped some outputs). */
export class ComfyValidationError extends VastdeckError {
  readonly problems: WorkflowProblem[];
  constructor(message: string, problems: WorkflowProblem[]) {
    super('bad-input', message);
    this.name = 'ComfyValidationError';
    this.problems = problems;
  }
}

export class ComfyUnreachableError extends VastdeckError {
  constructor(baseUrl: string, reason: string) {
    super('unreachable', `Cannot reach ComfyUI at ${baseUrl} (${reason}): check that the instance is running and READY.`);
    this.name = 'ComfyUnreachableError';
  }
}

/** A status we do not expect from `endpoint`, mapped to the code and sentence that fit it. */
export function comfyStatusError(baseUrl: string, endpoint: string, status: number, text: string): VastdeckError {
  if (status === 401) {
    return new VastdeckError('auth', `The instance portal at ${baseUrl} refused the token (401): use the instance's WEB_PASSWORD (or OPEN_BUTTON_TOKEN).`);
  }
  if (status === 502 || status === 503 || status === 504) {
    return new VastdeckError('unreachable', `ComfyUI behind ${baseUrl} is not answering (${status}): wait until the instance is READY, or check its ComfyUI log.`);
  }
  if (status >= 500) return new VastdeckError('unreachable', `ComfyUI at ${baseUrl} failed on ${endpoint} (${status}): check its ComfyUI log, then try again.`);
  const said = text.trim().replace(/\s+/g, ' ').slice(0, 120);
  return new VastdeckError('api-refused', `ComfyUI at ${baseUrl} refused ${endpoint} (${status}${said ? `: ${said}` : ''}): check the request, or the ComfyUI version.`);
}

export class ComfyBadAnswerError extends VastdeckError {
  constructor(endpoint: string, what: string) {
    super('bad-answer', `ComfyUI sent an answer vastdeck cannot read for ${endpoint} (${what}): check that the URL points at ComfyUI.`);
    this.name = 'ComfyBadAnswerError';
  }
}

interface RawNodeError {
  type?: unknown;
  message?: unknown;
  details?: unknown;
  extra_info?: {input_name?: unknown; input_config?: unknown; received_value?: unknown};
}

const SHOWN_CHOICES = 8;

/**
 * The 400 answer of POST /prompt (or the node_errors of a 200) as one sentence. `prefix` is e.g.
 * 'ComfyUI refused the workflow'. Unknown shapes fall back to the status and raw text.
 */
export function validationError(body: unknown, workflow: ApiWorkflow, prefix = 'ComfyUI refused the workflow'): ComfyValidationError {
  const record = isRecord(body) ? body : {};
  const problems = nodeProblems(record.node_errors, workflow);
  if (problems.length === 0) {
    const error = isRecord(record.error) ? record.error : {};
    problems.push({text: topLevelProblem(String(error.type ?? ''), text(error.message), text(error.details))});
  }
  const rendered = problems.map(problem => {
    if (problem.nodeId === undefined) return problem.text;
    const title = workflow[problem.nodeId]?._meta?.title;
    return `node ${problem.nodeId} ${problem.classType ?? '?'}${title ? ` (${title})` : ''}: ${problem.text}`;
  });
  const sentence = `${prefix}: ${rendered.join('; ')}`;
  return new ComfyValidationError(sentence.endsWith('.') ? sentence : `${sentence}.`, problems);
}

function nodeProblems(nodeErrors: unknown, workflow: ApiWorkflow): WorkflowProblem[] {
  if (!isRecord(nodeErrors)) return [];
  const problems: WorkflowProblem[] = [];
  for (const [nodeId, entry] of Object.entries(nodeErrors)) {
    if (!isRecord(entry)) continue;
    const classType = typeof entry.class_type === 'string' ? entry.class_type : workflow[nodeId]?.class_type;
    const errors = Array.isArray(entry.errors) ? entry.errors.filter(isRecord) : [];
    const texts = errors.length > 0 ? errors.map(error => inputProblem(error as RawNodeError)) : ['failed validation'];
    problems.push({nodeId, classType, text: texts.join(', ')});
  }
  return problems;
}

function inputProblem(error: RawNodeError): string {
  const input = text(error.extra_info?.input_name);
  const message = text(error.message);
  let details = text(error.details);
  for (const separator of [': ', ' - ', ', ']) {
    if (input && details.startsWith(`${input}${separator}`)) details = details.slice(input.length + separator.length);
  }
  if (details === input) details = '';
  switch (error.type) {
    case 'value_not_in_list':
      return notInList(input, error.extra_info?.received_value, error.extra_info?.input_config);
    case 'required_input_missing':
      return `required input ${input || details || '?'} is missing`;
    case 'custom_validation_failed':
      return `${input || 'input'} — ${details || message}`;
    default: {
      const what = details && !message.includes(details) ? `${message} (${details})` : message || details || String(error.type ?? 'invalid');
      return input ? `${input} — ${what}` : what;
    }
  }
}

function notInList(input: string, received: unknown, config: unknown): string {
  const choices = Array.isArray(config) && Array.isArray(config[0]) ? config[0].map(String) : undefined;
  const models = input.endsWith('_name') && input !== 'sampler_name';
  const what = models ? 'the installed models' : 'the allowed values';
  const value = received === undefined ? '' : ` '${String(received)}'`;
  if (!choices) return `${input}${value} is not one of ${what}`;
  if (choices.length === 0) return `${input}${value} is not one of ${what} (${models ? 'none are installed' : 'there are none'})`;
  const shown = choices.slice(0, SHOWN_CHOICES).join(', ');
  const more = choices.length > SHOWN_CHOICES ? ` and ${choices.length - SHOWN_CHOICES} more` : '';
  return `${input}${value} is not one of ${what} (${shown}${more})`;
}

function topLevelProblem(type: string, message: string, details: string): string {
  const base = message.replace(/\.$/, '');
  switch (type) {
    case 'invalid_prompt':
      return `${base}${details ? ` (${details})` : ''} — install the custom node it needs, or fix its class_type`;
    case 'prompt_no_outputs':
      return 'the workflow has no output node — add a SaveImage or SaveVideo node';
    case 'no_prompt':
      return 'the request carried no workflow';
    default:
      return [base, details].filter(Boolean).join(': ') || `an unexplained refusal (${type || 'no error type'})`;
  }
}

function text(value: unknown): string {
  return typeof value === 'string' ? value.trim() : '';
}
