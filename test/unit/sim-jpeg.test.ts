// The simulated ComfyUI's baseline JPEG encoder (latent previews, source/sim/comfy/jpeg.ts): its
// files decode, with a reference decoder written from T.81 (test/helpers/jpeg-decoder.ts), to the
// picture that went in; they carry the standard tables at the asked quality and 4:2:0 chroma; and
// vastdeck's own input-image check takes them as whole JPEGs.
import {mkdtempSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {inspectInputImage} from '../../source/core/comfy/image-file.js';
import {encodeJpeg, scaledQuantTable, STANDARD_HUFFMAN} from '../../source/sim/comfy/jpeg.js';
import {previewDimensions} from '../../source/sim/comfy/executor.js';
import {decodeBaselineJpeg} from '../helpers/jpeg-decoder.js';

/** An RGBA frame filled by `pixel(x, y)` → [r, g, b]. */
function frame(width: number, height: number, pixel: (x: number, y: number) => [number, number, number]): Buffer {
  const rgba = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      rgba.set([...pixel(x, y), 255], (y * width + x) * 4);
    }
  }
  return rgba;
}

/** Peak signal-to-noise ratio in dB between an RGBA frame and decoded RGB, over the channels picked. */
function psnr(rgba: Buffer, rgb: Uint8Array, channel: (r: number, g: number, b: number) => number): number {
  let squared = 0;
  const pixels = rgb.length / 3;
  for (let index = 0; index < pixels; index++) {
    const want = channel(rgba[index * 4]!, rgba[index * 4 + 1]!, rgba[index * 4 + 2]!);
    const got = channel(rgb[index * 3]!, rgb[index * 3 + 1]!, rgb[index * 3 + 2]!);
    squared += (want - got) ** 2;
  }
  return 10 * Math.log10((255 * 255) / Math.max(1e-9, squared / pixels));
}

const luma = (r: number, g: number, b: number): number => 0.299 * r + 0.587 * g + 0.114 * b;

/** A smooth colour picture of any size: what a latent preview looks like. */
const smooth = (width: number, height: number): Buffer =>
  frame(width, height, (x, y) => [Math.round((x * 255) / width), Math.round((y * 255) / height), Math.round(128 + 100 * Math.sin((x + y) / 9))]);

/** Pseudo-random noise: large coefficients in every position, long zero runs nowhere. */
function noise(width: number, height: number): Buffer {
  let state = 12345;
  const next = (): number => (state = (state * 1103515245 + 12345) % 2 ** 31) % 256;
  return frame(width, height, () => [next(), next(), next()]);
}

