// POST /prompt's validation, execution.py's validate_prompt/validate_inputs of ComfyUI 0.3.64
// ported faithfully (docs/comfyui-api.md §1.3): invalid_prompt for an unknown class, prompt_no_outputs,
// per-input errors, the details:"" upstream quirk, in-place normalisation. Called by comfy-routes.ts.
import {inputConfig} from './object-info.js';
import {nodeDef} from './node-catalogue.js';
import type {InputSpec, NodeEnv} from './node-types.js';
import {PyError, pyBool, pyFloat, pyFloatOf, pyIndex, pyInt, pyItem, pyRepr, pyStr, pyTraceback} from './python-text.js';

export interface ErrorObject {
  type: string;
  message: string;
  details: string;
  extra_info: Record<string, unknown>;
}

export interface NodeErrors {
  errors: ErrorObject[];
  dependent_outputs: string[];
  class_type: string;
}

export type Validation = {ok: true; outputs: string[]; nodeErrors: Record<string, NodeErrors>} | {ok: false; error: ErrorObject; nodeErrors: Record<string, NodeErrors>};

type Verdict = [valid: boolean, errors: ErrorObject[]];
type PromptNode = {class_type?: unknown; inputs?: unknown};

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** validate_node_input: equal types, '*', or overlapping comma-separated unions. */
function typesMatch(received: string, wanted: unknown): boolean {
  if (received === wanted) return true;
  if (typeof wanted !== 'string') return false;
  const got = received.split(',').map((t) => t.trim());
  const want = wanted.split(',').map((t) => t.trim());
  return got.includes('*') || want.includes('*') || got.some((t) => want.includes(t));
}

/** int()/float()/str()/bool() of a widget value, as validate_inputs coerces it. */
function coerce(spec: InputSpec, value: unknown): unknown {
  switch (spec.type) {
    case 'INT':
      return pyInt(value);
    case 'FLOAT':
      return pyFloatOf(value);
    case 'STRING':
      return pyStr(value);
    case 'BOOLEAN':
      return pyBool(value);
    default:
      return value;
  }
}

class PromptValidator {
  readonly validated = new Map<string, Verdict>();
  private readonly visiting = new Set<string>();

  constructor(
    private readonly prompt: Record<string, PromptNode>,
    private readonly env: NodeEnv,
  ) {}

  /** validate_inputs(item): Python exceptions (KeyError on a missing linked node…) propagate. */
  validateInputs(id: string): Verdict {
    const known = this.validated.get(id);
    if (known) return known;
    if (this.visiting.has(id)) throw new PyError('RecursionError', 'maximum recursion depth exceeded');
    const node = pyItem(this.prompt, id);
    const inputs = pyItem(node as Record<string, unknown>, 'inputs');
    if (!isObject(inputs)) throw new PyError('TypeError', `'${typeof inputs}' object is not subscriptable`);
    const def = nodeDef(pyStr(node.class_type));
    if (!def) throw new PyError('KeyError', pyRepr(node.class_type));
    const errors: ErrorObject[] = [];
    let valid = true;
    const customInputs = def.validate?.inputs ?? [];
    const declared: Array<[string, InputSpec, boolean]> = [
      ...Object.entries(def.required).map(([name, spec]): [string, InputSpec, boolean] => [name, spec, true]),
      ...Object.entries(def.optional ?? {}).map(([name, spec]): [string, InputSpec, boolean] => [name, spec, false]),
    ];
    this.visiting.add(id);
    try {
      for (const [name, spec, required] of declared) {
        if (!Object.hasOwn(inputs, name)) {
          if (required) errors.push({type: 'required_input_missing', message: 'Required input is missing', details: name, extra_info: {input_name: name}});
          continue;
        }
        const info = inputConfig(spec, this.env);
        const config = [info[0], info[1] ?? {}];
        let value = inputs[name];
        if (Array.isArray(value)) {
          if (value.length !== 2) {
            errors.push({type: 'bad_linked_input', message: 'Bad linked input, must be a length-2 list of [node_id, slot_index]', details: name, extra_info: {input_name: name, input_config: config, received_value: value}});
            continue;
          }
          const upstream = pyItem(this.prompt, value[0]);
          const upstreamDef = nodeDef(pyStr(pyItem(upstream as Record<string, unknown>, 'class_type')));
          const received = pyIndex(upstreamDef?.outputs ?? [], value[1]);
          if (!typesMatch(received, info[0])) {
            const details = `${name}, received_type(${received}) mismatch input_type(${pyStr(info[0])})`;
            errors.push({type: 'return_type_mismatch', message: 'Return type mismatch between linked nodes', details, extra_info: {input_name: name, input_config: config, received_type: received, linked_node: value}});
            continue;
          }
          const upstreamId = value[0] as string;
          try {
            if (!this.validateInputs(upstreamId)[0]) valid = false;
          } catch (error) {
            if (!(error instanceof PyError)) throw error;
            valid = false;
            const extra = {input_name: name, input_config: config, exception_message: error.message, exception_type: error.pyType, traceback: pyTraceback('validate_inputs', "o_class_type = prompt[o_id]['class_type']"), linked_node: value};
            this.validated.set(upstreamId, [false, [{type: 'exception_during_inner_validation', message: 'Exception when validating inner node', details: error.message, extra_info: extra}]]);
          }
          continue;
        }
        try {
          if (isObject(value) && Object.hasOwn(value, '__value__')) {
            value = value.__value__;
            inputs[name] = value;
          }
          value = coerce(spec, value);
          if (spec.type !== 'COMBO' && spec.type !== 'LINK') inputs[name] = value;
        } catch (error) {
          if (!(error instanceof PyError)) throw error;
          errors.push({
            type: 'invalid_input_type',
            message: `Failed to convert an input value to a ${spec.type} value`,
            details: `${name}, ${pyStr(value)}, ${error.message}`,
            extra_info: {input_name: name, input_config: config, received_value: value, exception_message: error.message},
          });
          continue;
        }
        if (customInputs.includes(name)) continue;
        const range = this.checkRange(name, spec, value, config);
        if (range) {
          errors.push(range);
          continue;
        }
        if (spec.type === 'COMBO') {
          const choices = info[0] as string[];
          if (typeof value === 'string' && choices.includes(value)) continue;
          const long = choices.length > 20;
          const listInfo = long ? `(list of length ${choices.length})` : pyRepr(choices);
          errors.push({type: 'value_not_in_list', message: 'Value not in list', details: `${name}: '${pyStr(value)}' not in ${listInfo}`, extra_info: {input_name: name, input_config: long ? null : config, received_value: value}});
        }
      }
    } finally {
      this.visiting.delete(id);
    }
    if (def.validate && customInputs.every((name) => Object.hasOwn(inputs, name) && !Array.isArray(inputs[name]))) {
      const verdict = def.validate.check(inputs, this.env);
      if (verdict !== true) {
        for (const name of customInputs) {
          errors.push({type: 'custom_validation_failed', message: 'Custom validation failed for node', details: `${name} - ${verdict}`, extra_info: {input_name: name}});
        }
      }
    }
    const verdict: Verdict = [errors.length === 0 && valid, errors];
    this.validated.set(id, verdict);
    return verdict;
  }

