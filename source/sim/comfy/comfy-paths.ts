// Where the simulated ComfyUI keeps files in the instance's virtual fs (input/, output/, temp/ and
// models/ under /workspace/ComfyUI), with folder_paths' annotated names ('x.png [output]') and the
// mimetypes the server answers with. Used by the routes, the file handling and the nodes.
import type {VirtualFs} from '../virtual-fs.js';

export const COMFY_ROOT = '/workspace/ComfyUI';

export type FileType = 'input' | 'output' | 'temp';

export const TYPE_DIRS: Record<FileType, string> = {
  input: `${COMFY_ROOT}/input`,
  output: `${COMFY_ROOT}/output`,
  temp: `${COMFY_ROOT}/temp`,
};

export function isFileType(value: unknown): value is FileType {
  return value === 'input' || value === 'output' || value === 'temp';
}

/** folder_paths.annotated_filepath: 'x.png [output]' → output dir; no annotation → undefined dir. */
export function annotatedFilepath(name: string): {name: string; type?: FileType} {
  for (const type of ['output', 'input', 'temp'] as const) {
    if (name.endsWith(`[${type}]`)) return {name: name.slice(0, -(type.length + 3)), type};
  }
  return {name};
}

/** The absolute path LoadImage reads for its `image` value (input/ unless annotated). */
export function inputImagePath(value: string): string {
  const {name, type} = annotatedFilepath(value);
  return `${TYPE_DIRS[type ?? 'input']}/${name}`;
}

const MIME_TYPES: Record<string, string> = {
  '.png': 'image/png',
  '.apng': 'image/apng',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.gif': 'image/gif',
  '.bmp': 'image/bmp',
  '.tif': 'image/tiff',
  '.tiff': 'image/tiff',
  '.svg': 'image/svg+xml',
  '.mp4': 'video/mp4',
  '.webm': 'video/webm',
  '.mov': 'video/quicktime',
  '.mp3': 'audio/mpeg',
  '.wav': 'audio/x-wav',
  '.flac': 'audio/flac',
  '.json': 'application/json',
  '.txt': 'text/plain',
  '.html': 'text/html',
  '.htm': 'text/html',
  '.js': 'text/javascript',
  '.css': 'text/css',
};

/** Python's mimetypes.guess_type(name)[0], for the extensions that matter here. */
export function guessMimeType(name: string): string | undefined {
  const dot = name.lastIndexOf('.');
  return dot < 0 ? undefined : MIME_TYPES[name.slice(dot).toLowerCase()];
}

/** LoadImage's list: files directly in input/ whose mimetype is image/*, sorted. */
export function listInputImages(fs: VirtualFs): string[] {
  return (fs.list(TYPE_DIRS.input) ?? []).filter((name) => fs.stat(`${TYPE_DIRS.input}/${name}`)?.kind === 'file' && guessMimeType(name)?.startsWith('image/')).sort();
}
