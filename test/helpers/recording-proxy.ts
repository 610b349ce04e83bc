// A loopback HTTP + WebSocket proxy for client tests: it records every request line (method, URL,
// Authorization header), counts the server's binary WebSocket frames, and can misbehave on cue
// (refuse upgrades, cut sockets, slip a binary frame in). Used by test/integration/comfy-client.test.ts
// to watch what the client really sends and gets.
import {once} from 'node:events';
import {createServer, request, type Server} from 'node:http';
import {connect} from 'node:net';
import type {Duplex} from 'node:stream';

export interface Recorded {
  method: string;
  url: string;
  authorization?: string;
  upgrade: boolean;
}

/** A loopback HTTP + WebSocket proxy that records every request line and can misbehave on cue. */
export class RecordingProxy {
  readonly requests: Recorded[] = [];
  /** Answer WebSocket upgrades with 502 (the socket cannot come back). */
  refuseUpgrades = false;
  /** Put a binary preview frame on every new socket, before the server's first message. */
  injectBinaryFrame = false;
  /** Binary frames the server sent to clients, by the first 12 bytes of their payload (hex). */
  readonly binaryFrames = new Map<string, number>();
  readonly #upgraded = new Set<Duplex>();

  private constructor(
    readonly server: Server,
    readonly url: string,
  ) {}

  static async start(targetPort: number): Promise<RecordingProxy> {
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const address = server.address();
    if (!address || typeof address === 'string') throw new Error('the proxy has no port');
    const proxy = new RecordingProxy(server, `http://127.0.0.1:${address.port}`);
    server.on('request', (req, res) => {
      proxy.requests.push({method: req.method ?? '', url: req.url ?? '', authorization: req.headers.authorization, upgrade: false});
      const upstream = request({host: '127.0.0.1', port: targetPort, method: req.method, path: req.url, headers: req.headers}, answer => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      upstream.on('error', () => res.destroy());
      req.pipe(upstream);
    });
    server.on('upgrade', (req, socket: Duplex, head: Buffer) => {
      proxy.requests.push({method: req.method ?? '', url: req.url ?? '', authorization: req.headers.authorization, upgrade: true});
      socket.on('error', () => {});
      if (proxy.refuseUpgrades) return socket.end('HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      proxy.#upgraded.add(socket);
      socket.once('close', () => proxy.#upgraded.delete(socket));
      const upstream = connect(targetPort, '127.0.0.1');
      upstream.on('error', () => socket.destroy());
      socket.on('close', () => upstream.destroy());
      upstream.on('close', () => socket.destroy());
      const lines = [`${req.method} ${req.url} HTTP/1.1`];
      for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
      upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
      upstream.write(head);
      socket.pipe(upstream);
      const inject = proxy.injectBinaryFrame;
      let pending: Buffer | undefined = Buffer.alloc(0);
      const frames = new FrameCounter(proxy.binaryFrames);
      upstream.on('data', (chunk: Buffer) => {
        if (!pending) {
          frames.push(chunk);
          return void socket.write(chunk);
        }
        pending = Buffer.concat([pending, chunk]);
        const end = pending.indexOf('\r\n\r\n');
        if (end < 0) return;
        socket.write(pending.subarray(0, end + 4));
        // [u32 1 PREVIEW_IMAGE][u32 1 JPEG][bytes], docs/comfyui-api.md §5.4, unmasked binary frame.
        const preview = Buffer.from([0, 0, 0, 1, 0, 0, 0, 1, 0xff, 0xd8, 0xff, 0xe0]);
        if (inject && pending.subarray(0, 12).toString().includes(' 101 ')) socket.write(Buffer.concat([Buffer.from([0x82, preview.length]), preview]));
        frames.push(pending.subarray(end + 4));
        socket.write(pending.subarray(end + 4));
        pending = undefined;
      });
    });
    return proxy;
  }

  /** How many binary frames the server sent whose payload starts with these bytes (12 at most). */
  binaryFramesStarting(head: number[]): number {
    const prefix = Buffer.from(head).toString('hex');
    return [...this.binaryFrames].filter(([start]) => start.startsWith(prefix)).reduce((sum, [, count]) => sum + count, 0);
  }

  cutSockets(): void {
    for (const socket of this.#upgraded) socket.destroy();
  }

  async close(): Promise<void> {
    this.cutSockets();
    this.server.closeAllConnections();
    await new Promise(resolve => this.server.close(resolve));
  }
}

/** Splits a server's (unmasked) WebSocket byte stream into frames and counts the binary ones by their first bytes. */
class FrameCounter {
  #buffered = Buffer.alloc(0);
  constructor(private readonly counts: Map<string, number>) {}

  push(chunk: Buffer): void {
    this.#buffered = Buffer.concat([this.#buffered, chunk]);
    for (;;) {
      const frame = this.#buffered;
      if (frame.length < 2) return;
      const short = frame[1]! & 0x7f;
      const headerBytes = short === 126 ? 4 : short === 127 ? 10 : 2;
      if (frame.length < headerBytes) return;
      const length = short === 126 ? frame.readUInt16BE(2) : short === 127 ? Number(frame.readBigUInt64BE(2)) : short;
      if (frame.length < headerBytes + length) return;
      if ((frame[0]! & 0x0f) === 0x2) {
        const head = frame.subarray(headerBytes, headerBytes + Math.min(12, length)).toString('hex');
        this.counts.set(head, (this.counts.get(head) ?? 0) + 1);
      }
      this.#buffered = frame.subarray(headerBytes + length);
    }
  }
}
