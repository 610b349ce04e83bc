// A small multipart/form-data parser (RFC 7578) for POST /upload/image: splits the body on the
// boundary, reads each part's Content-Disposition (name, filename, filename*) and Content-Type.
// Used by comfy-files.ts.

export interface FormPart {
  name: string;
  /** Present (possibly empty) for file parts: the part had a filename parameter. */
  filename?: string;
  contentType?: string;
  data: Buffer;
}

/** The boundary of a multipart/form-data Content-Type, or undefined for anything else. */
export function multipartBoundary(contentType: string | undefined): string | undefined {
  if (!contentType || !/^multipart\/form-data\s*(;|$)/i.test(contentType)) return undefined;
  const match = /;\s*boundary=(?:"((?:[^"\\]|\\.)*)"|([^;\s]+))/i.exec(contentType);
  const boundary = match?.[1]?.replace(/\\(.)/g, '$1') ?? match?.[2];
  return boundary && boundary.length <= 70 ? boundary : undefined;
}

/** Header parameters: `form-data; name="a"; filename="b.png"` → {name: 'a', filename: 'b.png'}. */
function headerParams(value: string): Record<string, string> {
  const params: Record<string, string> = {};
  const pattern = /;\s*([^=;\s]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;]*))/g;
  for (let match = pattern.exec(value); match; match = pattern.exec(value)) {
    const key = (match[1] ?? '').toLowerCase();
    params[key] = match[2] !== undefined ? match[2].replace(/\\(.)/g, '$1') : (match[3] ?? '').trim();
  }
  return params;
}

/** RFC 5987 `utf-8''%e2%82%ac.png` → '€.png'. */
function extendedValue(value: string): string | undefined {
  const match = /^([^']*)'[^']*'(.*)$/.exec(value);
  if (!match?.[2]) return undefined;
  try {
    return decodeURIComponent(match[2]);
  } catch {
    return undefined;
  }
}

function parsePart(raw: Buffer): FormPart | undefined {
  const split = raw.indexOf('\r\n\r\n');
  if (split < 0) return undefined;
  const headers = new Map<string, string>();
  for (const line of raw.subarray(0, split).toString('utf8').split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  const disposition = headers.get('content-disposition');
  if (!disposition || !/^form-data\b/i.test(disposition)) return undefined;
  const params = headerParams(disposition);
  if (params.name === undefined) return undefined;
  const starred = params['filename*'] === undefined ? undefined : extendedValue(params['filename*']);
  return {
    name: params.name,
    filename: starred ?? params.filename,
    contentType: headers.get('content-type'),
    data: raw.subarray(split + 4),
  };
}

/** The parts of a multipart body, or undefined when it is malformed (no closing delimiter, bad part). */
export function parseMultipart(body: Buffer, boundary: string): FormPart[] | undefined {
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: FormPart[] = [];
  let at = body.indexOf(delimiter);
  if (at < 0) return undefined;
  for (;;) {
    at += delimiter.length;
    if (body[at] === 0x2d && body[at + 1] === 0x2d) return parts; // the closing `--boundary--`
    // Transport padding (spaces, tabs) may follow a delimiter before its CRLF.
    while (body[at] === 0x20 || body[at] === 0x09) at++;
    if (body[at] !== 0x0d || body[at + 1] !== 0x0a) return undefined;
    const start = at + 2;
    const end = body.indexOf(Buffer.concat([Buffer.from('\r\n'), delimiter]), start);
    if (end < 0) return undefined;
    const part = parsePart(body.subarray(start, end));
    if (!part) return undefined;
    parts.push(part);
    at = end + 2;
  }
}
