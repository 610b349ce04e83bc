// Writes the PNG files the simulated save nodes produce: RGB PNGs with ComfyUI's `prompt`/`workflow`
// tEXt chunks (SaveImage, PreviewImage) and animated PNGs (acTL/fcTL/fdAT, SaveAnimatedPNG, with
// its private `comf` chunks). Chunks are assembled here with zlib; used by node-save.ts.
import {crc32, deflateSync} from 'node:zlib';

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(data, crc32(head.subarray(4))) >>> 0);
  return Buffer.concat([head, data, crc]);
}

function ihdr(width: number, height: number): Buffer {
  const data = Buffer.alloc(13);
  data.writeUInt32BE(width, 0);
  data.writeUInt32BE(height, 4);
  data[8] = 8; // bit depth
  data[9] = 2; // colour type: RGB (IMAGE tensors have no alpha)
  return chunk('IHDR', data);
}

/** JSON that is ASCII only, non-ASCII as \uXXXX, as Python's json.dumps writes it (it fits latin-1 chunks). */
export function pythonJson(value: unknown): string {
  return JSON.stringify(value).replace(/[\u0080-\uffff]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Deflated scanlines (filter byte 0) of an RGBA frame, alpha dropped: the image data of one frame. */
export function compressedRgb(frame: Buffer, width: number, height: number, level: number): Buffer {
  const stride = width * 3 + 1;
  const raw = Buffer.alloc(stride * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const from = (y * width + x) * 4;
      const to = y * stride + 1 + x * 3;
      raw[to] = frame[from] ?? 0;
      raw[to + 1] = frame[from + 1] ?? 0;
      raw[to + 2] = frame[from + 2] ?? 0;
    }
  }
  return deflateSync(raw, {level});
}

/** Metadata as PngInfo would hold it: [key, text] pairs. */
export type PngText = Array<[string, string]>;

export function encodePng(frame: Buffer, width: number, height: number, options: {compressLevel: number; text: PngText}): Buffer {
  const texts = options.text.map(([key, value]) => chunk('tEXt', Buffer.concat([Buffer.from(key, 'latin1'), Buffer.from([0]), Buffer.from(value, 'latin1')])));
  return Buffer.concat([SIGNATURE, ihdr(width, height), ...texts, chunk('IDAT', compressedRgb(frame, width, height, options.compressLevel)), chunk('IEND', Buffer.alloc(0))]);
}

function frameControl(sequence: number, width: number, height: number, delayMs: number): Buffer {
  const data = Buffer.alloc(26);
  data.writeUInt32BE(sequence, 0);
  data.writeUInt32BE(width, 4);
  data.writeUInt32BE(height, 8);
  // x and y offsets stay 0: every frame covers the canvas.
  data.writeUInt16BE(Math.min(65_535, Math.max(1, Math.round(delayMs))), 20);
  data.writeUInt16BE(1000, 22); // delay = num / 1000 s
  data[24] = 0; // dispose: none
  data[25] = 0; // blend: source
  return chunk('fcTL', data);
}

/**
 * An APNG as PIL writes for SaveAnimatedPNG from frames already compressed by compressedRgb(): acTL
 * before the first IDAT, the first frame is the default image, later frames in fdAT, loop forever,
 * `comf` metadata after the image data.
 */
export function encodeApng(frames: Buffer[], width: number, height: number, options: {fps: number; comf: PngText}): Buffer {
  const actl = Buffer.alloc(8);
  actl.writeUInt32BE(frames.length, 0);
  actl.writeUInt32BE(0, 4); // plays: 0 = forever
  const delayMs = Math.floor(1000 / options.fps);
  const parts = [SIGNATURE, ihdr(width, height), chunk('acTL', actl)];
  let sequence = 0;
  frames.forEach((data, index) => {
    parts.push(frameControl(sequence++, width, height, delayMs));
    if (index === 0) {
      parts.push(chunk('IDAT', data));
      return;
    }
    const numbered = Buffer.alloc(4 + data.length);
    numbered.writeUInt32BE(sequence++, 0);
    data.copy(numbered, 4);
    parts.push(chunk('fdAT', numbered));
  });
  for (const [key, value] of options.comf) parts.push(chunk('comf', Buffer.concat([Buffer.from(key, 'latin1'), Buffer.from([0]), Buffer.from(value, 'latin1')])));
  parts.push(chunk('IEND', Buffer.alloc(0)));
  return Buffer.concat(parts);
}
