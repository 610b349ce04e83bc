// Turns ComfyUI's JSON answers and WebSocket messages into our types, once, at the boundary
// (shapes in docs/comfyui-api.md §1-§5). Anything of the wrong shape becomes ComfyBadAnswerError;
// WebSocket messages we do not know are dropped. Used by client.ts and prompt-follower.ts.
import {isRecord} from '../vast/parse.js';
import {ComfyBadAnswerError} from './comfy-errors.js';
import type {HistoryResult, OutputFile, UploadedImage} from './types.js';

export interface SystemStats {
  comfyuiVersion: string;
  pythonVersion?: string;
  pytorchVersion?: string;
  devices: Array<{name: string; type: string; vramTotalBytes: number; vramFreeBytes: number}>;
}

/** The prompt ids ComfyUI holds in its queue right now. */
export interface QueueSnapshot {
  running: string[];
  pending: string[];
}

/** The WebSocket events the follower uses; everything else (status, logs, custom types) is dropped. */
export type ComfyEvent =
  | {type: 'execution_start' | 'execution_success'; promptId: string}
  | {type: 'execution_cached'; promptId: string; nodes: string[]}
  | {type: 'executing'; promptId: string; node: string | null}
  | {type: 'progress'; promptId: string; node?: string; value: number; max: number}
  | {type: 'progress_state'; promptId: string; finished: string[]}
  | {type: 'executed'; promptId: string; node: string}
  | {type: 'execution_error'; promptId: string; nodeId: string; nodeType: string; message: string}
  | {type: 'execution_interrupted'; promptId: string; nodeId: string; nodeType: string};

const FILE_TYPES = new Set(['output', 'temp', 'input']);

export function parsePromptAnswer(body: unknown): {promptId: string; number: number; nodeErrors: Record<string, unknown>} {
  if (!isRecord(body) || typeof body.prompt_id !== 'string' || typeof body.number !== 'number') {
    throw new ComfyBadAnswerError('POST /prompt', 'no prompt_id and number');
  }
  return {promptId: body.prompt_id, number: body.number, nodeErrors: isRecord(body.node_errors) ? body.node_errors : {}};
}

export function parseUploadAnswer(body: unknown): UploadedImage {
  if (!isRecord(body) || typeof body.name !== 'string' || body.name === '') throw new ComfyBadAnswerError('POST /upload/image', 'no file name');
  const type = typeof body.type === 'string' && FILE_TYPES.has(body.type) ? (body.type as UploadedImage['type']) : 'input';
  return {name: body.name, subfolder: typeof body.subfolder === 'string' ? body.subfolder : '', type};
}

/** GET /history/{id}: undefined while the prompt has no entry ({} = unknown or not finished). */
export function parseHistoryAnswer(body: unknown, promptId: string): HistoryResult | undefined {
  if (!isRecord(body)) throw new ComfyBadAnswerError('GET /history', 'not an object');
  const entry = body[promptId];
  if (entry === undefined) return undefined;
  if (!isRecord(entry)) throw new ComfyBadAnswerError('GET /history', 'an entry that is not an object');
  const outputs = outputFiles(entry.outputs);
  const status = isRecord(entry.status) ? entry.status : undefined;
  if (status === undefined || status.status_str === 'success') return {status: 'success', outputs};
  const messages = Array.isArray(status.messages) ? status.messages : [];
  const last = [...messages].reverse().find(message => Array.isArray(message) && (message[0] === 'execution_error' || message[0] === 'execution_interrupted'));
  const data = Array.isArray(last) && isRecord(last[1]) ? last[1] : {};
  if (Array.isArray(last) && last[0] === 'execution_interrupted') return {status: 'interrupted', outputs};
  return {status: 'error', outputs, error: {nodeId: String(data.node_id ?? '?'), nodeType: String(data.node_type ?? '?'), message: String(data.exception_message ?? 'ComfyUI gave no message').trim()}};
}

