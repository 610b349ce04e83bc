// A small reference decoder for baseline JPEG (ITU T.81: SOF0, 8-bit DQT, DHT, one interleaved scan,
// no restart intervals), written from the standard apart from the encoder it checks
// (source/sim/comfy/jpeg.ts), so a test can see the pixels a real viewer would. It is strict: any
// segment, table or bit it cannot account for throws, and the scan must use its entropy-coded data
// exactly, ending in at most seven padding 1 bits.

/** Zig-zag position → row-major index (T.81 figure A.6). */
const ZIGZAG = [
  0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28,
  35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
];

export interface FrameComponent {
  id: number;
  h: number;
  v: number;
  quantTable: number;
}

export interface HuffmanTableSegment {
  /** 0 DC, 1 AC. */
  tableClass: number;
  id: number;
  counts: number[];
  symbols: number[];
}

export interface DecodedJpeg {
  width: number;
  height: number;
  components: FrameComponent[];
  /** Quantisation tables by id, row-major. */
  quantTables: Map<number, number[]>;
  huffmanTables: HuffmanTableSegment[];
  /** Every marker after SOI, in file order (0xe0 APP0, 0xdb DQT, …, 0xd9 EOI). */
  markers: number[];
  /** The entropy-coded bytes of the scan, still byte-stuffed. */
  scanData: Buffer;
  /** Interleaved R, G, B. */
  rgb: Uint8Array;
}

interface Decoder {
  /** `length << 16 | code` → symbol. */
  codes: Map<number, number>;
}

/** Reads the scan's bits, dropping the 0x00 stuffed after each 0xff and stopping at the first marker. */
class BitReader {
  private byte = 0;
  private bitsLeft = 0;
  constructor(private readonly data: Buffer, public offset: number) {}

  read(): number {
    if (this.bitsLeft === 0) {
      if (this.offset >= this.data.length) throw new Error('the scan runs past the end of the file');
      this.byte = this.data[this.offset++]!;
      if (this.byte === 0xff) {
        if (this.data[this.offset] !== 0x00) throw new Error(`the scan runs into marker 0xff${this.data[this.offset]?.toString(16)}`);
        this.offset++;
      }
      this.bitsLeft = 8;
    }
    this.bitsLeft--;
    return (this.byte >> this.bitsLeft) & 1;
  }

  bits(count: number): number {
    let value = 0;
    for (let index = 0; index < count; index++) value = (value << 1) | this.read();
    return value;
  }

  /** The bits left in the current byte must all be 1 (padding), and a marker must follow. */
  finish(): void {
    const padding = this.bitsLeft;
    if (this.bits(padding) !== (1 << padding) - 1) throw new Error('the scan ends with padding bits that are not 1');
    if (this.data[this.offset] !== 0xff || this.data[this.offset + 1] === 0x00) throw new Error('the scan has data left over after its last block');
  }
}

function decoderOf(table: HuffmanTableSegment): Decoder {
  const codes = new Map<number, number>();
  let code = 0;
  let next = 0;
  for (let length = 1; length <= 16; length++) {
    for (let count = 0; count < table.counts[length - 1]!; count++) codes.set((length << 16) | code++, table.symbols[next++]!);
    if (code > 1 << length) throw new Error('a Huffman table has more codes than its lengths allow');
    code <<= 1;
  }
  return {codes};
}

function decodeSymbol(reader: BitReader, decoder: Decoder): number {
  let code = 0;
  for (let length = 1; length <= 16; length++) {
    code = (code << 1) | reader.read();
    const symbol = decoder.codes.get((length << 16) | code);
    if (symbol !== undefined) return symbol;
  }
  throw new Error('a Huffman code matches no symbol');
}

/** T.81 F.2.2.1 EXTEND: `size` bits as a signed value. */
function receiveExtend(reader: BitReader, size: number): number {
  if (size === 0) return 0;
  const value = reader.bits(size);
  return value < 1 << (size - 1) ? value - (1 << size) + 1 : value;
}

