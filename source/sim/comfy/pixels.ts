// Pixel work of the simulated nodes on RGBA8 frames: decoding an input file (PNG for real, anything
// else as a deterministic stand-in), scaling with ComfyUI's center crop, inverting, and "sampling"
// a latent into pixels that depend on the source, the seed and the prompt. Used by node-runs.ts.
import {createHash} from 'node:crypto';
import {PNG} from 'pngjs';
import {NodeError, type ImageBatch, type LatentBatch, type SamplerPass} from './node-types.js';

/** Above this many pixels (all frames) the simulated GPU runs out of memory, as a 24 GB card would. */
const MAX_GPU_PIXELS = 64 * 1024 * 1024;
const FALLBACK_SIZE = 512;

/** torch's CUDA OOM when a node would need more than the simulated card holds. */
export function ensureFitsOnGpu(pixels: number): void {
  if (pixels <= MAX_GPU_PIXELS) return;
  const gib = ((pixels * 64) / 2 ** 30).toFixed(2);
  throw new NodeError(
    'torch.OutOfMemoryError',
    `CUDA out of memory. Tried to allocate ${gib} GiB. GPU 0 has a total capacity of 23.99 GiB of which 15.87 GiB is free. ` +
      'Of the allocated memory 7.12 GiB is allocated by PyTorch, and 412.00 MiB is reserved by PyTorch but unallocated.',
  );
}

/** 32-bit FNV-1a of a string, to fold texts into seeds. */
export function fnv32(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return hash;
}

function mix(...parts: number[]): number {
  let hash = 0x9e3779b9;
  for (const part of parts) hash = Math.imul(hash ^ (part >>> 0), 0x85ebca6b) ^ (hash >>> 13);
  return hash >>> 0;
}

/** mulberry32: a tiny deterministic PRNG in [0, 1). */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** JPEG width and height from its SOF marker, when there is one. */
function jpegSize(bytes: Buffer): {width: number; height: number} | undefined {
  if (bytes[0] !== 0xff || bytes[1] !== 0xd8) return undefined;
  for (let at = 2; at + 9 < bytes.length; ) {
    if (bytes[at] !== 0xff) return undefined;
    const marker = bytes[at + 1] ?? 0;
    const length = bytes.readUInt16BE(at + 2);
    if (marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker)) {
      return {height: bytes.readUInt16BE(at + 5), width: bytes.readUInt16BE(at + 7)};
    }
    at += 2 + length;
  }
  return undefined;
}

/**
 * An input file as LoadImage would see it. PNGs are decoded for real; anything else (JPEG, WebP,
 * garbage) becomes a deterministic gradient derived from the file's bytes, at the JPEG's own size
 * when its header says it, else 512 × 512: the simulator has no JPEG decoder.
 */
export function decodeInputImage(bytes: Buffer, name: string): ImageBatch {
  try {
    const png = PNG.sync.read(bytes);
    return {kind: 'IMAGE', width: png.width, height: png.height, frames: [Buffer.from(png.data)], origin: name};
  } catch {
    const size = jpegSize(bytes);
    const width = size?.width || FALLBACK_SIZE;
    const height = size?.height || FALLBACK_SIZE;
    ensureFitsOnGpu(width * height);
    const digest = createHash('sha256').update(bytes).digest();
    const frame = Buffer.alloc(width * height * 4);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const along = (x + y) / Math.max(1, width + height - 2);
        const at = (y * width + x) * 4;
        for (let c = 0; c < 3; c++) frame[at + c] = Math.round((digest[c] ?? 0) * (1 - along) + (digest[c + 3] ?? 0) * along);
        frame[at + 3] = 255;
      }
    }
    return {kind: 'IMAGE', width, height, frames: [frame], origin: `${name} (not a PNG: stand-in pixels)`};
  }
}

/** A frame filled with one grey, the start of an empty latent. */
function greyFrame(width: number, height: number): Buffer {
  const frame = Buffer.alloc(width * height * 4, 128);
  for (let at = 3; at < frame.length; at += 4) frame[at] = 255;
  return frame;
}

function cropFrame(frame: Buffer, width: number, box: {x: number; y: number; w: number; h: number}): Buffer {
  const out = Buffer.alloc(box.w * box.h * 4);
  for (let y = 0; y < box.h; y++) frame.copy(out, y * box.w * 4, ((box.y + y) * width + box.x) * 4, ((box.y + y) * width + box.x + box.w) * 4);
  return out;
}

function resizeFrame(frame: Buffer, width: number, height: number, toWidth: number, toHeight: number, nearest: boolean): Buffer {
  if (width === toWidth && height === toHeight) return Buffer.from(frame);
  const out = Buffer.alloc(toWidth * toHeight * 4);
  const sx = width / toWidth;
  const sy = height / toHeight;
  for (let y = 0; y < toHeight; y++) {
    const fy = Math.min(height - 1, Math.max(0, (y + 0.5) * sy - 0.5));
    const y0 = nearest ? Math.min(height - 1, Math.floor((y + 0.5) * sy)) : Math.floor(fy);
    const y1 = Math.min(height - 1, y0 + 1);
    const wy = nearest ? 0 : fy - y0;
    for (let x = 0; x < toWidth; x++) {
      const fx = Math.min(width - 1, Math.max(0, (x + 0.5) * sx - 0.5));
      const x0 = nearest ? Math.min(width - 1, Math.floor((x + 0.5) * sx)) : Math.floor(fx);
      const x1 = Math.min(width - 1, x0 + 1);
      const wx = nearest ? 0 : fx - x0;
      const at = (y * toWidth + x) * 4;
      for (let c = 0; c < 4; c++) {
        const top = (frame[(y0 * width + x0) * 4 + c] ?? 0) * (1 - wx) + (frame[(y0 * width + x1) * 4 + c] ?? 0) * wx;
        const bottom = (frame[(y1 * width + x0) * 4 + c] ?? 0) * (1 - wx) + (frame[(y1 * width + x1) * 4 + c] ?? 0) * wx;
        out[at + c] = Math.round(top * (1 - wy) + bottom * wy);
      }
    }
  }
  return out;
}

