// What each non-saving simulated node does when it runs: loaders hand out named models (slow on
// first load), LoadImage reads the uploaded file, latents carry a recipe that KSampler extends (with
// one progress step per sampler step) and VAEDecode renders. Called through node-catalogue.ts.
import {createHash} from 'node:crypto';
import {inputImagePath} from './comfy-paths.js';
import {NodeError, expectValue, type ImageBatch, type LatentBatch, type RunContext, type RunResult} from './node-types.js';
import {cropToMultipleOf8, decodeInputImage, ensureFitsOnGpu, fittedSource, invertImage, renderFrame, scaleImage} from './pixels.js';
import {pyStr} from './python-text.js';

/** Simulated ms (before speed) of the cheap nodes, and of VAE work per megapixel. */
const LOAD_IMAGE_MS = 15;
const TEXT_ENCODE_MS = 35;
const IMAGE_OP_MS = 10;
const VAE_ENCODE_MS_PER_MP = 90;
const VAE_DECODE_MS_PER_MP = 120;

type Inputs = Record<string, unknown>;

function megapixels(width: number, height: number, frames: number): number {
  return (width * height * frames) / 1_000_000;
}

/** A model loader: `kinds` are its outputs, `coldMs` the first load from disk. */
export function loader(input: string, kinds: Array<'MODEL' | 'CLIP' | 'VAE' | 'CLIP_VISION'>, coldMs: number) {
  return async (inputs: Inputs, ctx: RunContext): Promise<RunResult> => {
    const name = pyStr(inputs[input]);
    await ctx.work(ctx.loadMs(name, coldMs));
    return {outputs: kinds.map((kind) => ({kind, name}))};
  };
}

export async function loadImage(inputs: Inputs, ctx: RunContext): Promise<RunResult> {
  const path = inputImagePath(pyStr(inputs.image));
  const bytes = ctx.fs.read(path);
  if (!bytes) throw new NodeError('FileNotFoundError', `[Errno 2] No such file or directory: '${path}'`);
  await ctx.work(LOAD_IMAGE_MS);
  const image = decodeInputImage(bytes, pyStr(inputs.image));
  return {outputs: [image, {kind: 'MASK', width: image.width, height: image.height, count: 1}]};
}

export async function clipTextEncode(inputs: Inputs, ctx: RunContext): Promise<RunResult> {
  expectValue(inputs.clip, 'CLIP', 'clip');
  await ctx.work(TEXT_ENCODE_MS);
  return {outputs: [{kind: 'CONDITIONING', text: pyStr(inputs.text)}]};
}

export async function emptyLatentImage(inputs: Inputs, ctx: RunContext): Promise<RunResult> {
  await ctx.work(1);
  const latent: LatentBatch = {kind: 'LATENT', width: Math.floor(Number(inputs.width) / 8) * 8, height: Math.floor(Number(inputs.height) / 8) * 8, batch: Number(inputs.batch_size), passes: []};
  return {outputs: [latent]};
}

export async function vaeEncode(inputs: Inputs, ctx: RunContext): Promise<RunResult> {
  expectValue(inputs.vae, 'VAE', 'vae');
  const pixels = cropToMultipleOf8(expectValue(inputs.pixels, 'IMAGE', 'pixels'));
  await ctx.work(VAE_ENCODE_MS_PER_MP * megapixels(pixels.width, pixels.height, pixels.frames.length));
  const latent: LatentBatch = {kind: 'LATENT', width: pixels.width, height: pixels.height, batch: pixels.frames.length, source: pixels, passes: []};
  return {outputs: [latent]};
}

/** Renders frame by frame, yielding between frames so a long video does not hold the event loop. */
export async function vaeDecode(inputs: Inputs, ctx: RunContext): Promise<RunResult> {
  expectValue(inputs.vae, 'VAE', 'vae');
  const latent = expectValue(inputs.samples, 'LATENT', 'samples');
  const fitted = fittedSource(latent);
  const frames: Buffer[] = [];
  for (let index = 0; index < latent.batch; index++) {
    await ctx.work(VAE_DECODE_MS_PER_MP * megapixels(latent.width, latent.height, 1));
    frames.push(renderFrame(latent, fitted, index));
  }
  return {outputs: [{kind: 'IMAGE', width: latent.width, height: latent.height, frames, origin: latent.source?.origin ?? 'empty latent'}]};
}

