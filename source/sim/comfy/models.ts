// The model folders of the simulated ComfyUI (folder_paths.py: names, directories, extensions) over
// the instance's virtual fs, and the files the boot's downloads leave there: when the replayed wget
// reaches 100% a small placeholder safetensors appears in the folder it downloaded to, and its bytes
// are reported for the instance's bandwidth bill (at its real size, core/comfy/model-sizes.ts, so the
// bill counts what the cost model counts).
// Used by comfy-server.ts (GET /models, /embeddings) and node-catalogue.ts (combo lists).
import {MODEL_BYTES} from '../../core/comfy/model-sizes.js';
import type {FsChange, VirtualFile, VirtualFs} from '../virtual-fs.js';
import {COMFY_ROOT} from './comfy-paths.js';
const MODELS = `${COMFY_ROOT}/models`;
const PT_EXTENSIONS = ['.ckpt', '.pt', '.pt2', '.bin', '.pth', '.safetensors', '.pkl', '.sft'];
/** The provisioning output with wget's bars, as the boot replay writes it. */
const DOWNLOAD_LOG = '/var/log/onstart.log';

/** folder_paths.folder_names_and_paths of ComfyUI 0.3.64, in its order (GET /models lists the keys). */
const MODEL_FOLDERS: ReadonlyArray<[string, string[], string[] | 'any']> = [
  ['checkpoints', [`${MODELS}/checkpoints`], PT_EXTENSIONS],
  ['configs', [`${MODELS}/configs`], ['.yaml']],
  ['loras', [`${MODELS}/loras`], PT_EXTENSIONS],
  ['vae', [`${MODELS}/vae`], PT_EXTENSIONS],
  ['text_encoders', [`${MODELS}/text_encoders`, `${MODELS}/clip`], PT_EXTENSIONS],
  ['diffusion_models', [`${MODELS}/unet`, `${MODELS}/diffusion_models`], PT_EXTENSIONS],
  ['clip_vision', [`${MODELS}/clip_vision`], PT_EXTENSIONS],
  ['style_models', [`${MODELS}/style_models`], PT_EXTENSIONS],
  ['embeddings', [`${MODELS}/embeddings`], PT_EXTENSIONS],
  ['diffusers', [`${MODELS}/diffusers`], ['folder']],
  ['vae_approx', [`${MODELS}/vae_approx`], PT_EXTENSIONS],
  ['controlnet', [`${MODELS}/controlnet`, `${MODELS}/t2i_adapter`], PT_EXTENSIONS],
  ['gligen', [`${MODELS}/gligen`], PT_EXTENSIONS],
  ['upscale_models', [`${MODELS}/upscale_models`], PT_EXTENSIONS],
  ['custom_nodes', [`${COMFY_ROOT}/custom_nodes`], 'any'],
  ['hypernetworks', [`${MODELS}/hypernetworks`], PT_EXTENSIONS],
  ['photomaker', [`${MODELS}/photomaker`], PT_EXTENSIONS],
  ['classifiers', [`${MODELS}/classifiers`], ['']],
  ['model_patches', [`${MODELS}/model_patches`], PT_EXTENSIONS],
  ['audio_encoders', [`${MODELS}/audio_encoders`], PT_EXTENSIONS],
];

export function modelFolderNames(): string[] {
  return MODEL_FOLDERS.map(([name]) => name);
}

/** Every file under `dir`, as paths relative to it ('sub/x.safetensors'). */
function filesUnder(fs: VirtualFs, dir: string, prefix = ''): string[] {
  const found: string[] = [];
  for (const name of fs.list(dir) ?? []) {
    const path = `${dir}/${name}`;
    if (fs.stat(path)?.kind === 'directory') found.push(...filesUnder(fs, path, `${prefix}${name}/`));
    else found.push(`${prefix}${name}`);
  }
  return found;
}

function extensionOf(path: string): string {
  const base = path.slice(path.lastIndexOf('/') + 1);
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(dot).toLowerCase() : '';
}

/** folder_paths.get_filename_list: sorted relative paths, or undefined for an unknown folder name. */
export function listModels(fs: VirtualFs, folder: string): string[] | undefined {
  const entry = MODEL_FOLDERS.find(([name]) => name === folder);
  if (!entry) return undefined;
  const [, dirs, extensions] = entry;
  const files = new Set(dirs.flatMap((dir) => filesUnder(fs, dir)));
  return [...files].filter((file) => extensions === 'any' || extensions.includes(extensionOf(file))).sort();
}

