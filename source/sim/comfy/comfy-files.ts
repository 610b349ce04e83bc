// Files in and out of the simulated ComfyUI: POST /upload/image (containment check, sha256 dedupe,
// ` (n)` suffixes, overwrite) and GET /view (annotated names, type, subfolder, 400/403/404, the
// rgb/a channels), on the instance's virtual fs. Called by comfy-routes.ts.
import {createHash} from 'node:crypto';
import {PNG} from 'pngjs';
import {normalizePath, type VirtualFs} from '../virtual-fs.js';
import {annotatedFilepath, guessMimeType, isFileType, TYPE_DIRS} from './comfy-paths.js';
import type {FormPart} from './multipart.js';

export interface FileAnswer {
  status: number;
  json?: unknown;
  body?: Buffer;
  headers?: Record<string, string>;
}

const DOWNLOAD_ONLY = new Set(['text/html', 'text/html-sandboxed', 'application/xhtml+xml', 'text/javascript', 'text/css']);

/** os.path.join: an absolute second part replaces the first. */
function joinPath(base: string, part: string): string {
  return part.startsWith('/') ? part : `${base}/${part}`;
}

/** os.path.commonpath((dir, path)) == dir, with `path` made absolute and normal. */
function isInside(dir: string, path: string): boolean {
  const clean = normalizePath(path);
  return clean === dir || clean.startsWith(`${dir}/`);
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** os.path.splitext: ('photo', '.png'); a leading dot is not an extension. */
function splitExt(name: string): [string, string] {
  const slash = name.lastIndexOf('/');
  const dot = name.lastIndexOf('.');
  let lead = slash + 1;
  while (name[lead] === '.') lead++;
  return dot > lead ? [name.slice(0, dot), name.slice(dot)] : [name, ''];
}

function field(parts: FormPart[], name: string): string | undefined {
  const part = parts.find((candidate) => candidate.name === name && !candidate.filename);
  return part?.data.toString('utf8');
}

/** server.py image_upload(); `save` turns the uploaded bytes into what is written (upload_mask's compositing). */
export function uploadImage(fs: VirtualFs, parts: FormPart[], save: (data: Buffer) => Buffer | FileAnswer = (data) => data): FileAnswer {
  // aiohttp keeps a part as a file only when its filename is not empty; otherwise `image` is plain
  // data: empty → 400, else `image.file` raises (500).
  const image = parts.find((part) => part.name === 'image');
  if (!image || (!image.filename && image.data.length === 0)) return {status: 400};
  if (!image.filename) return {status: 500};
  const type = field(parts, 'type') ?? 'input';
  if (!isFileType(type)) return {status: 500}; // UnboundLocalError in get_dir_by_type
  const uploadDir = TYPE_DIRS[type];
  const subfolder = field(parts, 'subfolder') ?? '';
  const overwrite = field(parts, 'overwrite');
  const folder = normalizePath(joinPath(uploadDir, subfolder || '.'));
  let filename = image.filename;
  let path = normalizePath(joinPath(folder, filename));
  if (!isInside(uploadDir, path)) return {status: 400};
  fs.mkdir(folder);
  let duplicate = false;
  if (overwrite !== 'true' && overwrite !== '1') {
    const [stem, ext] = splitExt(filename);
    for (let i = 1; fs.exists(path); i++) {
      const existing = fs.read(path);
      if (!existing) return {status: 500}; // a directory: open() fails
      if (sha256(existing) === sha256(image.data)) {
        duplicate = true;
        break;
      }
      filename = `${stem} (${i})${ext}`;
      path = normalizePath(joinPath(folder, filename));
    }
  }
  if (!duplicate) {
    const parent = path.slice(0, path.lastIndexOf('/')) || '/';
    if (fs.stat(parent)?.kind !== 'directory' || fs.stat(path)?.kind === 'directory') return {status: 500};
    const bytes = save(image.data);
    if (!Buffer.isBuffer(bytes)) return bytes;
    fs.write(path, bytes);
  }
  return {status: 200, json: {name: filename, subfolder, type}};
}

/** ?channel=rgb (no alpha) or a (the alpha channel alone) of a PNG, as PIL re-encodes it. */
function channelPng(bytes: Buffer, channel: 'rgb' | 'a'): Buffer {
  const png = PNG.sync.read(bytes);
  const out = new PNG({width: png.width, height: png.height});
  for (let at = 0; at < png.data.length; at += 4) {
    for (let c = 0; c < 3; c++) out.data[at + c] = channel === 'rgb' ? (png.data[at + c] ?? 0) : 0;
    out.data[at + 3] = channel === 'rgb' ? 255 : (png.data[at + 3] ?? 255);
  }
  return PNG.sync.write(out, channel === 'rgb' ? {colorType: 2} : {colorType: 6});
}

/** server.py view_image(). */
export function viewFile(fs: VirtualFs, query: URLSearchParams): FileAnswer {
  const requested = query.get('filename');
  if (requested === null) return {status: 404};
  const {name, type: annotated} = annotatedFilepath(requested);
  if (!name) return {status: 400};
  if (name.startsWith('/') || name.includes('..')) return {status: 400};
  const type = annotated ?? query.get('type') ?? 'output';
  if (!isFileType(type)) return {status: 400};
  let dir = TYPE_DIRS[type];
  const subfolder = query.get('subfolder');
  if (subfolder !== null) {
    const full = normalizePath(joinPath(dir, subfolder));
    if (!isInside(dir, full)) return {status: 403};
    dir = full;
  }
  const base = name.slice(name.lastIndexOf('/') + 1);
  const bytes = base ? fs.read(`${dir}/${base}`) : undefined;
  if (!bytes) return {status: 404};
  const disposition = `filename="${base}"`;
  const channel = query.get('channel') ?? 'rgba';
  if (channel === 'rgb' || channel === 'a') {
    try {
      return {status: 200, body: channelPng(bytes, channel), headers: {'Content-Type': 'image/png', 'Content-Disposition': disposition}};
    } catch {
      return {status: 500}; // PIL cannot open it
    }
  }
  let contentType = guessMimeType(base) ?? 'application/octet-stream';
  if (DOWNLOAD_ONLY.has(contentType)) contentType = 'application/octet-stream';
  return {status: 200, body: bytes, headers: {'Content-Type': contentType, 'Content-Disposition': disposition}};
}

/**
 * server.py upload_mask(): the uploaded image's alpha channel put onto the original named by
 * `original_ref` ({"filename", "subfolder", "type"}), saved like an upload. Sizes must match
 * (PIL's putalpha raises otherwise: 500).
 */
export function uploadMask(fs: VirtualFs, parts: FormPart[]): FileAnswer {
  let ref: unknown;
  try {
    ref = JSON.parse(field(parts, 'original_ref') ?? '');
  } catch {
    return {status: 500};
  }
  if (typeof ref !== 'object' || ref === null || typeof (ref as {filename?: unknown}).filename !== 'string') return {status: 500};
  const {filename, subfolder = '', type = 'output'} = ref as {filename: string; subfolder?: string; type?: string};
  if (filename.startsWith('/') || filename.includes('..') || !isFileType(type)) return {status: 400};
  const originalPath = normalizePath(`${TYPE_DIRS[type]}/${subfolder ? `${subfolder}/` : ''}${filename}`);
  if (!isInside(TYPE_DIRS[type], originalPath)) return {status: 400};
  const original = fs.read(originalPath);
  if (!original) return {status: 404};
  return uploadImage(fs, parts, (data) => {
    try {
      const base = PNG.sync.read(original);
      const mask = PNG.sync.read(data);
      if (mask.width !== base.width || mask.height !== base.height) return {status: 500};
      for (let at = 3; at < base.data.length; at += 4) base.data[at] = mask.data[at] ?? 255;
      return PNG.sync.write(base, {colorType: 6});
    } catch {
      return {status: 500};
    }
  });
}
