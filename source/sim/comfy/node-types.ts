// The shapes of the simulated ComfyUI's node catalogue: input specs (as /object_info shows them),
// the values that flow along links, and what a node's run function gets and returns. Used by
// node-catalogue.ts, validate.ts, executor.ts and the node implementations.
import type {VirtualFs} from '../virtual-fs.js';

/** An RGBA8 batch: every frame is width × height × 4 bytes (IMAGE tensors are [B, H, W, C]). */
export interface ImageBatch {
  kind: 'IMAGE';
  width: number;
  height: number;
  frames: Buffer[];
  /** What the pixels came from, for current_inputs in execution_error. */
  origin: string;
}

export interface MaskBatch {
  kind: 'MASK';
  width: number;
  height: number;
  count: number;
}

/** One sampler pass over a latent: decoding applies them in order. */
export interface SamplerPass {
  seed: number;
  steps: number;
  cfg: number;
  denoise: number;
  sampler: string;
  positive: string;
  negative: string;
}

/** A latent is a recipe (pixels are only made by VAEDecode): size in pixels, frames, source, passes. */
export interface LatentBatch {
  kind: 'LATENT';
  width: number;
  height: number;
  batch: number;
  source?: ImageBatch;
  passes: SamplerPass[];
}

export interface Conditioning {
  kind: 'CONDITIONING';
  text: string;
}

/** A loaded model file (MODEL, CLIP, VAE, CLIP_VISION): the sim only needs its name. */
export interface ModelHandle<K extends 'MODEL' | 'CLIP' | 'VAE' | 'CLIP_VISION' = 'MODEL' | 'CLIP' | 'VAE' | 'CLIP_VISION'> {
  kind: K;
  name: string;
}

export interface ClipVisionOutput {
  kind: 'CLIP_VISION_OUTPUT';
  digest: string;
}

/** A value the simulator only carries along (SAMPLER, SIGMAS, NOISE, GUIDER, CONTROL_NET, VIDEO, …), with what later nodes read from it. */
export interface OpaqueValue {
  kind: 'OPAQUE';
  type: string;
  name: string;
  data?: Record<string, unknown>;
}

export type NodeValue =
  | OpaqueValue
  | ImageBatch
  | MaskBatch
  | LatentBatch
  | Conditioning
  | ModelHandle<'MODEL'>
  | ModelHandle<'CLIP'>
  | ModelHandle<'VAE'>
  | ModelHandle<'CLIP_VISION'>
  | ClipVisionOutput;

/** One file item in a node's UI output (history `outputs[id].images[]`). */
export interface UiFile {
  filename: string;
  subfolder: string;
  type: 'output' | 'temp' | 'input';
}

export interface UiOutput {
  images?: UiFile[];
  animated?: boolean[];
  /** SaveLatent's files. */
  latents?: UiFile[];
}

/** Options of a widget input, as /object_info shows them. */
export type InputOptions = Record<string, unknown> & {min?: number; max?: number | bigint; default?: unknown};

/** A widget or link input. COMBO lists are computed per request (model files, input images). */
export type InputSpec =
  | {type: 'INT' | 'FLOAT' | 'STRING' | 'BOOLEAN'; options?: InputOptions}
  | {type: 'COMBO'; choices: (env: NodeEnv) => string[]; options?: InputOptions}
  | {type: 'LINK'; linkType: string; options?: InputOptions};

export interface NodeEnv {
  fs: VirtualFs;
}

export interface RunContext extends NodeEnv {
  nodeId: string;
  /** The whole API prompt and extra_data.extra_pnginfo, for metadata in saved images. */
  prompt: Record<string, unknown>;
  extraPngInfo: Record<string, unknown> | undefined;
  /** Waits `simMs` of simulated GPU time (scaled by speed). */
  work(simMs: number): Promise<void>;
  /**
   * One step done (1-based); sends progress and may throw an interrupt. A sampler passes its latent's
   * image size as `preview`: the latent preview that follows has its aspect.
   */
  step(value: number, max: number, options?: {preview?: {width: number; height: number}}): Promise<void>;
  /** Sends a PNG to the job's client as a binary WebSocket frame (SaveImageWebsocket). */
  sendImage(png: Buffer): void;
  /** Simulated ms per sampler step for this many pixels (all frames). */
  stepMs(framePixels: number, batch: number): number;
  /** The model loader's load time: slow the first time a model is loaded. */
  loadMs(name: string, coldMs: number): number;
}

export interface RunResult {
  outputs: NodeValue[];
  ui?: UiOutput;
}

export interface NodeDef {
  displayName: string;
  category: string;
  description: string;
  pythonModule: string;
  required: Record<string, InputSpec>;
  optional?: Record<string, InputSpec>;
  hidden?: Record<string, string>;
  outputs: string[];
  outputNames?: string[];
  /** OUTPUT_TOOLTIPS, where the real node has them. */
  outputTooltips?: string[];
  outputNode?: boolean;
  /** Shown as `deprecated: true` in /object_info. */
  deprecated?: boolean;
  /** VALIDATE_INPUTS: the inputs it takes (their combo/range checks are skipped) and its verdict. */
  validate?: {inputs: string[]; check: (inputs: Record<string, unknown>, env: NodeEnv) => true | string};
  /** IS_CHANGED: extra cache-key material (LoadImage hashes the file). */
  isChanged?: (inputs: Record<string, unknown>, env: NodeEnv) => string;
  run: (inputs: Record<string, unknown>, ctx: RunContext) => Promise<RunResult>;
}

/** A node failure with Python's exception type, as execution_error reports it. */
export class NodeError extends Error {
  constructor(
    readonly exceptionType: string,
    message: string,
  ) {
    super(message);
  }
}

export function expectValue<K extends NodeValue['kind']>(value: unknown, kind: K, input: string): Extract<NodeValue, {kind: K}> {
  if (typeof value === 'object' && value !== null && (value as {kind?: unknown}).kind === kind) return value as Extract<NodeValue, {kind: K}>;
  throw new NodeError('TypeError', `${input}: expected a ${kind}`);
}