describe('encodeJpeg', () => {
  it('writes SOI, JFIF, DQT, SOF0 with the size, DHT, SOS, the scan and EOI — with no unescaped 0xff in the scan', () => {
    const jpeg = encodeJpeg(smooth(70, 45), 70, 45, {quality: 95});
    expect([...jpeg.subarray(0, 4)]).toEqual([0xff, 0xd8, 0xff, 0xe0]);
    expect(jpeg.toString('latin1', 6, 11)).toBe('JFIF\0');
    expect([...jpeg.subarray(-2)]).toEqual([0xff, 0xd9]);
    const decoded = decodeBaselineJpeg(jpeg);
    expect(decoded.markers).toEqual([0xe0, 0xdb, 0xc0, 0xc4, 0xda, 0xd9]);
    expect({width: decoded.width, height: decoded.height}).toEqual({width: 70, height: 45});
    // Y at 2×2 against Cb and Cr (4:2:0, Pillow's default), luminance table 0, chrominance table 1.
    expect(decoded.components).toEqual([{id: 1, h: 2, v: 2, quantTable: 0}, {id: 2, h: 1, v: 1, quantTable: 1}, {id: 3, h: 1, v: 1, quantTable: 1}]);
    expect(decoded.scanData.length).toBeGreaterThan(0);
    for (let at = 0; at < decoded.scanData.length; at++) {
      if (decoded.scanData[at] === 0xff) expect(decoded.scanData[at + 1], `byte ${at + 1} of the scan`).toBe(0x00);
    }
  });

  it('decodes to the picture that went in: close at quality 95, and the luminance near exact at 100', () => {
    const picture = smooth(70, 45);
    const decoded = decodeBaselineJpeg(encodeJpeg(picture, 70, 45, {quality: 95}));
    expect(psnr(picture, decoded.rgb, luma)).toBeGreaterThan(40);
    for (const channel of [0, 1, 2]) expect(psnr(picture, decoded.rgb, (...rgb) => rgb[channel]!)).toBeGreaterThan(30);

    // Noise codes a large value in nearly every position; only chroma loses detail (4:2:0).
    const rough = noise(40, 24);
    const exact = decodeBaselineJpeg(encodeJpeg(rough, 40, 24, {quality: 100}));
    expect(psnr(rough, exact.rgb, luma)).toBeGreaterThan(38);
  });

  it('handles sizes that are not whole 16-pixel MCUs, down to a single pixel', () => {
    for (const [width, height] of [[1, 1], [16, 16], [17, 9], [3, 40]] as const) {
      const decoded = decodeBaselineJpeg(encodeJpeg(frame(width, height, () => [200, 40, 90]), width, height, {quality: 95}));
      expect({width: decoded.width, height: decoded.height}).toEqual({width, height});
      for (let at = 0; at < decoded.rgb.length; at += 3) {
        expect(Math.abs(decoded.rgb[at]! - 200) + Math.abs(decoded.rgb[at + 1]! - 40) + Math.abs(decoded.rgb[at + 2]! - 90)).toBeLessThan(8);
      }
    }
    expect(() => encodeJpeg(Buffer.alloc(0), 0, 5, {quality: 95})).toThrow(RangeError);
  });

  it("carries Annex K's tables scaled by libjpeg's quality formula, and its Huffman tables", () => {
    const atQuality = (quality: number) => decodeBaselineJpeg(encodeJpeg(smooth(16, 16), 16, 16, {quality})).quantTables;
    expect(atQuality(50).get(0)!.slice(0, 8)).toEqual([16, 11, 10, 16, 24, 40, 51, 61]);
    expect(atQuality(50).get(1)!.slice(0, 8)).toEqual([17, 18, 24, 47, 99, 99, 99, 99]);
    expect(atQuality(95).get(0)!.slice(0, 8)).toEqual([2, 1, 1, 2, 2, 4, 5, 6]);
    expect(new Set(atQuality(100).get(0))).toEqual(new Set([1]));
    expect(atQuality(10).get(1)!.at(-1)).toBe(255);
    expect([...scaledQuantTable([16, 99], 95)]).toEqual([2, 10]);

    const tables = decodeBaselineJpeg(encodeJpeg(smooth(16, 16), 16, 16, {quality: 95})).huffmanTables;
    expect(tables.map(table => [table.tableClass, table.id])).toEqual([[0, 0], [1, 0], [0, 1], [1, 1]]);
    // Every AC table codes EOB, ZRL and each run 0–15 with each size 1–10, exactly once.
    const acSymbols = [0x00, 0xf0, ...Array.from({length: 160}, (_, index) => ((index / 10) << 4) | ((index % 10) + 1))].sort((a, b) => a - b);
    for (const spec of [STANDARD_HUFFMAN.lumaAc, STANDARD_HUFFMAN.chromaAc]) {
      expect([...spec.symbols].sort((a, b) => a - b)).toEqual(acSymbols);
      expect(spec.counts.reduce((sum: number, count) => sum + count, 0)).toBe(162);
    }
    for (const spec of [STANDARD_HUFFMAN.lumaDc, STANDARD_HUFFMAN.chromaDc]) expect(spec.counts.reduce((sum: number, count) => sum + count, 0)).toBe(12);
  });

  it("passes vastdeck's own input-image check as a whole JPEG", async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'vastdeck-jpeg-')), 'preview.jpg');
    writeFileSync(path, encodeJpeg(smooth(64, 40), 64, 40, {quality: 95}));
    expect(await inspectInputImage(path)).toMatchObject({format: 'jpeg', width: 64, height: 40});
  });
});

describe('latent preview size', () => {
  it("is the latent's aspect with its long side at --preview-size, up or down (ImageOps.contain)", () => {
    expect(previewDimensions({width: 512, height: 512}, 512)).toEqual({width: 512, height: 512});
    expect(previewDimensions({width: 1216, height: 832}, 512)).toEqual({width: 512, height: 350});
    expect(previewDimensions({width: 768, height: 1344}, 256)).toEqual({width: 146, height: 256});
  });
});
