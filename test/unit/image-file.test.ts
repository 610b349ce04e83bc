// The input-image check that runs before anything is rented: format by magic bytes, the documented
// size limits, and enough decoding to know the file is whole (PNG chunks + CRC + inflated pixel
// data, JPEG segments to the end-of-image marker, WebP's RIFF container and VP8/VP8L/VP8X header).
import {mkdtempSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {PNG} from 'pngjs';
import {describe, expect, it} from 'vitest';
import {inspectInputImage, MAX_INPUT_IMAGE_SIDE} from '../../source/core/comfy/image-file.js';

const dir = mkdtempSync(join(tmpdir(), 'vastdeck-image-'));
let count = 0;
function file(bytes: Buffer | string): string {
  const path = join(dir, `f${count++}`);
  writeFileSync(path, bytes);
  return path;
}

function png(width = 20, height = 10): Buffer {
  const image = new PNG({width, height});
  for (let index = 0; index < image.data.length; index++) image.data[index] = (index * 31) % 256;
  return PNG.sync.write(image);
}

/** A baseline JPEG's segment structure: SOI, APP0, DQT, SOF0 with the size, SOS, scan bytes, EOI. */
function jpeg(width: number, height: number, options: {eoi?: boolean} = {}): Buffer {
  const segment = (marker: number, body: number[]): number[] => [0xff, marker, (body.length + 2) >> 8, (body.length + 2) & 0xff, ...body];
  const bytes = [
    0xff, 0xd8,
    ...segment(0xe0, [0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0]),
    ...segment(0xdb, [0, ...new Array<number>(64).fill(1)]),
    ...segment(0xc0, [8, height >> 8, height & 0xff, width >> 8, width & 0xff, 1, 1, 0x11, 0]),
    ...segment(0xda, [1, 1, 0, 0, 63, 0]),
    0x12, 0x34, 0xff, 0x00, 0x56,
    ...(options.eoi === false ? [] : [0xff, 0xd9]),
  ];
  return Buffer.from(bytes);
}

/** A lossless WebP header (VP8L) for the given size. */
function webp(width: number, height: number): Buffer {
  const bits = ((width - 1) & 0x3fff) | (((height - 1) & 0x3fff) << 14);
  const payload = Buffer.alloc(10);
  payload[0] = 0x2f;
  payload.writeUInt32LE(bits, 1);
  const chunk = Buffer.concat([Buffer.from('VP8L'), Buffer.from([payload.length, 0, 0, 0]), payload]);
  const body = Buffer.concat([Buffer.from('WEBP'), chunk]);
  const head = Buffer.alloc(8);
  head.write('RIFF');
  head.writeUInt32LE(body.length, 4);
  return Buffer.concat([head, body]);
}

describe('inspectInputImage', () => {
  it('reads the size of a whole PNG, JPEG and WebP', async () => {
    expect(await inspectInputImage(file(png(20, 10)))).toMatchObject({format: 'png', width: 20, height: 10});
    expect(await inspectInputImage(file(jpeg(640, 480)))).toMatchObject({format: 'jpeg', width: 640, height: 480});
    expect(await inspectInputImage(file(webp(300, 200)))).toMatchObject({format: 'webp', width: 300, height: 200});
  });

  it('names a text file posing as an image', async () => {
    await expect(inspectInputImage(file('hello, I am text'))).rejects.toThrow(/is not a PNG, JPEG or WebP file/);
  });

  it('catches a truncated PNG, a flipped bit and pixel data that does not fit the header', async () => {
    const whole = png(40, 30);
    await expect(inspectInputImage(file(whole.subarray(0, whole.length - 20)))).rejects.toThrow(/damaged PNG file \(it ends before its last chunk|cut short/);
    const flipped = Buffer.from(whole);
    flipped[40] = flipped[40]! ^ 0x01;
    await expect(inspectInputImage(file(flipped))).rejects.toThrow(/damaged PNG file \(chunk \w+ fails its checksum\)/);
    // The header claims a taller image than the compressed rows hold (CRC recomputed so only the size lies).
    const taller = Buffer.from(whole);
    taller.writeUInt32BE(31, 20);
    const {crc32} = await import('node:zlib');
    taller.writeUInt32BE(crc32(taller.subarray(12, 29)) >>> 0, 29);
    await expect(inspectInputImage(file(taller))).rejects.toThrow(/its pixel data does not match its size/);
  });

  it('catches a JPEG cut before its end marker and a WebP whose length lies', async () => {
    await expect(inspectInputImage(file(jpeg(64, 64, {eoi: false})))).rejects.toThrow(/damaged JPEG file \(it ends before its end-of-image marker\)/);
    const lying = webp(10, 10);
    lying.writeUInt32LE(9999, 4);
    await expect(inspectInputImage(file(lying))).rejects.toThrow(/damaged WEBP file \(its length field does not match the file\)/);
  });

  it('refuses a side over ComfyUI’s limit and a file over the size limit, with the limit in the sentence', async () => {
    await expect(inspectInputImage(file(jpeg(MAX_INPUT_IMAGE_SIDE + 1, 100)))).rejects.toThrow(/larger than the 16384 pixels per side/);
    await expect(inspectInputImage(file(Buffer.concat([png(), Buffer.alloc(101 * 1024 * 1024)])))).rejects.toThrow(/over the 100 MB ComfyUI accepts/);
  });

  it('says what is wrong with a missing path or a folder', async () => {
    await expect(inspectInputImage(join(dir, 'nope.png'))).rejects.toThrow(/does not exist: check the path/);
    await expect(inspectInputImage(dir)).rejects.toThrow(/is a folder: pass an image file/);
  });
});
