// The simulated output nodes: SaveImage, PreviewImage and SaveAnimatedPNG write real PNG/APNG files
// into the virtual fs under ComfyUI's naming rules (folder_paths.get_save_image_path, §3.4) and
// return the `ui` that history and `executed` show. Called through node-catalogue.ts.
import {randomInt} from 'node:crypto';
import type {VirtualFs} from '../virtual-fs.js';
import {TYPE_DIRS, type FileType} from './comfy-paths.js';
import {NodeError, expectValue, type RunContext, type RunResult, type UiFile} from './node-types.js';
import {compressedRgb, encodeApng, encodePng, pythonJson, type PngText} from './png-writer.js';
import {pyStr} from './python-text.js';

const SAVE_MS_PER_FRAME = 40;

function substituteVars(prefix: string, width: number, height: number): string {
  if (!prefix.includes('%')) return prefix;
  const now = new Date();
  const two = (n: number): string => String(n).padStart(2, '0');
  return prefix
    .replaceAll('%width%', String(width))
    .replaceAll('%height%', String(height))
    .replaceAll('%year%', String(now.getFullYear()))
    .replaceAll('%month%', two(now.getMonth() + 1))
    .replaceAll('%day%', two(now.getDate()))
    .replaceAll('%hour%', two(now.getHours()))
    .replaceAll('%minute%', two(now.getMinutes()))
    .replaceAll('%second%', two(now.getSeconds()));
}

/** os.path.normpath for a relative prefix; undefined when it climbs out of its base. */
function normalizeRelative(path: string): string[] | undefined {
  const parts: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part !== '..') parts.push(part);
    else if (parts.length > 0) parts.pop();
    else return undefined;
  }
  return parts;
}

/** folder_paths.get_save_image_path: the folder, the file stem, the next counter and the subfolder. */
export function saveImagePath(fs: VirtualFs, type: FileType, prefix: string, width: number, height: number): {folder: string; stem: string; counter: number; subfolder: string} {
  const base = TYPE_DIRS[type];
  const resolved = substituteVars(prefix, width, height);
  const parts = prefix.startsWith('/') ? undefined : normalizeRelative(resolved);
  if (!parts) {
    throw new NodeError('Exception', `**** ERROR: Saving image outside the output folder is not allowed.\n full_output_folder: ${resolved}\n         output_dir: ${base}`);
  }
  const stem = parts.pop() ?? '';
  const subfolder = parts.join('/');
  const folder = subfolder ? `${base}/${subfolder}` : base;
  fs.mkdir(folder);
  let highest = 0;
  for (const name of fs.list(folder) ?? []) {
    if (name.slice(0, stem.length) !== stem || name[stem.length] !== '_') continue;
    const digits = Number.parseInt(name.slice(stem.length + 1).split('_')[0] ?? '', 10);
    highest = Math.max(highest, Number.isNaN(digits) ? 0 : digits);
  }
  return {folder, stem, counter: highest + 1, subfolder};
}

/** PngInfo of SaveImage: `prompt` then every extra_pnginfo key (the UI workflow), as JSON. */
function metadata(ctx: RunContext): PngText {
  return [['prompt', pythonJson(ctx.prompt)], ...Object.entries(ctx.extraPngInfo ?? {}).map(([key, value]): [string, string] => [key, pythonJson(value)])];
}

async function saveFrames(inputs: Record<string, unknown>, ctx: RunContext, type: FileType, prefix: string, compressLevel: number): Promise<RunResult> {
  const images = expectValue(inputs.images, 'IMAGE', 'images');
  const {folder, stem, counter, subfolder} = saveImagePath(ctx.fs, type, prefix, images.width, images.height);
  const text = metadata(ctx);
  const files: UiFile[] = [];
  for (const [batchNumber, frame] of images.frames.entries()) {
    await ctx.work(SAVE_MS_PER_FRAME);
    const filename = `${stem.replaceAll('%batch_num%', String(batchNumber))}_${String(counter + batchNumber).padStart(5, '0')}_.png`;
    ctx.fs.write(`${folder}/${filename}`, encodePng(frame, images.width, images.height, {compressLevel, text}));
    files.push({filename, subfolder, type});
  }
  return {outputs: [], ui: {images: files}};
}

export function saveImage(inputs: Record<string, unknown>, ctx: RunContext): Promise<RunResult> {
  return saveFrames(inputs, ctx, 'output', pyStr(inputs.filename_prefix), 4);
}

/** PreviewImage: temp/, prefix 'ComfyUI_temp_' + five random letters, fast compression. */
export function previewImage(inputs: Record<string, unknown>, ctx: RunContext): Promise<RunResult> {
  const letters = 'abcdefghijklmnopqrstupvxyz';
  const suffix = Array.from({length: 5}, () => letters[randomInt(letters.length)]).join('');
  return saveFrames(inputs, ctx, 'temp', `ComfyUI_temp_${suffix}`, 1);
}

/** SaveAnimatedPNG: one APNG of every frame, listed under `images` with `animated: [true]`. */
export async function saveAnimatedPng(inputs: Record<string, unknown>, ctx: RunContext): Promise<RunResult> {
  const images = expectValue(inputs.images, 'IMAGE', 'images');
  const {folder, stem, counter, subfolder} = saveImagePath(ctx.fs, 'output', pyStr(inputs.filename_prefix), images.width, images.height);
  const compressed: Buffer[] = [];
  for (const frame of images.frames) {
    await ctx.work(SAVE_MS_PER_FRAME);
    compressed.push(compressedRgb(frame, images.width, images.height, Number(inputs.compress_level)));
  }
  const filename = `${stem}_${String(counter).padStart(5, '0')}_.png`;
  const bytes = encodeApng(compressed, images.width, images.height, {fps: Number(inputs.fps), comf: metadata(ctx)});
  ctx.fs.write(`${folder}/${filename}`, bytes);
  return {outputs: [], ui: {images: [{filename, subfolder, type: 'output'}], animated: [true]}};
}
