// A baseline JPEG encoder for the simulated ComfyUI's latent previews: ComfyUI sends them as JPEG
// (latent_preview.py, then server.py's send_image, which has Pillow save them at quality 95). Like
// Pillow's defaults it writes JFIF, YCbCr with 4:2:0 chroma, the standard quantisation tables of
// ITU T.81 Annex K scaled by libjpeg's quality formula, and Annex K's Huffman tables (no optimising
// pass). Used by executor.ts.

/** The order in which a block's coefficients are coded: zig-zag position → row-major index. */
const ZIGZAG: readonly number[] = [
  0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5,
  12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28,
  35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51,
  58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
];

/** Annex K.1's luminance table (quality 50), row-major. */
const LUMA_QUANT = [
  16, 11, 10, 16, 24, 40, 51, 61,
  12, 12, 14, 19, 26, 58, 60, 55,
  14, 13, 16, 24, 40, 57, 69, 56,
  14, 17, 22, 29, 51, 87, 80, 62,
  18, 22, 37, 56, 68, 109, 103, 77,
  24, 35, 55, 64, 81, 104, 113, 92,
  49, 64, 78, 87, 103, 121, 120, 101,
  72, 92, 95, 98, 112, 100, 103, 99,
];

/** Annex K.1's chrominance table (quality 50), row-major. */
const CHROMA_QUANT = [
  17, 18, 24, 47, 99, 99, 99, 99,
  18, 21, 26, 66, 99, 99, 99, 99,
  24, 26, 56, 99, 99, 99, 99, 99,
  47, 66, 99, 99, 99, 99, 99, 99,
  99, 99, 99, 99, 99, 99, 99, 99,
  99, 99, 99, 99, 99, 99, 99, 99,
  99, 99, 99, 99, 99, 99, 99, 99,
  99, 99, 99, 99, 99, 99, 99, 99,
];

/** A Huffman table as DHT carries it: how many codes have each length 1–16, then the symbols in code order. */
export interface HuffmanSpec {
  counts: readonly number[];
  symbols: readonly number[];
}

/** Annex K.3's tables. */
export const STANDARD_HUFFMAN = {
  lumaDc: {counts: [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0], symbols: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]},
  chromaDc: {counts: [0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0], symbols: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]},
  lumaAc: {
    counts: [0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7d],
    symbols: [
      0x01, 0x02, 0x03, 0x00, 0x04, 0x11, 0x05, 0x12, 0x21, 0x31, 0x41, 0x06, 0x13, 0x51, 0x61, 0x07,
      0x22, 0x71, 0x14, 0x32, 0x81, 0x91, 0xa1, 0x08, 0x23, 0x42, 0xb1, 0xc1, 0x15, 0x52, 0xd1, 0xf0,
      0x24, 0x33, 0x62, 0x72, 0x82, 0x09, 0x0a, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x25, 0x26, 0x27, 0x28,
      0x29, 0x2a, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49,
      0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69,
      0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89,
      0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
      0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3, 0xc4, 0xc5,
      0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xe1, 0xe2,
      0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8,
      0xf9, 0xfa,
    ],
  },
  chromaAc: {
    counts: [0, 2, 1, 2, 4, 4, 3, 4, 7, 5, 4, 4, 0, 1, 2, 0x77],
    symbols: [
      0x00, 0x01, 0x02, 0x03, 0x11, 0x04, 0x05, 0x21, 0x31, 0x06, 0x12, 0x41, 0x51, 0x07, 0x61, 0x71,
      0x13, 0x22, 0x32, 0x81, 0x08, 0x14, 0x42, 0x91, 0xa1, 0xb1, 0xc1, 0x09, 0x23, 0x33, 0x52, 0xf0,
      0x15, 0x62, 0x72, 0xd1, 0x0a, 0x16, 0x24, 0x34, 0xe1, 0x25, 0xf1, 0x17, 0x18, 0x19, 0x1a, 0x26,
      0x27, 0x28, 0x29, 0x2a, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48,
      0x49, 0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68,
      0x69, 0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87,
      0x88, 0x89, 0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5,
      0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3,
      0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda,
      0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8,
      0xf9, 0xfa,
    ],
  },
} as const satisfies Record<string, HuffmanSpec>;