/** Every list under any output key whose items carry a filename; the `animated` flags are skipped. */
function outputFiles(outputs: unknown): OutputFile[] {
  if (!isRecord(outputs)) return [];
  const files: OutputFile[] = [];
  for (const [nodeId, output] of Object.entries(outputs)) {
    if (!isRecord(output)) continue;
    for (const [key, list] of Object.entries(output)) {
      if (key === 'animated' || !Array.isArray(list)) continue;
      for (const item of list) {
        if (!isRecord(item) || typeof item.filename !== 'string') continue;
        const type = typeof item.type === 'string' ? item.type : 'output';
        if (!FILE_TYPES.has(type)) continue;
        files.push({filename: item.filename, subfolder: typeof item.subfolder === 'string' ? item.subfolder : '', type: type as OutputFile['type'], nodeId});
      }
    }
  }
  return files;
}

export function parseQueueAnswer(body: unknown): QueueSnapshot {
  if (!isRecord(body)) throw new ComfyBadAnswerError('GET /queue', 'not an object');
  const ids = (items: unknown): string[] =>
    Array.isArray(items) ? items.flatMap(item => (Array.isArray(item) && typeof item[1] === 'string' ? [item[1]] : [])) : [];
  return {running: ids(body.queue_running), pending: ids(body.queue_pending)};
}

export function parseSystemStats(body: unknown): SystemStats {
  const system = isRecord(body) && isRecord(body.system) ? body.system : undefined;
  if (!isRecord(body) || !system || typeof system.comfyui_version !== 'string') throw new ComfyBadAnswerError('GET /system_stats', 'no system.comfyui_version');
  const devices = (Array.isArray(body.devices) ? body.devices : []).filter(isRecord).map(device => ({
    name: String(device.name ?? '?'),
    type: String(device.type ?? '?'),
    vramTotalBytes: Number(device.vram_total) || 0,
    vramFreeBytes: Number(device.vram_free) || 0,
  }));
  return {
    comfyuiVersion: system.comfyui_version,
    pythonVersion: typeof system.python_version === 'string' ? system.python_version : undefined,
    pytorchVersion: typeof system.pytorch_version === 'string' ? system.pytorch_version : undefined,
    devices,
  };
}

/** One text frame; undefined for frames that are not JSON, not ours to read, or carry no prompt_id. */
export function parseSocketEvent(text: string): ComfyEvent | undefined {
  let message: unknown;
  try {
    message = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isRecord(message) || !isRecord(message.data)) return undefined;
  const data = message.data;
  const promptId = data.prompt_id;
  if (typeof promptId !== 'string') return undefined;
  const node = typeof data.node === 'string' ? data.node : undefined;
  switch (message.type) {
    case 'execution_start':
    case 'execution_success':
      return {type: message.type, promptId};
    case 'execution_cached':
      return {type: 'execution_cached', promptId, nodes: Array.isArray(data.nodes) ? data.nodes.map(String) : []};
    case 'executing':
      return data.node === null || node !== undefined ? {type: 'executing', promptId, node: node ?? null} : undefined;
    case 'progress':
      return typeof data.value === 'number' && typeof data.max === 'number' ? {type: 'progress', promptId, node, value: data.value, max: data.max} : undefined;
    case 'progress_state': {
      const nodes = isRecord(data.nodes) ? Object.entries(data.nodes) : [];
      return {type: 'progress_state', promptId, finished: nodes.filter(([, state]) => isRecord(state) && state.state === 'finished').map(([id]) => id)};
    }
    case 'executed':
      return node === undefined ? undefined : {type: 'executed', promptId, node};
    case 'execution_error':
      return {type: 'execution_error', promptId, nodeId: String(data.node_id ?? '?'), nodeType: String(data.node_type ?? '?'), message: String(data.exception_message ?? '').trim()};
    case 'execution_interrupted':
      return {type: 'execution_interrupted', promptId, nodeId: String(data.node_id ?? '?'), nodeType: String(data.node_type ?? '?')};
    default:
      return undefined;
  }
}
