// What most simulated nodes do when they run, without modelling their maths: hand each output the
// input of the same type (a LoRA returns the model it patched, a conditioning node its
// conditioning), make opaque handles for types the simulator only carries (SAMPLER, SIGMAS, NOISE,
// GUIDER, CONTROL_NET, VIDEO, …), and the few transforms a later node can see (latent sizes, image
// batches, sampler steps). Used by the node tables.
import {kSampler, loadImage} from './node-runs.js';
import {NodeError, expectValue, type ImageBatch, type LatentBatch, type NodeDef, type NodeValue, type OpaqueValue, type RunContext, type RunResult} from './node-types.js';
import {scaleImage} from './pixels.js';
import {pyStr} from './python-text.js';

type Inputs = Record<string, unknown>;
type Run = NodeDef['run'];

/** Simulated ms of a cheap node (before speed). */
const CHEAP_MS = 8;
const STRUCTURED = new Set(['IMAGE', 'MASK', 'LATENT', 'CONDITIONING', 'MODEL', 'CLIP', 'VAE', 'CLIP_VISION', 'CLIP_VISION_OUTPUT']);

function isValue(value: unknown): value is NodeValue {
  return typeof value === 'object' && value !== null && typeof (value as {kind?: unknown}).kind === 'string';
}

/** The first input carrying a value of this type. */
function inputOfType(inputs: Inputs, type: string): NodeValue | undefined {
  return Object.values(inputs).find((value): value is NodeValue => isValue(value) && (value.kind === type || (value.kind === 'OPAQUE' && value.type === type)));
}

export function opaque(type: string, name: string, data?: Record<string, unknown>): OpaqueValue {
  return {kind: 'OPAQUE', type, name, ...(data ? {data} : {})};
}

/** A value of `type` when no input has one: conditioning from the node's texts, a mask the size of its image. */
function freshValue(type: string, inputs: Inputs): NodeValue {
  if (type === 'CONDITIONING') {
    const texts = Object.values(inputs).filter((value): value is string => typeof value === 'string');
    return {kind: 'CONDITIONING', text: texts.join(' ')};
  }
  if (type === 'MASK') {
    const image = inputOfType(inputs, 'IMAGE') as ImageBatch | undefined;
    return {kind: 'MASK', width: image?.width ?? Number(inputs.width ?? 512), height: image?.height ?? Number(inputs.height ?? 512), count: image?.frames.length ?? 1};
  }
  if (STRUCTURED.has(type)) throw new NodeError('RuntimeError', `no ${type} to pass on`);
  return opaque(type, type);
}

/** Each output gets the input of its type (or a fresh one). */
export function passThrough(outputs: readonly string[], workMs = CHEAP_MS): Run {
  return async (inputs, ctx) => {
    await ctx.work(workMs);
    return {outputs: outputs.map((type) => inputOfType(inputs, type) ?? freshValue(type, inputs))};
  };
}

/** A loader of something the simulator only carries (ControlNet, upscale model, style model, …). */
export function opaqueLoader(input: string, type: string, coldMs: number): Run {
  return async (inputs, ctx) => {
    const name = pyStr(inputs[input]);
    await ctx.work(ctx.loadMs(name, coldMs));
    return {outputs: [opaque(type, name)]};
  };
}

/** A handle made from the node's widgets (KSamplerSelect's SAMPLER, RandomNoise's NOISE, BasicScheduler's SIGMAS). */
export function handle(type: string, name: (inputs: Inputs) => string, data: (inputs: Inputs) => Record<string, unknown> = (inputs) => inputs): Run {
  return async (inputs, ctx) => {
    await ctx.work(1);
    const widgets = Object.fromEntries(Object.entries(data(inputs)).filter(([, value]) => !isValue(value)));
    return {outputs: [opaque(type, name(inputs), widgets)]};
  };
}

/** A latent whose size or frame count changes (upscale, crop, empty video latents). */
export function latentSized(size: (inputs: Inputs, latent: LatentBatch | undefined) => {width: number; height: number; batch: number}): Run {
  return async (inputs, ctx) => {
    await ctx.work(CHEAP_MS);
    const source = inputOfType(inputs, 'LATENT') as LatentBatch | undefined;
    const {width, height, batch} = size(inputs, source);
    const latent: LatentBatch = {kind: 'LATENT', passes: [], ...source, width: Math.floor(width / 8) * 8, height: Math.floor(height / 8) * 8, batch};
    return {outputs: [latent]};
  };
}

/** An empty latent from width/height/batch_size (and length for video latents). */
export function emptyLatent(frames: (inputs: Inputs) => number = () => 1): Run {
  return latentSized((inputs) => ({width: Number(inputs.width), height: Number(inputs.height), batch: frames(inputs) * Number(inputs.batch_size ?? 1)}));
}

