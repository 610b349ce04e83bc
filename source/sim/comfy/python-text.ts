// How the real server's Python renders values into error texts (str(), repr(), int()/float()
// coercion and their exception messages), so validation errors read byte for byte like ComfyUI's.
// Used by validate.ts and executor.ts.

/** A Python exception raised inside the simulated server: its builtin type name and str(ex). */
export class PyError extends Error {
  constructor(
    readonly pyType: string,
    message: string,
  ) {
    super(message);
  }
}

function pyTypeName(value: unknown): string {
  if (value === null || value === undefined) return 'NoneType';
  if (Array.isArray(value)) return 'list';
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'number') return Number.isInteger(value) ? 'int' : 'float';
  if (typeof value === 'string') return 'str';
  return 'dict';
}

/** repr(float): '1.0', '0.1', '1e+16'. */
export function pyFloat(value: number): string {
  if (Number.isNaN(value)) return 'nan';
  if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
  if (Number.isInteger(value) && Math.abs(value) < 1e16) return `${value}.0`;
  return String(value).replace(/e([+-])(\d)$/, 'e$10$2');
}

/** repr(value) for JSON values ('abc', 1, 1.5, True, None, [..], {..}). */
export function pyRepr(value: unknown): string {
  if (typeof value === 'string') {
    const quote = value.includes("'") && !value.includes('"') ? '"' : "'";
    const body = value.replaceAll('\\', '\\\\').replaceAll('\n', '\\n').replaceAll('\r', '\\r').replaceAll('\t', '\\t');
    return quote + (quote === "'" ? body.replaceAll("'", "\\'") : body) + quote;
  }
  if (Array.isArray(value)) return `[${value.map(pyRepr).join(', ')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.entries(value).map(([key, item]) => `${pyRepr(key)}: ${pyRepr(item)}`).join(', ')}}`;
  }
  return pyStr(value);
}

/** str(value): strings bare, everything else as repr. */
export function pyStr(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'bigint') return value.toString();
  if (value === null || value === undefined) return 'None';
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : pyFloat(value);
  return pyRepr(value);
}

/** int(value), with Python's errors. */
export function pyInt(value: unknown): number {
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'number') return Math.trunc(value);
  if (typeof value === 'string') {
    const text = value.trim();
    if (/^[+-]?\d+$/.test(text)) return Number(text);
    throw new PyError('ValueError', `invalid literal for int() with base 10: ${pyRepr(value)}`);
  }
  throw new PyError('TypeError', `int() argument must be a string, a bytes-like object or a real number, not '${pyTypeName(value)}'`);
}

/** float(value), with Python's errors. */
export function pyFloatOf(value: unknown): number {
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'number') return value;
  if (typeof value === 'string') {
    const text = value.trim();
    if (text !== '' && Number.isFinite(Number(text))) return Number(text);
    throw new PyError('ValueError', `could not convert string to float: ${pyRepr(value)}`);
  }
  throw new PyError('TypeError', `float() argument must be a string or a real number, not '${pyTypeName(value)}'`);
}

/** bool(value): Python truthiness ('false' is True). */
export function pyBool(value: unknown): boolean {
  if (Array.isArray(value)) return value.length > 0;
  if (value !== null && typeof value === 'object') return Object.keys(value).length > 0;
  return Boolean(value);
}

/** prompt[key] on a dict: KeyError with repr(key) when absent. */
export function pyItem<T>(dict: Record<string, T>, key: unknown): T {
  if (typeof key === 'string' && Object.hasOwn(dict, key)) return dict[key] as T;
  if (Array.isArray(key) || (key !== null && typeof key === 'object')) throw new PyError('TypeError', `unhashable type: '${pyTypeName(key)}'`);
  throw new PyError('KeyError', pyRepr(key));
}

/** tuple[index]: negative indices count from the end; IndexError / TypeError otherwise. */
export function pyIndex<T>(tuple: readonly T[], index: unknown): T {
  if (typeof index !== 'number' || !Number.isInteger(index)) {
    throw new PyError('TypeError', `tuple indices must be integers or slices, not ${pyTypeName(index)}`);
  }
  const at = index < 0 ? tuple.length + index : index;
  if (at < 0 || at >= tuple.length) throw new PyError('IndexError', 'tuple index out of range');
  return tuple[at] as T;
}

/** A short, plausible traceback.format_tb() for an exception raised at `where`. */
export function pyTraceback(where: string, line: string): string[] {
  return [
    `  File "/workspace/ComfyUI/execution.py", line 1186, in validate_prompt\n    m = await validate_inputs(prompt_id, prompt, o, validated)\n`,
    `  File "/workspace/ComfyUI/execution.py", line 817, in ${where}\n    ${line}\n`,
  ];
}