/** comfy.utils.common_upscale: optional center crop to the new aspect ratio, then resize. */
export function scaleImage(image: ImageBatch, width: number, height: number, method: string, crop: 'disabled' | 'center'): ImageBatch {
  ensureFitsOnGpu(width * height * image.frames.length);
  let box = {x: 0, y: 0, w: image.width, h: image.height};
  if (crop === 'center') {
    const oldAspect = image.width / image.height;
    const newAspect = width / height;
    const x = oldAspect > newAspect ? Math.round((image.width - image.width * (newAspect / oldAspect)) / 2) : 0;
    const y = oldAspect < newAspect ? Math.round((image.height - image.height * (oldAspect / newAspect)) / 2) : 0;
    box = {x, y, w: image.width - 2 * x, h: image.height - 2 * y};
  }
  const frames = image.frames.map((frame) => {
    const cropped = box.w === image.width && box.h === image.height ? frame : cropFrame(frame, image.width, box);
    return resizeFrame(cropped, box.w, box.h, width, height, method === 'nearest-exact');
  });
  return {kind: 'IMAGE', width, height, frames, origin: image.origin};
}

/** VAEEncode keeps a centred crop whose sides are multiples of 8. */
export function cropToMultipleOf8(image: ImageBatch): ImageBatch {
  const width = Math.floor(image.width / 8) * 8;
  const height = Math.floor(image.height / 8) * 8;
  if (width === 0 || height === 0) throw new NodeError('RuntimeError', `the image is ${image.width}x${image.height}: VAE encoding needs at least 8x8 pixels`);
  if (width === image.width && height === image.height) return image;
  const box = {x: Math.floor((image.width % 8) / 2), y: Math.floor((image.height % 8) / 2), w: width, h: height};
  return {...image, width, height, frames: image.frames.map((frame) => cropFrame(frame, image.width, box))};
}

export function invertImage(image: ImageBatch): ImageBatch {
  const frames = image.frames.map((frame) => {
    const out = Buffer.from(frame);
    for (let at = 0; at < out.length; at += 4) {
      out[at] = 255 - (out[at] ?? 0);
      out[at + 1] = 255 - (out[at + 1] ?? 0);
      out[at + 2] = 255 - (out[at + 2] ?? 0);
    }
    return out;
  });
  return {...image, frames};
}

/** One sampler pass on a frame: a seed- and prompt-dependent tint, waves and noise, mixed in by denoise. */
function applyPass(frame: Buffer, width: number, height: number, pass: SamplerPass, frameIndex: number): void {
  const seedLo = pass.seed >>> 0;
  const seedHi = Math.floor(pass.seed / 4_294_967_296) >>> 0;
  const look = random(mix(seedLo, seedHi, fnv32(pass.positive), fnv32(pass.negative), fnv32(pass.sampler)));
  const noise = random(mix(seedLo, seedHi, frameIndex + 1));
  const tint = [look(), look(), look()].map((r) => (r - 0.5) * 120);
  const contrast = 0.75 + Math.min(pass.cfg, 30) / 60;
  const phase = look() * Math.PI * 2 + frameIndex * 0.35;
  const fx = (Math.PI * 2) / (width * (0.3 + look()));
  const fy = (Math.PI * 2) / (height * (0.3 + look()));
  const waveX = Float32Array.from({length: width}, (_, x) => 38 * Math.sin(x * fx + phase));
  const waveY = Float32Array.from({length: height}, (_, y) => 38 * Math.sin(y * fy + phase * 1.7));
  const weights = [1, -0.5, 0.5];
  const amount = Math.min(1, Math.max(0, pass.denoise));
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const at = (y * width + x) * 4;
      const grain = (noise() - 0.5) * 24;
      for (let c = 0; c < 3; c++) {
        const base = frame[at + c] ?? 0;
        const styled = (base - 128) * contrast + 128 + (tint[c] ?? 0) + (waveX[x] ?? 0) * (weights[c] ?? 0) + (waveY[y] ?? 0) * (weights[2 - c] ?? 0) + grain;
        frame[at + c] = Math.max(0, Math.min(255, Math.round(base + (styled - base) * amount)));
      }
      frame[at + 3] = 255;
    }
  }
}

/** The latent's source scaled to its size (VAEDecode renders frames from it), or undefined for an empty latent. */
export function fittedSource(latent: LatentBatch): ImageBatch | undefined {
  const {width, height, batch, source} = latent;
  ensureFitsOnGpu(width * height * batch);
  return source && (source.width !== width || source.height !== height) ? scaleImage(source, width, height, 'bilinear', 'center') : source;
}

/** VAEDecode of one frame: its source frame (or grey) with every sampler pass applied. */
export function renderFrame(latent: LatentBatch, fitted: ImageBatch | undefined, index: number): Buffer {
  const start = fitted?.frames[index % fitted.frames.length];
  const frame = start ? Buffer.from(start) : greyFrame(latent.width, latent.height);
  for (const pass of latent.passes) applyPass(frame, latent.width, latent.height, pass, index);
  return frame;
}