  private checkRange(name: string, spec: InputSpec, value: unknown, config: unknown[]): ErrorObject | undefined {
    if (typeof value !== 'number') return undefined;
    const {min, max} = spec.options ?? {};
    const show = (n: number | bigint): string => (spec.type === 'FLOAT' && typeof n === 'number' ? pyFloat(n) : pyStr(n));
    const extra = {input_name: name, input_config: config, received_value: value};
    if (min !== undefined && value < min) return {type: 'value_smaller_than_min', message: `Value ${show(value)} smaller than min of ${show(min)}`, details: name, extra_info: extra};
    if (max !== undefined && value > max) return {type: 'value_bigger_than_max', message: `Value ${show(value)} bigger than max of ${show(max)}`, details: name, extra_info: extra};
    return undefined;
  }
}

const invalidPrompt = (message: string, id: string): Validation => ({ok: false, error: {type: 'invalid_prompt', message, details: `Node ID '#${id}'`, extra_info: {}}, nodeErrors: {}});

/**
 * validate_prompt. `targets` is partial_execution_targets (null: every output node). Throws a
 * PyError for bodies the real server crashes on (a node that is not an object): answer 500.
 */
export function validatePrompt(prompt: Record<string, unknown>, targets: unknown[] | null, env: NodeEnv): Validation {
  const outputs: string[] = [];
  for (const [id, node] of Object.entries(prompt)) {
    if (!isObject(node)) throw new PyError('TypeError', `argument of type '${typeof node}' is not iterable`);
    if (!Object.hasOwn(node, 'class_type')) return invalidPrompt('Cannot execute because a node is missing the class_type property.', id);
    const def = nodeDef(pyStr(node.class_type));
    if (!def) return invalidPrompt(`Cannot execute because node ${pyStr(node.class_type)} does not exist.`, id);
    if (def.outputNode && (targets === null || targets.includes(id))) outputs.push(id);
  }
  if (outputs.length === 0) return {ok: false, error: {type: 'prompt_no_outputs', message: 'Prompt has no outputs', details: '', extra_info: {}}, nodeErrors: {}};

  const validator = new PromptValidator(prompt as Record<string, PromptNode>, env);
  const good: string[] = [];
  const failed: Array<[string, ErrorObject[]]> = [];
  const nodeErrors: Record<string, NodeErrors> = {};
  for (const output of outputs) {
    let verdict: Verdict;
    try {
      verdict = validator.validateInputs(output);
    } catch (error) {
      if (!(error instanceof PyError)) throw error;
      const extra = {exception_type: error.pyType, traceback: pyTraceback('validate_inputs', "o_class_type = prompt[o_id]['class_type']")};
      verdict = [false, [{type: 'exception_during_validation', message: 'Exception when validating node', details: error.message, extra_info: extra}]];
      validator.validated.set(output, verdict);
    }
    if (verdict[0]) {
      good.push(output);
      continue;
    }
    failed.push([output, verdict[1]]);
    for (const [id, [valid, errors]] of validator.validated) {
      if (valid || errors.length === 0) continue;
      nodeErrors[id] ??= {errors, dependent_outputs: [], class_type: pyStr((prompt[id] as PromptNode).class_type)};
      nodeErrors[id].dependent_outputs.push(output);
    }
  }
  if (good.length > 0) return {ok: true, outputs: good, nodeErrors};
  const details = failed.flatMap(([, errors]) => errors.map((error) => `${error.message}: ${error.details}`)).join('\n');
  return {ok: false, error: {type: 'prompt_outputs_failed_validation', message: 'Prompt outputs failed validation', details, extra_info: {}}, nodeErrors};
}
