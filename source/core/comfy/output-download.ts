// Downloads one output file (GET /view) into a local folder: streamed to a temp file, then linked
// under a free name so an existing file is never overwritten. The local name comes from the
// server, so it is checked: anything but a plain file name is refused. Used by ComfyClient.download.
import {randomBytes} from 'node:crypto';
import {createWriteStream} from 'node:fs';
import {link, mkdir, rename, rm, stat} from 'node:fs/promises';
import {extname, join} from 'node:path';
import {pipeline} from 'node:stream/promises';
import {RequestError} from 'got';
import {LocalFileError, VastdeckError} from '../errors.js';
import {comfyStatusError} from './comfy-errors.js';
import type {ComfyHttp} from './comfy-http.js';
import type {OutputFile} from './types.js';

const MAX_NAME_BYTES = 255;
const MAX_SUFFIX = 10_000;

/** ComfyUI named an output with something other than a plain file name: the workflow's doing, not the instance's. */
export class UnsafeOutputNameError extends VastdeckError {
  constructor(message: string) {
    super('bad-answer', message);
    this.name = 'UnsafeOutputNameError';
  }
}

/** The server's file name if it is a plain, safe file name; otherwise a one-sentence error. */
export function localOutputName(filename: string): string {
  const plain =
    filename !== '' &&
    filename !== '.' &&
    filename !== '..' &&
    !/[/\\]/.test(filename) &&
    !/[\u0000-\u001f\u007f]/.test(filename) &&
    Buffer.byteLength(filename) <= MAX_NAME_BYTES - 16;
  if (!plain) {
    const shown = JSON.stringify(filename.slice(0, 80));
    throw new UnsafeOutputNameError(`ComfyUI listed an output named ${shown}, which is not a plain file name, so vastdeck did not save it: check the workflow's filename_prefix.`);
  }
  return filename;
}

export async function downloadOutput(
  http: ComfyHttp,
  file: OutputFile,
  destDir: string,
  onBytes?: (doneBytes: number, totalBytes?: number) => void,
): Promise<string> {
  const name = localOutputName(file.filename);
  const temporary = join(destDir, `.${name}.${randomBytes(6).toString('hex')}.part`);
  const source = http.stream('view', {filename: file.filename, subfolder: file.subfolder, type: file.type});
  source.once('response', (response: {statusCode: number}) => {
    if (response.statusCode !== 200) source.destroy(comfyStatusError(http.baseUrl, 'GET /view', response.statusCode, ''));
  });
  if (onBytes) source.on('downloadProgress', (progress: {transferred: number; total?: number}) => onBytes(progress.transferred, progress.total));
  try {
    await mkdir(destDir, {recursive: true});
    await pipeline(source, createWriteStream(temporary, {flags: 'wx', mode: 0o644}));
    return await claimFreeName(temporary, destDir, name);
  } catch (error) {
    source.destroy();
    await rm(temporary, {force: true});
    if (error instanceof VastdeckError || error instanceof RequestError) throw http.networkError(error);
    const code = (error as NodeJS.ErrnoException).code ?? 'unknown error';
    throw new LocalFileError(`vastdeck cannot write outputs into ${destDir} (${code}): free some space or fix the folder's permissions, then press r (or run again) to fetch them — they stay on the instance.`, error);
  }
}

/** Moves `temporary` to `name`, or `stem-1.ext`, `stem-2.ext`, … whichever does not exist yet. */
async function claimFreeName(temporary: string, destDir: string, name: string): Promise<string> {
  const extension = extname(name);
  const stem = name.slice(0, name.length - extension.length);
  for (let suffix = 0; suffix < MAX_SUFFIX; suffix++) {
    const candidate = join(destDir, suffix === 0 ? name : `${stem}-${suffix}${extension}`);
    try {
      // link() fails with EEXIST instead of replacing: no other writer can be overwritten.
      await link(temporary, candidate);
      await rm(temporary);
      return candidate;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') continue;
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS') throw error;
      // A filesystem without hard links: check, then rename (not atomic, but never over a file we saw).
      if (await exists(candidate)) continue;
      await rename(temporary, candidate);
      return candidate;
    }
  }
  throw new VastdeckError('internal', `${destDir} already holds ${MAX_SUFFIX} files named like ${name}: empty the folder.`);
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