export async function kSampler(inputs: Inputs, ctx: RunContext): Promise<RunResult> {
  expectValue(inputs.model, 'MODEL', 'model');
  const latent = expectValue(inputs.latent_image, 'LATENT', 'latent_image');
  ensureFitsOnGpu(latent.width * latent.height * latent.batch);
  const steps = Number(inputs.steps);
  const stepMs = ctx.stepMs(latent.width * latent.height, latent.batch);
  for (let step = 1; step <= steps; step++) {
    await ctx.work(stepMs);
    await ctx.step(step, steps, {preview: {width: latent.width, height: latent.height}});
  }
  const pass = {
    seed: Number(inputs.seed),
    steps,
    cfg: Number(inputs.cfg),
    denoise: Number(inputs.denoise),
    sampler: `${pyStr(inputs.sampler_name)}/${pyStr(inputs.scheduler)}`,
    positive: expectValue(inputs.positive, 'CONDITIONING', 'positive').text,
    negative: expectValue(inputs.negative, 'CONDITIONING', 'negative').text,
  };
  return {outputs: [{...latent, passes: [...latent.passes, pass]}]};
}

export async function repeatLatentBatch(inputs: Inputs, ctx: RunContext): Promise<RunResult> {
  const latent = expectValue(inputs.samples, 'LATENT', 'samples');
  await ctx.work(1);
  return {outputs: [{...latent, batch: latent.batch * Number(inputs.amount)}]};
}

export async function imageScale(inputs: Inputs, ctx: RunContext): Promise<RunResult> {
  const image = expectValue(inputs.image, 'IMAGE', 'image');
  let width = Number(inputs.width);
  let height = Number(inputs.height);
  await ctx.work(IMAGE_OP_MS);
  if (width === 0 && height === 0) return {outputs: [image]};
  if (width === 0) width = Math.max(1, Math.round((image.width * height) / image.height));
  if (height === 0) height = Math.max(1, Math.round((image.height * width) / image.width));
  return {outputs: [scaleImage(image, width, height, pyStr(inputs.upscale_method), inputs.crop === 'center' ? 'center' : 'disabled')]};
}

export async function imageInvert(inputs: Inputs, ctx: RunContext): Promise<RunResult> {
  await ctx.work(IMAGE_OP_MS);
  return {outputs: [invertImage(expectValue(inputs.image, 'IMAGE', 'image'))]};
}

export async function clipVisionEncode(inputs: Inputs, ctx: RunContext): Promise<RunResult> {
  expectValue(inputs.clip_vision, 'CLIP_VISION', 'clip_vision');
  const image = expectValue(inputs.image, 'IMAGE', 'image');
  await ctx.work(TEXT_ENCODE_MS);
  const digest = createHash('sha256').update(image.frames[0] ?? Buffer.alloc(0)).digest('hex');
  return {outputs: [{kind: 'CLIP_VISION_OUTPUT', digest}]};
}

/** WanImageToVideo: conditioning passes through; the latent holds length × batch frames from start_image. */
export async function wanImageToVideo(inputs: Inputs, ctx: RunContext): Promise<RunResult> {
  expectValue(inputs.vae, 'VAE', 'vae');
  const start: ImageBatch | undefined = inputs.start_image === undefined ? undefined : expectValue(inputs.start_image, 'IMAGE', 'start_image');
  await ctx.work(VAE_ENCODE_MS_PER_MP);
  const latent: LatentBatch = {
    kind: 'LATENT',
    width: Math.floor(Number(inputs.width) / 8) * 8,
    height: Math.floor(Number(inputs.height) / 8) * 8,
    batch: Number(inputs.length) * Number(inputs.batch_size),
    source: start,
    passes: [],
  };
  return {outputs: [expectValue(inputs.positive, 'CONDITIONING', 'positive'), expectValue(inputs.negative, 'CONDITIONING', 'negative'), latent]};
}