/** comfy.utils.safetensors_header's __metadata__ of models/<folder>/<file>, or undefined (404). */
export function safetensorsMetadata(fs: VirtualFs, folder: string, filename: string): Record<string, unknown> | undefined {
  const entry = MODEL_FOLDERS.find(([name]) => name === folder);
  if (!entry || !(listModels(fs, folder) ?? []).includes(filename)) return undefined;
  const bytes = entry[1].map((dir) => fs.read(`${dir}/${filename}`)).find((found) => found !== undefined);
  if (!bytes || bytes.length < 8) return undefined;
  const length = Number(bytes.readBigUInt64LE(0));
  if (length > 1024 * 1024 || 8 + length > bytes.length) return undefined;
  try {
    const header = JSON.parse(bytes.subarray(8, 8 + length).toString('utf8')) as {__metadata__?: Record<string, unknown>};
    return header.__metadata__;
  } catch {
    return undefined;
  }
}

/** A valid, tensor-free safetensors file standing in for a multi-GB download. */
export function placeholderSafetensors(name: string): Buffer {
  let header = JSON.stringify({__metadata__: {'modelspec.title': name, 'vastdeck.sim': 'placeholder for a downloaded model'}});
  header += ' '.repeat((8 - (header.length % 8)) % 8);
  const size = Buffer.alloc(8);
  size.writeBigUInt64LE(BigInt(header.length));
  return Buffer.concat([size, Buffer.from(header)]);
}

const WGET_UNITS: Readonly<Record<string, number>> = {'': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4};

/** A wget bar line: the file, its percent, and the bytes it shows as done (binary units). */
function wgetBar(line: string): {file: string; pct: number; bytes: number} | undefined {
  const bar = /^(\S+)\s+(\d+)%\[[^\]]*\]\s+([\d.]+)([KMGT]?)(?:\s|$)/.exec(line);
  if (!bar) return undefined;
  const [, file = '', pct = '0', size = '0', unit = ''] = bar;
  const done = Number(pct) === 100 ? MODEL_BYTES[file] : undefined;
  return {file, pct: Number(pct), bytes: done ?? Math.round(Number(size) * (WGET_UNITS[unit] ?? 1))};
}

/** vastdeck's provision.sh progress and done lines: the bytes of one file so far. */
function contractBytes(line: string): {file: string; bytes: number} | undefined {
  const event = /^\[vastdeck\] download (?:done )?file=(\S+) bytes=(\d+)(?:\s|$)/.exec(line.trim());
  return event ? {file: event[1]!, bytes: Number(event[2])} : undefined;
}

/**
 * Follows the boot's provisioning output: `Downloading N model(s) to <dir>...` names the folder,
 * a wget bar at `100%[` means that file is complete. `onBytes` hears each file's bytes so far at
 * every bar redraw or vastdeck progress line, as they arrive (Vast bills bandwidth as it flows;
 * the simulator's granularity is the progress line). Returns the unsubscribe function.
 */
export function watchModelDownloads(fs: VirtualFs, onBytes?: (file: string, bytes: number) => void): () => void {
  let file: VirtualFile | undefined;
  let readUpTo = 0;
  let partial = '';
  let folder: string | undefined;
  const consume = (): void => {
    if (!file) return;
    partial += file.read(readUpTo).toString('utf8');
    readUpTo = file.sizeBytes;
    const lines = partial.split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      const target = /^Downloading \d+ model\(s\) to (\/\S+?)\.\.\.$/.exec(line.trim());
      if (target?.[1]) folder = target[1];
      const bar = wgetBar(line);
      const progress = bar ?? contractBytes(line);
      if (progress) onBytes?.(progress.file, progress.bytes);
      if (bar?.pct === 100 && folder && !fs.exists(`${folder}/${bar.file}`)) fs.write(`${folder}/${bar.file}`, placeholderSafetensors(bar.file));
    }
  };
  const follow = (change: FsChange): void => {
    if (change.path !== DOWNLOAD_LOG) return;
    if (change.file !== file || change.kind === 'truncate') {
      file = change.file;
      readUpTo = 0;
      partial = '';
    }
    if (change.kind !== 'remove') consume();
  };
  file = fs.open(DOWNLOAD_LOG);
  consume();
  return fs.watch(follow);
}