/** C(u)·cos((2x + 1)uπ/16) at [x * 8 + u]: T.81 A.3.3's IDCT terms. */
const COSINES = Array.from({length: 64}, (_, at) => {
  const [x, u] = [at >> 3, at & 7];
  return (u === 0 ? Math.SQRT1_2 : 1) * Math.cos(((2 * x + 1) * u * Math.PI) / 16);
});

/** The inverse DCT straight from its definition: s(y, x) = ¼ ΣΣ C(u)C(v) S(v, u) cos… cos…. */
function inverseDct(coefficients: Float64Array): Float64Array {
  const out = new Float64Array(64);
  for (let y = 0; y < 8; y++) {
    for (let x = 0; x < 8; x++) {
      let sum = 0;
      for (let v = 0; v < 8; v++) {
        for (let u = 0; u < 8; u++) sum += COSINES[y * 8 + v]! * COSINES[x * 8 + u]! * coefficients[v * 8 + u]!;
      }
      out[y * 8 + x] = sum / 4;
    }
  }
  return out;
}

const clampByte = (value: number): number => Math.max(0, Math.min(255, Math.round(value)));

export function decodeBaselineJpeg(data: Buffer): DecodedJpeg {
  if (data[0] !== 0xff || data[1] !== 0xd8) throw new Error('no SOI marker');
  const quantTables = new Map<number, number[]>();
  const huffmanTables: HuffmanTableSegment[] = [];
  const markers: number[] = [];
  let frame: {width: number; height: number; components: FrameComponent[]} | undefined;
  let planes: Float64Array[] | undefined;
  let scanData: Buffer = Buffer.alloc(0);
  let offset = 2;
  for (;;) {
    if (data[offset] !== 0xff) throw new Error(`no marker at byte ${offset}`);
    const marker = data[offset + 1]!;
    markers.push(marker);
    if (marker === 0xd9) {
      if (offset + 2 !== data.length) throw new Error('bytes after EOI');
      break;
    }
    const length = data.readUInt16BE(offset + 2);
    const body = data.subarray(offset + 4, offset + 2 + length);
    if (body.length !== length - 2) throw new Error('a segment is cut short');
    if (marker === 0xdb) {
      for (let at = 0; at < body.length; at += 65) {
        if (body[at]! >> 4 !== 0) throw new Error('a 16-bit quantisation table is not baseline');
        const table = new Array<number>(64);
        for (let k = 0; k < 64; k++) table[ZIGZAG[k]!] = body[at + 1 + k]!;
        quantTables.set(body[at]! & 15, table);
      }
    } else if (marker === 0xc4) {
      for (let at = 0; at < body.length; ) {
        const counts = [...body.subarray(at + 1, at + 17)];
        const total = counts.reduce((sum, count) => sum + count, 0);
        huffmanTables.push({tableClass: body[at]! >> 4, id: body[at]! & 15, counts, symbols: [...body.subarray(at + 17, at + 17 + total)]});
        at += 17 + total;
      }
    } else if (marker === 0xc0) {
      if (body[0] !== 8) throw new Error('not 8-bit samples');
      const components = Array.from({length: body[5]!}, (_, index) => ({id: body[6 + index * 3]!, h: body[7 + index * 3]! >> 4, v: body[7 + index * 3]! & 15, quantTable: body[8 + index * 3]!}));
      frame = {height: body.readUInt16BE(1), width: body.readUInt16BE(3), components};
    } else if ((marker >= 0xc1 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) || marker === 0xdd) {
      throw new Error(`marker 0xff${marker.toString(16)} is not baseline without restarts`);
    } else if (marker === 0xda) {
      if (!frame) throw new Error('a scan before the frame header');
      const reader = new BitReader(data, offset + 2 + length);
      planes = decodeScan(reader, body, frame, quantTables, huffmanTables);
      reader.finish();
      scanData = data.subarray(offset + 2 + length, reader.offset);
      offset = reader.offset;
      continue;
    }
    offset += 2 + length;
  }
  if (!frame || !planes) throw new Error('no frame or no scan');
  return {...frame, quantTables, huffmanTables, markers, scanData, rgb: toRgb(frame, planes)};
}