/** One component of the scan: which quantisation and Huffman tables its blocks use. */
interface Component {
  quant: Int32Array;
  dc: CodeTable;
  ac: CodeTable;
  /** The previous block's DC coefficient: DC is coded as the difference from it. */
  lastDc: number;
}

/** Each symbol's code and its length in bits, indexed by the symbol byte (length 0: not in the table). */
interface CodeTable {
  code: Uint16Array;
  length: Uint8Array;
}

/** Annex C: codes of each length follow on from the last, doubled at every step in length. */
function codeTable(spec: HuffmanSpec): CodeTable {
  const table = {code: new Uint16Array(256), length: new Uint8Array(256)};
  let code = 0;
  let next = 0;
  for (let length = 1; length <= 16; length++) {
    for (let count = 0; count < spec.counts[length - 1]!; count++) {
      const symbol = spec.symbols[next++]!;
      table.code[symbol] = code++;
      table.length[symbol] = length;
    }
    code <<= 1;
  }
  return table;
}

/** libjpeg's jpeg_quality_scaling, clamped to 1–255 as a baseline file needs (what Pillow writes). */
export function scaledQuantTable(base: readonly number[], quality: number): Int32Array {
  const q = Math.min(100, Math.max(1, Math.round(quality)));
  const scale = q < 50 ? Math.floor(5000 / q) : 200 - q * 2;
  return Int32Array.from(base, value => Math.min(255, Math.max(1, Math.floor((value * scale + 50) / 100))));
}

/** cos((2x + 1)uπ/16) with the DCT's normalisation (C(0) = 1/√2, and ½ per dimension) folded in. */
const DCT_BASIS = Float64Array.from({length: 64}, (_, at) => {
  const u = at >> 3;
  const x = at & 7;
  return (u === 0 ? Math.SQRT1_2 : 1) * 0.5 * Math.cos(((2 * x + 1) * u * Math.PI) / 16);
});

/** The 2-D forward DCT of a level-shifted 8×8 block, row-major in and out, as two 1-D passes. */
function forwardDct(block: Float64Array, out: Float64Array): void {
  const rows = scratch.rows;
  for (let y = 0; y < 8; y++) {
    for (let u = 0; u < 8; u++) {
      let sum = 0;
      for (let x = 0; x < 8; x++) sum += DCT_BASIS[u * 8 + x]! * block[y * 8 + x]!;
      rows[y * 8 + u] = sum;
    }
  }
  for (let u = 0; u < 8; u++) {
    for (let v = 0; v < 8; v++) {
      let sum = 0;
      for (let y = 0; y < 8; y++) sum += DCT_BASIS[v * 8 + y]! * rows[y * 8 + u]!;
      out[v * 8 + u] = sum;
    }
  }
}

/** Buffers reused from block to block (the encoder runs once per sampler step, so it avoids garbage). */
const scratch = {block: new Float64Array(64), rows: new Float64Array(64), coefficients: new Float64Array(64), quantised: new Int32Array(64)};

/** Collects the entropy-coded bits, most significant first, stuffing a 0x00 after every 0xff byte. */
class BitWriter {
  private bytes = Buffer.alloc(4096);
  private used = 0;
  private buffer = 0;
  private count = 0;

  write(bits: number, length: number): void {
    this.buffer = (this.buffer << length) | (bits & ((1 << length) - 1));
    this.count += length;
    while (this.count >= 8) {
      const byte = (this.buffer >>> (this.count - 8)) & 0xff;
      this.push(byte);
      if (byte === 0xff) this.push(0);
      this.count -= 8;
      this.buffer &= (1 << this.count) - 1;
    }
  }

  /** The bytes written so far. */
  data(): Buffer {
    return this.bytes.subarray(0, this.used);
  }

  private push(byte: number): void {
    if (this.used === this.bytes.length) this.bytes = Buffer.concat([this.bytes, Buffer.alloc(this.bytes.length)]);
    this.bytes[this.used++] = byte;
  }

  /** Pads the last byte with 1 bits, as T.81 F.1.2.3 asks. */
  flush(): void {
    if (this.count > 0) this.write(0x7f, 8 - this.count);
  }
}

