// Runs one queued prompt like execution.py's PromptExecutor: execution_start, execution_cached
// (node outputs cached by input signature), per node progress_state/executing/progress/executed,
// then execution_success, or execution_error / execution_interrupted. Driven by comfy-server.ts.
import {createHash} from 'node:crypto';
import {ExecutionList, isLink, type PromptGraph} from './execution-order.js';
import {nodeDef} from './node-catalogue.js';
import {NodeError, type NodeEnv, type NodeValue, type RunContext, type UiOutput} from './node-types.js';
import {describeValue, failureMessage, nodeTraceback} from './execution-errors.js';
import {stepSimMs, type SimClock} from './sim-clock.js';
import {encodeJpeg} from './jpeg.js';
import type {PreviewMetadata} from './ws-hub.js';

export interface ExecutorJob {
  promptId: string;
  prompt: PromptGraph;
  extraData: Record<string, unknown>;
  outputs: string[];
}

export interface ExecutionOutcome {
  success: boolean;
  outputs: Record<string, UiOutput>;
  meta: Record<string, {node_id: string; display_node: string; parent_node: null; real_node_id: string}>;
  messages: Array<[string, Record<string, unknown>]>;
}

/** A fault: the next job fails when this node (id or class_type; any node when absent) runs. */
export interface InjectedFailure {
  node?: string;
  exceptionType?: string;
  message?: string;
}

export interface ExecutorDeps extends NodeEnv {
  clock: SimClock;
  gpuFactor: number;
  /** Sends a WebSocket event to `sid` (null: every socket). */
  send(type: string, data: Record<string, unknown>, sid: string | null): void;
  /** Sends an image as a binary WebSocket frame (send_image) to `sid` (null: every socket). */
  sendImage(image: Buffer, format: 'PNG' | 'JPEG', metadata: PreviewMetadata, sid: string | null): void;
  /** The long side of latent previews (--preview-size), or undefined when --preview-method is none (no previews). */
  previewSize(): number | undefined;
}

/** server.py's send_image saves previews with Pillow at this quality. */
const PREVIEW_JPEG_QUALITY = 95;

/** ImageOps.contain: the image's aspect, scaled (up or down) until its long side is `maxSize`. */
export function previewDimensions(image: {width: number; height: number}, maxSize: number): {width: number; height: number} {
  const {width, height} = image;
  if (width >= height) return {width: maxSize, height: Math.max(1, Math.round((height / width) * maxSize))};
  return {width: Math.max(1, Math.round((width / height) * maxSize)), height: maxSize};
}

/**
 * The JPEG a latent preview shows after `step` of `steps` (a gradient that brightens as the sampler
 * goes), at the size ComfyUI sends: latent_preview.py always hands send_image a JPEG, whatever the method.
 */
function latentPreview(step: number, steps: number, image: {width: number; height: number}, maxSize: number): Buffer {
  const {width, height} = previewDimensions(image, maxSize);
  const frame = Buffer.alloc(width * height * 4);
  const level = Math.round((255 * step) / Math.max(1, steps));
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const at = (y * width + x) * 4;
      frame[at] = level;
      frame[at + 1] = Math.floor((x * 255) / width);
      frame[at + 2] = Math.floor((y * 255) / height);
      frame[at + 3] = 255;
    }
  }
  return encodeJpeg(frame, width, height, {quality: PREVIEW_JPEG_QUALITY});
}

type CacheEntry = {outputs: NodeValue[]; ui?: UiOutput};

class Interrupted extends Error {}
/** The server restarted (or closed) under a running job: it ends without history. */
export class Abandoned extends Error {}

export class Executor {
  /** The node executing now (sent to a submitter that reconnects), and whose job runs. */
  lastNodeId: string | null = null;
  clientId: string | null = null;
  private interruptFlag = false;
  private readonly cache = new Map<string, CacheEntry>();
  private readonly loaded = new Set<string>();
  private epoch = 0;

  constructor(private readonly deps: ExecutorDeps) {}

  interrupt(): void {
    this.interruptFlag = true;
  }

  /** POST /free: unload_models makes the next loads cold; free_memory also drops cached outputs. */
  free(unloadModels: boolean, freeMemory: boolean): void {
    if (unloadModels || freeMemory) this.loaded.clear();
    if (freeMemory) this.cache.clear();
  }

  /** Restart: the running job is abandoned, caches and loaded models are gone. */
  reset(): void {
    this.epoch++;
    this.cache.clear();
    this.loaded.clear();
    this.lastNodeId = null;
    this.clientId = null;
  }