/** Decodes every MCU of an interleaved scan into one sample plane per component (MCU-padded). */
function decodeScan(reader: BitReader, header: Buffer, frame: {width: number; height: number; components: FrameComponent[]}, quantTables: Map<number, number[]>, huffmanTables: HuffmanTableSegment[]): Float64Array[] {
  const count = header[0]!;
  if (count !== frame.components.length) throw new Error('the scan does not interleave every component');
  if (header[1 + count * 2] !== 0 || header[2 + count * 2] !== 63 || header[3 + count * 2] !== 0) throw new Error('the scan is not a full sequential scan');
  const table = (tableClass: number, id: number): Decoder => {
    const found = huffmanTables.filter(entry => entry.tableClass === tableClass && entry.id === id).at(-1);
    if (!found) throw new Error(`no Huffman table ${tableClass}/${id}`);
    return decoderOf(found);
  };
  const hMax = Math.max(...frame.components.map(component => component.h));
  const vMax = Math.max(...frame.components.map(component => component.v));
  const mcusX = Math.ceil(frame.width / (8 * hMax));
  const mcusY = Math.ceil(frame.height / (8 * vMax));
  const scan = frame.components.map((component, index) => {
    if (header[1 + index * 2] !== component.id) throw new Error('the scan lists the components out of order');
    const quant = quantTables.get(component.quantTable);
    if (!quant) throw new Error(`no quantisation table ${component.quantTable}`);
    const planeWidth = mcusX * component.h * 8;
    return {component, quant, dc: table(0, header[2 + index * 2]! >> 4), ac: table(1, header[2 + index * 2]! & 15), planeWidth, plane: new Float64Array(planeWidth * mcusY * component.v * 8), predictor: 0};
  });
  for (let my = 0; my < mcusY; my++) {
    for (let mx = 0; mx < mcusX; mx++) {
      for (const entry of scan) {
        for (let by = 0; by < entry.component.v; by++) {
          for (let bx = 0; bx < entry.component.h; bx++) {
            const coefficients = new Float64Array(64);
            entry.predictor += receiveExtend(reader, decodeSymbol(reader, entry.dc));
            coefficients[0] = entry.predictor * entry.quant[0]!;
            for (let k = 1; k < 64; ) {
              const symbol = decodeSymbol(reader, entry.ac);
              const [run, size] = [symbol >> 4, symbol & 15];
              if (size === 0) {
                if (run !== 15) break;
                k += 16;
                continue;
              }
              k += run;
              if (k > 63) throw new Error('an AC run goes past the end of its block');
              coefficients[ZIGZAG[k]!] = receiveExtend(reader, size) * entry.quant[ZIGZAG[k]!]!;
              k++;
            }
            const samples = inverseDct(coefficients);
            const left = (mx * entry.component.h + bx) * 8;
            const top = (my * entry.component.v + by) * 8;
            for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) entry.plane[(top + y) * entry.planeWidth + left + x] = samples[y * 8 + x]! + 128;
          }
        }
      }
    }
  }
  return scan.map(entry => entry.plane);
}

/** Upsamples each component to full size (nearest sample) and converts JFIF YCbCr to RGB. */
function toRgb(frame: {width: number; height: number; components: FrameComponent[]}, planes: Float64Array[]): Uint8Array {
  const hMax = Math.max(...frame.components.map(component => component.h));
  const vMax = Math.max(...frame.components.map(component => component.v));
  const mcusX = Math.ceil(frame.width / (8 * hMax));
  const rgb = new Uint8Array(frame.width * frame.height * 3);
  for (let y = 0; y < frame.height; y++) {
    for (let x = 0; x < frame.width; x++) {
      const [luma, cb, cr] = frame.components.map((component, index) => {
        const planeWidth = mcusX * component.h * 8;
        return planes[index]![Math.floor((y * component.v) / vMax) * planeWidth + Math.floor((x * component.h) / hMax)]!;
      }) as [number, number, number];
      const at = (y * frame.width + x) * 3;
      rgb[at] = clampByte(luma + 1.402 * (cr - 128));
      rgb[at + 1] = clampByte(luma - 0.344136 * (cb - 128) - 0.714136 * (cr - 128));
      rgb[at + 2] = clampByte(luma + 1.772 * (cb - 128));
    }
  }
  return rgb;
}
