// The simulated ComfyUI's WebSocket side (/ws and /api/ws?clientId=…), as server.py's
// websocket_handler and send_sync behave: a status greeting with the sid, events routed by client
// id (dropped when that client is not connected), feature flags, and the drop/stall faults.
// Used by comfy-server.ts through the portal gate's upgrade hook.
import {randomUUID} from 'node:crypto';
import type {IncomingMessage} from 'node:http';
import type {Duplex} from 'node:stream';
import {WebSocketServer, type WebSocket} from 'ws';
import {PyFloat} from './py-json.js';

function u32(value: number): Buffer {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(value);
  return bytes;
}

export const SERVER_FEATURES = {supports_preview_metadata: true, max_upload_size: new PyFloat(100 * 1024 * 1024)};

/** protocol.py BinaryEventTypes, as they go on the wire (UNENCODED_PREVIEW_IMAGE is internal). */
export const BinaryEvent = {PREVIEW_IMAGE: 1, TEXT: 3, PREVIEW_IMAGE_WITH_METADATA: 4} as const;

/** What send_image_with_metadata puts in a type-4 frame's JSON. */
export interface PreviewMetadata {
  node_id: string;
  prompt_id: string;
  display_node_id: string;
  parent_node_id: string | null;
  real_node_id: string;
}

export interface SocketHubOptions {
  /** What a client gets right after connecting: status (with sid), maybe executing. */
  greeting(sid: string): Array<{type: string; data: Record<string, unknown>}>;
}

export class SocketHub {
  /** Fault: while true nothing is sent (a stalled publish loop); events are dropped, not buffered. */
  muted = false;
  private readonly server = new WebSocketServer({noServer: true});
  private readonly sockets = new Map<string, WebSocket>();
  /** Every open socket and the client id it connected with. */
  private readonly open = new Map<WebSocket, string>();
  /** Sockets whose first message announced supports_preview_metadata. */
  private readonly withMetadata = new WeakSet<WebSocket>();

  constructor(private readonly options: SocketHubOptions) {}

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://comfy.invalid');
    if (url.pathname !== '/ws' && url.pathname !== '/api/ws') {
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 14\r\nConnection: close\r\n\r\n404: Not Found');
      return;
    }
    this.server.handleUpgrade(req, socket, head, (ws) => this.accept(ws, url.searchParams.get('clientId') || randomUUID().replaceAll('-', '')));
  }

  /** send_sync: to one client id, or to every socket when `sid` is null. */
  send(type: string, data: Record<string, unknown>, sid: string | null): void {
    if (this.muted) return;
    const text = JSON.stringify({type, data});
    if (sid === null) {
      for (const ws of this.sockets.values()) ws.send(text);
    } else {
      this.sockets.get(sid)?.send(text);
    }
  }

  /**
   * send_image: a PNG or JPEG as a binary frame — [u32 1][u32 format (1 JPEG, 2 PNG)][bytes] (what
   * the script examples read with out[8:]), or [u32 4][u32 n][n bytes of JSON metadata][bytes] to a
   * client that announced supports_preview_metadata. To `sid`, or every socket when null.
   */
  sendImage(image: Buffer, format: 'PNG' | 'JPEG', metadata: PreviewMetadata, sid: string | null): void {
    if (this.muted) return;
    const targets = sid === null ? [...this.sockets.values()] : [this.sockets.get(sid)].filter((ws): ws is WebSocket => ws !== undefined);
    for (const ws of targets) {
      if (this.withMetadata.has(ws)) {
        const json = Buffer.from(JSON.stringify({...metadata, image_type: format === 'PNG' ? 'image/png' : 'image/jpeg'}));
        ws.send(Buffer.concat([u32(BinaryEvent.PREVIEW_IMAGE_WITH_METADATA), u32(json.length), json, image]), {binary: true});
      } else {
        ws.send(Buffer.concat([u32(BinaryEvent.PREVIEW_IMAGE), u32(format === 'PNG' ? 2 : 1), image]), {binary: true});
      }
    }
  }

  /** Fault: cuts the sockets of `clientId` (every socket when absent) without a close frame. */
  drop(clientId?: string): number {
    const victims = [...this.open].filter(([, sid]) => clientId === undefined || sid === clientId).map(([ws]) => ws);
    for (const ws of victims) ws.terminate();
    return victims.length;
  }

  async close(): Promise<void> {
    for (const ws of this.open.keys()) ws.terminate();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(ws: WebSocket, sid: string): void {
    // A reused clientId replaces the entry without closing the older socket (as aiohttp's handler does).
    this.sockets.set(sid, ws);
    this.open.set(ws, sid);
    ws.on('error', () => {});
    ws.on('close', () => {
      this.open.delete(ws);
      // The handler's `finally: sockets.pop(sid)` removes whatever socket holds the id now, even a newer one.
      this.sockets.delete(sid);
    });
    for (const {type, data} of this.options.greeting(sid)) ws.send(JSON.stringify({type, data}));
    let first = true;
    ws.on('message', (raw, isBinary) => {
      if (isBinary) return;
      try {
        const message = JSON.parse(raw.toString()) as {type?: unknown};
        if (first && message.type === 'feature_flags') {
          const data = (message as {data?: {supports_preview_metadata?: unknown}}).data;
          if (data?.supports_preview_metadata === true) this.withMetadata.add(ws);
          ws.send(JSON.stringify({type: 'feature_flags', data: SERVER_FEATURES}));
        }
      } catch {
        // Invalid JSON from a client is logged and ignored by the real server.
      }
      first = false;
    });
  }
}
