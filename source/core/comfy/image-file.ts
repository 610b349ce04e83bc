// Checks that a job's input image is a real PNG, JPEG or WebP (by its magic bytes, not its name)
// before anything is uploaded, so a wrong path fails early with one clear sentence.
// Used by ComfyClient.uploadImage and by the generation queue's early checks.
import {open} from 'node:fs/promises';
import {InputError} from '../errors.js';

export type ImageFormat = 'png' | 'jpeg' | 'webp';

export const IMAGE_EXTENSIONS: Record<ImageFormat, string> = {png: '.png', jpeg: '.jpg', webp: '.webp'};

const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** The image format of the bytes, or undefined when they are none of the three. */
export function imageFormatOf(head: Buffer): ImageFormat | undefined {
  if (head.subarray(0, 8).equals(PNG_MAGIC)) return 'png';
  if (head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return 'jpeg';
  if (head.toString('latin1', 0, 4) === 'RIFF' && head.toString('latin1', 8, 12) === 'WEBP') return 'webp';
  return undefined;
}

/** The file's image format; a missing, unreadable or non-image file is an InputError. */
export async function checkInputImage(path: string): Promise<ImageFormat> {
  let head: Buffer;
  try {
    const file = await open(path, 'r');
    try {
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
  return format;
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