/** How many bits a coefficient's magnitude needs: its category, the low half of its Huffman symbol. */
function category(value: number): number {
  return value === 0 ? 0 : 32 - Math.clz32(Math.abs(value));
}

/** A value's `size` bits follow its symbol: as is when positive, one's complement when negative. */
function writeValue(out: BitWriter, value: number, size: number): void {
  if (size > 0) out.write(value >= 0 ? value : value + (1 << size) - 1, size);
}

function writeCode(out: BitWriter, table: CodeTable, symbol: number): void {
  out.write(table.code[symbol]!, table.length[symbol]!);
}

/**
 * Quantises one block and codes it: the DC difference, then runs of zeros and AC values (ZRL, EOB).
 * 8-bit samples keep every AC value within the baseline's 10 bits; the clamp only guards rounding.
 */
function encodeBlock(out: BitWriter, component: Component, coefficients: Float64Array): void {
  const quantised = scratch.quantised;
  for (let k = 0; k < 64; k++) {
    const value = Math.round(coefficients[ZIGZAG[k]!]! / component.quant[ZIGZAG[k]!]!);
    quantised[k] = k === 0 ? value : Math.max(-1023, Math.min(1023, value));
  }
  const difference = quantised[0]! - component.lastDc;
  component.lastDc = quantised[0]!;
  writeCode(out, component.dc, category(difference));
  writeValue(out, difference, category(difference));
  let run = 0;
  for (let k = 1; k < 64; k++) {
    const value = quantised[k]!;
    if (value === 0) {
      run++;
      continue;
    }
    for (; run > 15; run -= 16) writeCode(out, component.ac, 0xf0);
    const size = category(value);
    writeCode(out, component.ac, (run << 4) | size);
    writeValue(out, value, size);
    run = 0;
  }
  if (run > 0) writeCode(out, component.ac, 0x00);
}

/** Y, Cb and Cr planes (JFIF's BT.601 full-range conversion) padded to whole 16×16 MCUs by repeating the edges. */
function colourPlanes(frame: Buffer, width: number, height: number, paddedWidth: number, paddedHeight: number): [Float64Array, Float64Array, Float64Array] {
  const luma = new Float64Array(paddedWidth * paddedHeight);
  const cb = new Float64Array(paddedWidth * paddedHeight);
  const cr = new Float64Array(paddedWidth * paddedHeight);
  for (let y = 0; y < paddedHeight; y++) {
    for (let x = 0; x < paddedWidth; x++) {
      const from = (Math.min(y, height - 1) * width + Math.min(x, width - 1)) * 4;
      const r = frame[from]!;
      const g = frame[from + 1]!;
      const b = frame[from + 2]!;
      const at = y * paddedWidth + x;
      luma[at] = 0.299 * r + 0.587 * g + 0.114 * b;
      cb[at] = -0.168736 * r - 0.331264 * g + 0.5 * b + 128;
      cr[at] = 0.5 * r - 0.418688 * g - 0.081312 * b + 128;
    }
  }
  return [luma, cb, cr];
}

/** A chroma plane halved both ways (each sample the mean of a 2×2 square): 4:2:0. */
function halved(plane: Float64Array, width: number, height: number): Float64Array {
  const half = new Float64Array((width / 2) * (height / 2));
  for (let y = 0; y < height / 2; y++) {
    for (let x = 0; x < width / 2; x++) {
      const at = 2 * y * width + 2 * x;
      half[y * (width / 2) + x] = (plane[at]! + plane[at + 1]! + plane[at + width]! + plane[at + width + 1]!) / 4;
    }
  }
  return half;
}

/** The 8×8 block at (left, top) of a plane, shifted to −128…127, DCT'd into `out`. */
function blockDct(plane: Float64Array, planeWidth: number, left: number, top: number, out: Float64Array): void {
  const block = scratch.block;
  for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) block[y * 8 + x] = plane[(top + y) * planeWidth + left + x]! - 128;
  forwardDct(block, out);
}

function segment(marker: number, body: number[]): number[] {
  return [0xff, marker, (body.length + 2) >> 8, (body.length + 2) & 0xff, ...body];
}