  async execute(job: ExecutorJob, failure: InjectedFailure | undefined): Promise<ExecutionOutcome> {
    const epoch = this.epoch;
    const {prompt, promptId} = job;
    const clientId = typeof job.extraData.client_id === 'string' ? job.extraData.client_id : null;
    this.interruptFlag = false;
    this.clientId = clientId;
    const messages: ExecutionOutcome['messages'] = [];
    const addMessage = (event: string, data: Record<string, unknown>, broadcast: boolean): void => {
      const stamped = {...data, timestamp: Date.now()};
      messages.push([event, stamped]);
      if (clientId !== null || broadcast) this.deps.send(event, stamped, clientId);
    };
    const progress = new Map<string, {state: string; value: number; max: number}>();
    const sendProgressState = (id: string, state: string, value: number, max: number): void => {
      progress.set(id, {state, value, max});
      const nodes = Object.fromEntries(
        [...progress].map(([nodeId, entry]) => [nodeId, {...entry, node_id: nodeId, prompt_id: promptId, display_node_id: nodeId, parent_node_id: null, real_node_id: nodeId}]),
      );
      this.deps.send('progress_state', {prompt_id: promptId, nodes}, clientId);
    };

    addMessage('execution_start', {prompt_id: promptId}, false);
    const keys = this.cacheKeys(prompt);
    const used = new Set(keys.values());
    for (const key of this.cache.keys()) if (!used.has(key)) this.cache.delete(key);
    const cached = (id: string): CacheEntry | undefined => {
      const key = keys.get(id);
      return key === undefined ? undefined : this.cache.get(key);
    };
    const currentOutputs = Object.keys(prompt).filter((id) => cached(id));
    addMessage('execution_cached', {nodes: currentOutputs, prompt_id: promptId}, false);

    const results = new Map<string, NodeValue[]>();
    const outputs: ExecutionOutcome['outputs'] = {};
    const meta: ExecutionOutcome['meta'] = {};
    const executed: string[] = [];
    const list = new ExecutionList(prompt, (id) => cached(id) !== undefined, (id) => nodeDef(prompt[id]?.class_type ?? '')?.outputNode === true);
    for (const id of job.outputs) list.addNode(id);
    let success = true;
    for (let id = list.next(); id !== undefined; id = list.next()) {
      const node = prompt[id] as PromptGraph[string];
      const def = nodeDef(node.class_type);
      if (!def) throw new Error(`node ${id} has no class ${node.class_type} (validation let it through)`);
      const hit = cached(id);
      if (hit) {
        if (hit.ui) {
          outputs[id] = hit.ui;
          meta[id] = {node_id: id, display_node: id, parent_node: null, real_node_id: id};
        }
        if (clientId !== null) this.deps.send('executed', {node: id, display_node: id, output: hit.ui ?? null, prompt_id: promptId}, clientId);
        sendProgressState(id, 'finished', 1, 1);
        list.complete(id);
        continue;
      }
      sendProgressState(id, 'running', 0, 1);
      if (clientId !== null) {
        this.lastNodeId = id;
        this.deps.send('executing', {node: id, display_node: id, prompt_id: promptId}, clientId);
      }
      const inputs = this.resolveInputs(node, results, cached);
      try {
        this.throwIfInterrupted();
        if (failure && (failure.node === undefined || failure.node === id || failure.node === node.class_type)) {
          throw new NodeError(failure.exceptionType ?? 'RuntimeError', failure.message ?? 'CUDA error: an illegal memory access was encountered');
        }
        const metadata = {node_id: id, prompt_id: promptId, display_node_id: id, parent_node_id: null, real_node_id: id};
        const context = this.runContext(id, job, epoch, (value, max, preview) => {
          this.throwIfInterrupted();
          sendProgressState(id, 'running', value, max);
          this.deps.send('progress', {value, max, prompt_id: promptId, node: id}, clientId);
          // A latent preview follows its progress message, only with a --preview-method.
          const previewSize = this.deps.previewSize();
          if (preview && previewSize !== undefined) this.deps.sendImage(latentPreview(value, max, preview, previewSize), 'JPEG', metadata, clientId);
        }, (image) => this.deps.sendImage(image, 'PNG', metadata, clientId));
        const result = await def.run(inputs, context);
        this.checkEpoch(epoch);
        results.set(id, result.outputs);
        const key = keys.get(id);
        if (key !== undefined) this.cache.set(key, {outputs: result.outputs, ui: result.ui});
        if (result.ui) {
          outputs[id] = result.ui;
          meta[id] = {node_id: id, display_node: id, parent_node: null, real_node_id: id};
          if (clientId !== null) this.deps.send('executed', {node: id, display_node: id, output: result.ui, prompt_id: promptId}, clientId);
        }
      } catch (error) {
        this.checkEpoch(epoch);
        success = false;
        const base = {prompt_id: promptId, node_id: id, node_type: node.class_type, executed: [...executed]};
        if (error instanceof Interrupted) {
          addMessage('execution_interrupted', base, true);
        } else {
          const currentInputs = Object.fromEntries(Object.entries(inputs).map(([name, value]) => [name, [describeValue(value)]]));
          const {type, message} = failureMessage(error);
          addMessage('execution_error', {...base, exception_message: message, exception_type: type, traceback: nodeTraceback(node.class_type), current_inputs: currentInputs, current_outputs: currentOutputs}, false);
        }
        break;
      }
      sendProgressState(id, 'finished', progress.get(id)?.max ?? 1, progress.get(id)?.max ?? 1);
      executed.push(id);
      list.complete(id);
    }
    if (success) addMessage('execution_success', {prompt_id: promptId}, false);
    this.lastNodeId = null;
    return {success, outputs, meta, messages};
  }

