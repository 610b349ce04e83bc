// JSON as the real server prints it (aiohttp's json_response is Python's json.dumps): ", " and
// ": " separators, non-ASCII escaped, floats that are floats (8.0, not 8), and integers past 2^53
// exact (KSampler's seed max 18446744073709551615). Used by http-io.ts for every JSON answer.

/** A number Python holds as a float: printed with a fraction ('8.0'). */
export class PyFloat {
  constructor(readonly value: number) {}

  toJSON(): number {
    return this.value;
  }
}

/** 2^64 − 1, as Python's int prints it (a JS number would round it to 18446744073709552000). */
export const U64_MAX = 0xffff_ffff_ffff_ffffn;

function floatText(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? 'Infinity' : '-Infinity';
  if (Number.isInteger(value) && Math.abs(value) < 1e16) return `${value}.0`;
  return String(value).replace(/e([+-])(\d)$/, 'e$10$2');
}

function stringText(value: string): string {
  return JSON.stringify(value).replace(/[\u007f-\uffff]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** json.dumps(value): PyFloat and bigint keep what Python would print; other values as JSON. */
export function pyJson(value: unknown): string {
  if (value instanceof PyFloat) return floatText(value.value);
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : floatText(value);
  if (typeof value === 'string') return stringText(value);
  if (value === null || value === undefined || typeof value === 'boolean') return String(value ?? null);
  if (Array.isArray(value)) return `[${value.map((item) => pyJson(item === undefined ? null : item)).join(', ')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, item]) => item !== undefined);
    return `{${entries.map(([key, item]) => `${stringText(key)}: ${pyJson(item)}`).join(', ')}}`;
  }
  return 'null';
}
