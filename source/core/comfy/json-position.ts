// Where a JSON text first goes wrong, as a line and column, because Node's JSON.parse messages
// often give no position ("Unexpected token '}', ... is not valid JSON"). Used by workflow.ts to
// point at the bad spot of a hand-edited workflow or manifest.
// A small recursive-descent scanner: it checks syntax only and builds no values.

class SyntaxAt extends Error {
  constructor(readonly offset: number) {
    super('JSON syntax error');
  }
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const STRING_BODY = /(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;

/** 1-based line and column of the first syntax error, or undefined when `text` is valid JSON. */
export function jsonErrorPosition(text: string): {line: number; column: number} | undefined {
  let offset: number;
  try {
    const end = scanValue(text, skipSpace(text, 0));
    if (skipSpace(text, end) === text.length) return undefined;
    offset = skipSpace(text, end);
  } catch (error) {
    if (!(error instanceof SyntaxAt)) throw error;
    offset = error.offset;
  }
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return {line, column: offset - before.lastIndexOf('\n')};
}

function skipSpace(text: string, at: number): number {
  let i = at;
  while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  return i;
}

/** Scans one value starting at `at` (no leading space) and returns the offset just after it. */
function scanValue(text: string, at: number): number {
  const char = text[at];
  if (char === '{') return scanContainer(text, at, '}', true);
  if (char === '[') return scanContainer(text, at, ']', false);
  if (char === '"') return scanString(text, at);
  for (const literal of ['true', 'false', 'null']) if (text.startsWith(literal, at)) return at + literal.length;
  NUMBER.lastIndex = at;
  if (NUMBER.test(text)) return NUMBER.lastIndex;
  throw new SyntaxAt(at);
}

function scanString(text: string, at: number): number {
  STRING_BODY.lastIndex = at + 1;
  if (STRING_BODY.test(text)) return STRING_BODY.lastIndex;
  // Find the offending character: walk the valid prefix.
  let i = at + 1;
  while (i < text.length && text[i] !== '"' && text.charCodeAt(i) >= 0x20) i += text[i] === '\\' ? 2 : 1;
  throw new SyntaxAt(i);
}

function scanContainer(text: string, at: number, close: string, keyed: boolean): number {
  let i = skipSpace(text, at + 1);
  if (text[i] === close) return i + 1;
  for (;;) {
    if (keyed) {
      if (text[i] !== '"') throw new SyntaxAt(i);
      i = skipSpace(text, scanString(text, i));
      if (text[i] !== ':') throw new SyntaxAt(i);
      i = skipSpace(text, i + 1);
    }
    i = skipSpace(text, scanValue(text, i));
    if (text[i] === close) return i + 1;
    if (text[i] !== ',') throw new SyntaxAt(i);
    i = skipSpace(text, i + 1);
  }
}