function u16(value: number): number[] {
  return [value >> 8, value & 0xff];
}

/** The file's header: SOI, JFIF APP0, both quantisation tables, the frame, the four Huffman tables, the scan header. */
function header(width: number, height: number, luma: Int32Array, chroma: Int32Array): number[] {
  const jfif = [0x4a, 0x46, 0x49, 0x46, 0x00, 1, 1, 0, ...u16(1), ...u16(1), 0, 0];
  const dqt = [0x00, ...ZIGZAG.map(at => luma[at]!), 0x01, ...ZIGZAG.map(at => chroma[at]!)];
  // Three components: Y sampled 2×2 against Cb and Cr (4:2:0), with tables 0, 1, 1.
  const sof0 = [8, ...u16(height), ...u16(width), 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1];
  const tables: Array<[number, HuffmanSpec]> = [
    [0x00, STANDARD_HUFFMAN.lumaDc],
    [0x10, STANDARD_HUFFMAN.lumaAc],
    [0x01, STANDARD_HUFFMAN.chromaDc],
    [0x11, STANDARD_HUFFMAN.chromaAc],
  ];
  const dht = tables.flatMap(([classAndId, spec]) => [classAndId, ...spec.counts, ...spec.symbols]);
  const sos = [3, 1, 0x00, 2, 0x11, 3, 0x11, 0, 63, 0];
  return [0xff, 0xd8, ...segment(0xe0, jfif), ...segment(0xdb, dqt), ...segment(0xc0, sof0), ...segment(0xc4, dht), ...segment(0xda, sos)];
}

/** A baseline JPEG of an RGBA frame (alpha dropped, as Pillow drops it saving RGB), 4:2:0 at `quality` 1–100. */
export function encodeJpeg(frame: Buffer, width: number, height: number, options: {quality: number}): Buffer {
  if (width < 1 || height < 1 || width > 65_535 || height > 65_535) throw new RangeError(`a JPEG is 1 to 65535 pixels a side, not ${width}×${height}`);
  const paddedWidth = Math.ceil(width / 16) * 16;
  const paddedHeight = Math.ceil(height / 16) * 16;
  const [luma, cb, cr] = colourPlanes(frame, width, height, paddedWidth, paddedHeight);
  const [cbHalf, crHalf] = [halved(cb, paddedWidth, paddedHeight), halved(cr, paddedWidth, paddedHeight)];
  const lumaQuant = scaledQuantTable(LUMA_QUANT, options.quality);
  const chromaQuant = scaledQuantTable(CHROMA_QUANT, options.quality);
  const lumaCodes = {dc: codeTable(STANDARD_HUFFMAN.lumaDc), ac: codeTable(STANDARD_HUFFMAN.lumaAc)};
  const chromaCodes = {dc: codeTable(STANDARD_HUFFMAN.chromaDc), ac: codeTable(STANDARD_HUFFMAN.chromaAc)};
  const lumaComponent: Component = {quant: lumaQuant, ...lumaCodes, lastDc: 0};
  const cbComponent: Component = {quant: chromaQuant, ...chromaCodes, lastDc: 0};
  const crComponent: Component = {quant: chromaQuant, ...chromaCodes, lastDc: 0};
  const out = new BitWriter();
  const coefficients = scratch.coefficients;
  // Each 16×16 MCU: its four luma blocks left to right, top to bottom, then one Cb and one Cr block.
  for (let top = 0; top < paddedHeight; top += 16) {
    for (let left = 0; left < paddedWidth; left += 16) {
      for (const [dx, dy] of [[0, 0], [8, 0], [0, 8], [8, 8]] as const) {
        blockDct(luma, paddedWidth, left + dx, top + dy, coefficients);
        encodeBlock(out, lumaComponent, coefficients);
      }
      for (const [plane, component] of [[cbHalf, cbComponent], [crHalf, crComponent]] as const) {
        blockDct(plane, paddedWidth / 2, left / 2, top / 2, coefficients);
        encodeBlock(out, component, coefficients);
      }
    }
  }
  out.flush();
  return Buffer.concat([Buffer.from(header(width, height, lumaQuant, chromaQuant)), out.data(), Buffer.from([0xff, 0xd9])]);
}