  private throwIfInterrupted(): void {
    if (!this.interruptFlag) return;
    this.interruptFlag = false;
    throw new Interrupted('Processing interrupted');
  }

  private checkEpoch(epoch: number): void {
    if (epoch !== this.epoch) throw new Abandoned('the server restarted during the job');
  }

  private runContext(nodeId: string, job: ExecutorJob, epoch: number, onStep: (value: number, max: number, preview: {width: number; height: number} | undefined) => void, sendImage: (png: Buffer) => void): RunContext {
    const extra = job.extraData.extra_pnginfo;
    return {
      fs: this.deps.fs,
      nodeId,
      prompt: job.prompt,
      extraPngInfo: typeof extra === 'object' && extra !== null && !Array.isArray(extra) ? (extra as Record<string, unknown>) : undefined,
      // Every node's work is GPU time here, as the cost model counts a generation (gpu-speed.ts).
      work: async (simMs) => {
        await this.deps.clock.sleep(simMs * this.deps.gpuFactor);
        this.checkEpoch(epoch);
      },
      step: async (value, max, options) => onStep(value, max, options?.preview),
      sendImage,
      stepMs: (pixels, batch) => stepSimMs(pixels, batch),
      loadMs: (name, coldMs) => {
        if (this.loaded.has(name)) return 25;
        this.loaded.add(name);
        return coldMs;
      },
    };
  }

  /** Declared inputs with links replaced by the upstream outputs (from this run or the cache). */
  private resolveInputs(node: PromptGraph[string], results: Map<string, NodeValue[]>, cached: (id: string) => CacheEntry | undefined): Record<string, unknown> {
    const def = nodeDef(node.class_type);
    const names = [...Object.keys(def?.required ?? {}), ...Object.keys(def?.optional ?? {})];
    const inputs: Record<string, unknown> = {};
    for (const name of names) {
      if (!Object.hasOwn(node.inputs, name)) continue;
      const value = node.inputs[name];
      inputs[name] = isLink(value) ? (results.get(value[0]) ?? cached(value[0])?.outputs)?.[value[1]] : value;
    }
    return inputs;
  }

  /** The cache key of every node: class, IS_CHANGED, widget values and the ancestors' keys. */
  private cacheKeys(prompt: PromptGraph): Map<string, string> {
    const keys = new Map<string, string>();
    const visiting = new Set<string>();
    const keyOf = (id: string): string | undefined => {
      if (keys.has(id)) return keys.get(id);
      const node = prompt[id];
      const def = node && nodeDef(node.class_type);
      if (!node || !def || visiting.has(id)) return undefined;
      visiting.add(id);
      const parts: unknown[] = [node.class_type, def.isChanged?.(node.inputs, this.deps) ?? null];
      let cacheable = true;
      for (const name of Object.keys(node.inputs).sort()) {
        const value = node.inputs[name];
        if (!isLink(value)) {
          parts.push([name, value]);
          continue;
        }
        const ancestor = keyOf(value[0]);
        if (ancestor === undefined) cacheable = false;
        parts.push([name, ancestor, value[1]]);
      }
      visiting.delete(id);
      const key = cacheable ? createHash('sha256').update(JSON.stringify(parts)).digest('hex') : undefined;
      if (key !== undefined) keys.set(id, key);
      return key;
    };
    for (const id of Object.keys(prompt)) keyOf(id);
    return keys;
  }
}
