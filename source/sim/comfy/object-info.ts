// GET /object_info: every catalogue node in ComfyUI's node_info() shape (input, input_order,
// output, output_is_list, output_name, name, display_name, description, python_module, category,
// output_node), combos listing what the instance's fs holds right now. Called by comfy-routes.ts.
import {nodeClasses, nodeDef} from './node-catalogue.js';
import type {InputOptions, InputSpec, NodeEnv} from './node-types.js';
import {PyFloat} from './py-json.js';

const FLOAT_OPTIONS = ['default', 'min', 'max', 'step', 'round'];

/** A FLOAT input's numbers are Python floats: /object_info prints 8.0, not 8. */
function printedOptions(spec: InputSpec): InputOptions | undefined {
  if (!spec.options || spec.type !== 'FLOAT') return spec.options;
  return Object.fromEntries(Object.entries(spec.options).map(([name, value]) => [name, FLOAT_OPTIONS.includes(name) && typeof value === 'number' ? new PyFloat(value) : value]));
}

/** The [type_or_options, {options}] pair of one input, as INPUT_TYPES() returns it. */
export function inputConfig(spec: InputSpec, env: NodeEnv): [unknown, Record<string, unknown>] | [unknown] {
  const head = spec.type === 'COMBO' ? spec.choices(env) : spec.type === 'LINK' ? spec.linkType : spec.type;
  const options = printedOptions(spec);
  return options ? [head, options] : [head];
}

function inputsOf(specs: Record<string, InputSpec>, env: NodeEnv): Record<string, unknown> {
  return Object.fromEntries(Object.entries(specs).map(([name, spec]) => [name, inputConfig(spec, env)]));
}

export function nodeInfo(classType: string, env: NodeEnv): Record<string, unknown> | undefined {
  const def = nodeDef(classType);
  if (!def) return undefined;
  const input: Record<string, unknown> = {required: inputsOf(def.required, env)};
  const order: Record<string, string[]> = {required: Object.keys(def.required)};
  if (def.optional) {
    input.optional = inputsOf(def.optional, env);
    order.optional = Object.keys(def.optional);
  }
  if (def.hidden) {
    input.hidden = def.hidden;
    order.hidden = Object.keys(def.hidden);
  }
  return {
    input,
    input_order: order,
    output: def.outputs,
    output_is_list: def.outputs.map(() => false),
    output_name: def.outputNames ?? def.outputs,
    name: classType,
    display_name: def.displayName,
    description: def.description,
    python_module: def.pythonModule,
    category: def.category,
    output_node: def.outputNode === true,
    ...(def.outputTooltips ? {output_tooltips: def.outputTooltips} : {}),
    ...(def.deprecated ? {deprecated: true} : {}),
  };
}

export function allNodeInfo(env: NodeEnv): Record<string, unknown> {
  return Object.fromEntries(nodeClasses().map((classType) => [classType, nodeInfo(classType, env)]));
}
