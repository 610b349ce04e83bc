// Request and response plumbing of the simulated ComfyUI in aiohttp's manner: bodies capped at
// --max-upload-size (413 beyond), JSON answers, empty 200s, aiohttp's plain-text error pages and
// the CORS headers that --enable-cors-header adds. Used by comfy-routes.ts.
import {pyJson} from './py-json.js';
import type {IncomingMessage, ServerResponse} from 'node:http';
import {SERVER_FEATURES} from './ws-hub.js';

const CORS_HEADERS = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Methods': 'POST, GET, DELETE, PUT, OPTIONS',
  'Access-Control-Allow-Headers': 'Content-Type, Authorization',
  'Access-Control-Allow-Credentials': 'true',
};

const ERROR_TEXTS: Record<number, string> = {
  404: '404: Not Found',
  405: '405: Method Not Allowed',
  413: '413: Request Entity Too Large',
  500: '500 Internal Server Error\n\nServer got itself in trouble',
};

/** The body was larger than max_upload_size. */
export class BodyTooLarge extends Error {}

export function readBody(req: IncomingMessage, limit = SERVER_FEATURES.max_upload_size.value): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new BodyTooLarge(`the body exceeds ${limit} bytes`));
        req.resume();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Headers every answer carries (the production template runs ComfyUI with --enable-cors-header). */
export function withCors(res: ServerResponse): void {
  for (const [name, value] of Object.entries(CORS_HEADERS)) res.setHeader(name, value);
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = pyJson(body);
  res.writeHead(status, {'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text)});
  res.end(text);
}

/** web.Response(status=…): no body. */
export function sendEmpty(res: ServerResponse, status = 200): void {
  res.writeHead(status, {'Content-Type': 'application/octet-stream', 'Content-Length': '0'});
  res.end();
}

export function sendBytes(res: ServerResponse, body: Buffer, headers: Record<string, string>): void {
  res.writeHead(200, {...headers, 'Content-Length': body.length});
  res.end(body);
}

/** aiohttp's text error pages (404, 405, 413, 500). */
export function sendError(res: ServerResponse, status: number, headers: Record<string, string> = {}): void {
  const text = ERROR_TEXTS[status] ?? `${status}`;
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, {...headers, 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text)});
  res.end(text);
}
