// The simulated ComfyUI's WebSocket side (/ws and /api/ws?clientId=…), as server.py's
// websocket_handler and send_sync behave: a status greeting with the sid, events routed by client
// id (dropped when that client is not connected), feature flags, and the drop/stall faults.
// Used by comfy-server.ts through the portal gate's upgrade hook.
import {randomUUID} from 'node:crypto';
import type {IncomingMessage} from 'node:http';
import type {Duplex} from 'node:stream';
import {WebSocketServer, type WebSocket} from 'ws';

export const SERVER_FEATURES = {supports_preview_metadata: true, max_upload_size: 100 * 1024 * 1024};

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
        if (first && message.type === 'feature_flags') ws.send(JSON.stringify({type: 'feature_flags', data: SERVER_FEATURES}));
      } catch {
        // Invalid JSON from a client is logged and ignored by the real server.
      }
      first = false;
    });
  }
}
