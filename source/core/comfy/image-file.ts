// Checks that a job's input image is a real PNG, JPEG or WebP before anything is rented or
// uploaded: the format by its magic bytes (not its name), the size against a documented limit, and
// the file's structure decoded far enough to know it is whole — PNG chunks with their CRCs and the
// compressed pixel data inflated to the size the header promises; JPEG segments up to the end-of-
// image marker; WebP's RIFF container and its VP8/VP8L/VP8X header. Each problem is one sentence.
// Used by the validation use case (before renting), the generation queue and ComfyClient.uploadImage.
import {open, readFile} from 'node:fs/promises';
import {crc32, inflateSync} from 'node:zlib';
import {InputError} from '../errors.js';

export type ImageFormat = 'png' | 'jpeg' | 'webp';

export const IMAGE_EXTENSIONS: Record<ImageFormat, string> = {png: '.png', jpeg: '.jpg', webp: '.webp'};

/** ComfyUI's default upload limit (`--max-upload-size`, 100 MB) bounds what an instance accepts. */
export const MAX_INPUT_IMAGE_BYTES = 100 * 1024 * 1024;
/** ComfyUI's MAX_RESOLUTION: no node takes a larger side. */
export const MAX_INPUT_IMAGE_SIDE = 16_384;

export interface ImageInfo {
  format: ImageFormat;
  width: number;
  height: number;
  bytes: number;
}

const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** The image format of the bytes, or undefined when they are none of the three. */
export function imageFormatOf(head: Buffer): ImageFormat | undefined {
  if (head.subarray(0, 8).equals(PNG_MAGIC)) return 'png';
  if (head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return 'jpeg';
  if (head.toString('latin1', 0, 4) === 'RIFF' && head.toString('latin1', 8, 12) === 'WEBP') return 'webp';
  return undefined;
}

/** The file's image format, after the full check of inspectInputImage. */
export async function checkInputImage(path: string): Promise<ImageFormat> {
  return (await inspectInputImage(path)).format;
}

/** Reads and decodes the file far enough to know it is a whole image within the limits; else an InputError. */
export async function inspectInputImage(path: string): Promise<ImageInfo> {
  let bytes: number;
  let head: Buffer;
  try {
    const file = await open(path, 'r');
    try {
      const stats = await file.stat();
      if (stats.isDirectory()) throw Object.assign(new Error('is a folder'), {code: 'EISDIR'});
      bytes = stats.size;
      const {bytesRead, buffer} = await file.read(Buffer.alloc(12), 0, 12, 0);
      head = buffer.subarray(0, bytesRead);
    } finally {
      await file.close();
    }
  } catch (error) {
    throw readProblem(path, (error as NodeJS.ErrnoException).code);
  }
  const format = imageFormatOf(head);
  if (!format) throw new InputError(`The input image ${path} is not a PNG, JPEG or WebP file: convert it, or pick another image.`);
  if (bytes > MAX_INPUT_IMAGE_BYTES) {
    throw new InputError(`The input image ${path} is ${(bytes / 1024 / 1024).toFixed(0)} MB, over the ${MAX_INPUT_IMAGE_BYTES / 1024 / 1024} MB ComfyUI accepts: resize or recompress it.`);
  }
  let data: Buffer;
  try {
    data = await readFile(path);
  } catch (error) {
    throw readProblem(path, (error as NodeJS.ErrnoException).code);
  }
  const size = decoders[format](data);
  if (typeof size === 'string') throw new InputError(`The input image ${path} is a damaged ${format.toUpperCase()} file (${size}): export it again, or pick another image.`);
  if (size.width > MAX_INPUT_IMAGE_SIDE || size.height > MAX_INPUT_IMAGE_SIDE) {
    throw new InputError(`The input image ${path} is ${size.width}×${size.height}, larger than the ${MAX_INPUT_IMAGE_SIDE} pixels per side ComfyUI handles: resize it.`);
  }
  return {format, ...size, bytes};
}

type Size = {width: number; height: number};
const decoders: Record<ImageFormat, (data: Buffer) => Size | string> = {png: decodePng, jpeg: decodeJpeg, webp: decodeWebp};

/** Chunks with CRCs, IHDR first, IEND last, the IDAT stream inflating to exactly the promised rows. */
function decodePng(data: Buffer): Size | string {
  let offset = 8;
  let size: Size | undefined;
  let rowBytes = 0;
  const idat: Buffer[] = [];
  let ended = false;
  while (offset + 12 <= data.length) {
    const length = data.readUInt32BE(offset);
    const type = data.toString('latin1', offset + 4, offset + 8);
    if (offset + 12 + length > data.length) return `chunk ${type} is cut short`;
    const body = data.subarray(offset + 8, offset + 8 + length);
    if ((crc32(data.subarray(offset + 4, offset + 8 + length)) >>> 0) !== data.readUInt32BE(offset + 8 + length)) return `chunk ${type} fails its checksum`;
    if (!size && type !== 'IHDR') return 'it does not start with a header';
    if (type === 'IHDR') {
      if (length !== 13) return 'its header has the wrong length';
      size = {width: body.readUInt32BE(0), height: body.readUInt32BE(4)};
      const bitDepth = body[8]!;
      const channels = ({0: 1, 2: 3, 3: 1, 4: 2, 6: 4} as Record<number, number>)[body[9]!];
      if (!channels || ![1, 2, 4, 8, 16].includes(bitDepth)) return 'its header names an unknown colour type';
      if (body[12] !== 0) return 'it is interlaced, which this check does not decode';
      rowBytes = Math.ceil((size.width * channels * bitDepth) / 8);
    } else if (type === 'IDAT') idat.push(body);
    else if (type === 'IEND') {
      ended = true;
      break;
    }
    offset += 12 + length;
  }
  if (!size) return 'it has no header';
  if (!ended) return 'it ends before its last chunk';
  if (size.width === 0 || size.height === 0) return 'it is 0 pixels wide or tall';
  const expected = size.height * (rowBytes + 1);
  if (expected > 1024 * 1024 * 1024) return 'its pixel data would be over 1 GB';
  let pixels: Buffer;
  try {
    pixels = inflateSync(Buffer.concat(idat), {maxOutputLength: expected + 1});
  } catch {
    return 'its pixel data does not decompress';
  }
  return pixels.length === expected ? size : 'its pixel data does not match its size';
}

/** Marker segments from SOI to the first scan, a frame header with the size, and EOI at the end. */
function decodeJpeg(data: Buffer): Size | string {
  let offset = 2;
  let size: Size | undefined;
  while (offset + 4 <= data.length) {
    if (data[offset] !== 0xff) return 'its segments are out of step';
    const marker = data[offset + 1]!;
    if (marker === 0xff) {
      offset++;
      continue;
    }
    if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
      offset += 2;
      continue;
    }
    const length = data.readUInt16BE(offset + 2);
    if (length < 2 || offset + 2 + length > data.length) return 'a segment is cut short';
    const isFrame = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isFrame && length >= 7) size = {height: data.readUInt16BE(offset + 5), width: data.readUInt16BE(offset + 7)};
    if (marker === 0xda) break;
    offset += 2 + length;
  }
  if (!size) return 'it has no frame header';
  if (size.width === 0 || size.height === 0) return 'it is 0 pixels wide or tall';
  const tail = data.subarray(Math.max(0, data.length - 64));
  for (let index = tail.length - 2; index >= 0; index--) if (tail[index] === 0xff && tail[index + 1] === 0xd9) return size;
  return 'it ends before its end-of-image marker';
}

