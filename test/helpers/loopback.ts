// A node:http server listening on a free loopback port, as the tests' stand-ins for the outside
// world (an image host, the Vast API, ComfyUI) use it.
import {once} from 'node:events';
import type {Server} from 'node:http';
import type {AddressInfo} from 'node:net';

/** Starts `server` on 127.0.0.1 and resolves with its http://127.0.0.1:<port> base. */
export async function listenLoopback(server: Server): Promise<string> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}
