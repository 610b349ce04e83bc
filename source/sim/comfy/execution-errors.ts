// How a failed node is reported in execution_error, as execution.py formats it: str() of each
// input (tensors and model objects as Python prints them), the exception type and message with
// ComfyUI's OOM tip, and a plausible traceback. Used by executor.ts.
import {fnv32} from './pixels.js';
import {NodeError, type NodeValue} from './node-types.js';

const OOM_TIP = 'This error means you ran out of memory on your GPU.\n\nTIPS: If the workflow worked before you might have accidentally set the batch_size to a large number.';

function objectAt(className: string, name: string): string {
  return `<${className} object at 0x7f${(fnv32(name) >>> 0).toString(16).padStart(8, '0')}0>`;
}

/** format_value(x): literals as they are, anything else as str(x). */
export function describeValue(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value !== 'object') return value;
  const node = value as NodeValue;
  switch (node.kind) {
    case 'MODEL':
      return objectAt('comfy.model_patcher.ModelPatcher', node.name);
    case 'CLIP':
      return objectAt('comfy.sd.CLIP', node.name);
    case 'VAE':
      return objectAt('comfy.sd.VAE', node.name);
    case 'CLIP_VISION':
      return objectAt('comfy.clip_vision.ClipVisionModel', node.name);
    case 'IMAGE':
      return `tensor([[[[…]]]]) of shape torch.Size([${node.frames.length}, ${node.height}, ${node.width}, 3]) from ${node.origin}`;
    case 'MASK':
      return `tensor([[[…]]]) of shape torch.Size([${node.count}, ${node.height}, ${node.width}])`;
    case 'LATENT':
      return `{'samples': tensor([[[[…]]]]) of shape torch.Size([${node.batch}, 4, ${node.height / 8}, ${node.width / 8}])}`;
    case 'CONDITIONING':
      return "[[tensor([[[…]]]), {'pooled_output': tensor([[…]])}]]";
    case 'CLIP_VISION_OUTPUT':
      return objectAt('comfy.clip_vision.Output', node.digest);
    default:
      return String(value);
  }
}

/** exception_type and exception_message ("{ex}\n{tips}") of a failure. */
export function failureMessage(error: unknown): {type: string; message: string} {
  if (error instanceof NodeError) {
    const tip = error.exceptionType === 'torch.OutOfMemoryError' ? OOM_TIP : '';
    return {type: error.exceptionType, message: `${error.message}\n${tip}`};
  }
  return {type: 'RuntimeError', message: `${error instanceof Error ? error.message : String(error)}\n`};
}

/** traceback.format_tb() of a node failure: the executor's frames, then the node's function. */
export function nodeTraceback(classType: string): string[] {
  return [
    '  File "/workspace/ComfyUI/execution.py", line 496, in execute\n    output_data, output_ui, has_subgraph, has_pending_tasks = await get_output_data(prompt_id, unique_id, obj, input_data_all, execution_block_cb=execution_block_cb, pre_execute_cb=pre_execute_cb, hidden_inputs=hidden_inputs)\n',
    '  File "/workspace/ComfyUI/execution.py", line 315, in get_output_data\n    return_values = await _async_map_node_over_list(prompt_id, unique_id, obj, input_data_all, obj.FUNCTION, allow_interrupt=True, execution_block_cb=execution_block_cb, pre_execute_cb=pre_execute_cb, hidden_inputs=hidden_inputs)\n',
    '  File "/workspace/ComfyUI/execution.py", line 289, in _async_map_node_over_list\n    await process_inputs(input_dict, i)\n',
    `  File "/workspace/ComfyUI/execution.py", line 277, in process_inputs\n    result = f(**inputs)\n             ^^^^^^^^^^^\n`,
    `  File "/workspace/ComfyUI/nodes.py", line 1, in ${classType}\n`,
  ];
}