/** The RIFF length matches the file, and the first chunk is a VP8/VP8L/VP8X header with a size. */
function decodeWebp(data: Buffer): Size | string {
  if (data.length < 30) return 'it is too short';
  if (data.readUInt32LE(4) + 8 !== data.length && data.readUInt32LE(4) + 9 !== data.length) return 'its length field does not match the file';
  const chunk = data.toString('latin1', 12, 16);
  const body = data.subarray(20);
  if (chunk === 'VP8 ') {
    if (body[3] !== 0x9d || body[4] !== 0x01 || body[5] !== 0x2a) return 'its frame header is missing';
    return {width: body.readUInt16LE(6) & 0x3fff, height: body.readUInt16LE(8) & 0x3fff};
  }
  if (chunk === 'VP8L') {
    if (body[0] !== 0x2f) return 'its lossless header is missing';
    const bits = body.readUInt32LE(1);
    return {width: (bits & 0x3fff) + 1, height: ((bits >> 14) & 0x3fff) + 1};
  }
  if (chunk === 'VP8X') return {width: body.readUIntLE(4, 3) + 1, height: body.readUIntLE(7, 3) + 1};
  return `its first chunk is ${JSON.stringify(chunk)}, not an image`;
}

function readProblem(path: string, code: string | undefined): InputError {
  switch (code) {
    case 'ENOENT':
      return new InputError(`The input image ${path} does not exist: check the path.`);
    case 'EISDIR':
      return new InputError(`The input image ${path} is a folder: pass an image file.`);
    case 'EACCES':
    case 'EPERM':
      return new InputError(`The input image ${path} cannot be read (permission denied): fix its permissions.`);
    default:
      return new InputError(`The input image ${path} cannot be read (${code ?? 'unknown error'}): check the file.`);
  }
}