/** An image scaled by a factor (ImageScaleBy, an upscale model ×4). */
export function imageScaledBy(factor: (inputs: Inputs) => number, method: (inputs: Inputs) => string = () => 'bicubic'): Run {
  return async (inputs, ctx) => {
    const image = expectValue(inputs.image, 'IMAGE', 'image');
    await ctx.work(CHEAP_MS * 4);
    const scale = factor(inputs);
    return {outputs: [scaleImage(image, Math.max(1, Math.round(image.width * scale)), Math.max(1, Math.round(image.height * scale)), method(inputs), 'disabled')]};
  };
}

/** Two images (or masks) in one batch; the second is scaled to the first, as ImageBatch does. */
export async function imageBatch(inputs: Inputs, ctx: RunContext): Promise<RunResult> {
  const first = expectValue(inputs.image1, 'IMAGE', 'image1');
  const second = expectValue(inputs.image2, 'IMAGE', 'image2');
  await ctx.work(CHEAP_MS);
  const fitted = second.width === first.width && second.height === first.height ? second : scaleImage(second, first.width, first.height, 'bilinear', 'center');
  return {outputs: [{...first, frames: [...first.frames, ...fitted.frames]}]};
}

/** EmptyImage: a batch of one colour. */
export async function emptyImage(inputs: Inputs, ctx: RunContext): Promise<RunResult> {
  const width = Number(inputs.width);
  const height = Number(inputs.height);
  const color = Number(inputs.color);
  await ctx.work(CHEAP_MS);
  const frame = Buffer.alloc(width * height * 4);
  for (let at = 0; at < width * height; at++) frame.set([(color >> 16) & 255, (color >> 8) & 255, color & 255, 255], at * 4);
  const image: ImageBatch = {kind: 'IMAGE', width, height, frames: Array.from({length: Number(inputs.batch_size)}, () => Buffer.from(frame)), origin: `a ${width}×${height} colour #${color.toString(16).padStart(6, '0')}`};
  return {outputs: [image]};
}

/** LoadImageMask: the chosen channel of an input image as a MASK (LoadImage's second output). */
export async function loadImageMask(inputs: Inputs, ctx: RunContext): Promise<RunResult> {
  return {outputs: [(await loadImage(inputs, ctx)).outputs[1]!]};
}

/** A sampler that is not KSampler, mapped onto it: its steps, seed and denoise. */
export function samplerLike(map: (inputs: Inputs) => Inputs): Run {
  return async (inputs, ctx) => {
    const result = await kSampler(map(inputs), ctx);
    const latent = result.outputs[0]!;
    return {outputs: [latent, latent]};
  };
}

/** KSamplerAdvanced: noise_seed, and denoise from the steps it runs. */
export function advancedSampling(inputs: Inputs): Inputs {
  const steps = Number(inputs.steps);
  const start = Math.min(Number(inputs.start_at_step), steps);
  const end = Math.min(Number(inputs.end_at_step), steps);
  return {...inputs, seed: inputs.noise_seed, steps: Math.max(1, end - start), denoise: steps > 0 ? Math.max(0, end - start) / steps : 1};
}

/** SamplerCustom(Advanced): seed from NOISE, steps/denoise from SIGMAS, cfg and conditioning from the guider or widgets. */
export function customSampling(inputs: Inputs): Inputs {
  const data = (type: string): Record<string, unknown> => (inputOfType(inputs, type) as OpaqueValue | undefined)?.data ?? {};
  const guider = data('GUIDER');
  const sigmas = data('SIGMAS');
  const empty = {kind: 'CONDITIONING', text: ''};
  return {
    model: inputs.model ?? guider.model ?? {kind: 'MODEL', name: 'guider'},
    seed: inputs.noise_seed ?? data('NOISE').noise_seed ?? 0,
    steps: sigmas.steps ?? 20,
    cfg: inputs.cfg ?? guider.cfg ?? 1,
    sampler_name: data('SAMPLER').sampler_name ?? 'euler',
    scheduler: sigmas.scheduler ?? 'simple',
    positive: inputs.positive ?? guider.positive ?? guider.conditioning ?? empty,
    negative: inputs.negative ?? guider.negative ?? empty,
    latent_image: inputs.latent_image,
    denoise: sigmas.denoise ?? 1,
  };
}

/** A guider keeps its model and conditioning for the sampler (they are values, not widgets). */
export async function guider(inputs: Inputs, ctx: RunContext): Promise<RunResult> {
  await ctx.work(1);
  return {outputs: [opaque('GUIDER', 'guider', {...inputs})]};
}
