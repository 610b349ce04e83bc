// Vast's SSH proxy for one simulated instance (`ssh_host`:`ssh_port`, docs/vast-api.md §6.2): a
// loopback port reserved when the instance is created, long before its container runs, that forwards
// each connection byte for byte to the container's sshd once there is one. Owned by instances.ts.
import {once} from 'node:events';
import {connect, createServer, type Socket} from 'node:net';
import {pipeline} from 'node:stream';

export interface SshProxyOptions {
  /** The container sshd's loopback port while the container runs; undefined while there is none. */
  target: () => number | undefined;
}

export interface SshProxy {
  port: number;
  close(): Promise<void>;
}

/**
 * With no container behind it the proxy accepts a connection and closes it before sending a byte:
 * that is what a forwarding proxy whose far end cannot be reached does (as an OpenSSH remote forward
 * does), and OpenSSH shows it as "kex_exchange_identification: Connection closed by remote host"
 * [INFERRED: Vast does not document its proxy's answer before `running`]. Refusing the connection
 * instead would need the port to be unbound, and the API already shows it from the create on.
 */
export async function startSshProxy(options: SshProxyOptions): Promise<SshProxy> {
  const sockets = new Set<Socket>();
  const listener = createServer(socket => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    const port = options.target();
    if (port === undefined) return void socket.end();
    forward(socket, port, sockets);
  });
  listener.listen(0, '127.0.0.1');
  await once(listener, 'listening');
  const address = listener.address();
  if (!address || typeof address === 'string') throw new Error('the SSH proxy has no TCP address');
  return {
    port: address.port,
    close: async () => {
      const closed = new Promise<void>(resolve => listener.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

/**
 * Joins the client to the container's sshd in both directions. Either side ending ends the other
 * (the sshd dropping a halted container's connections closes the client's too); an error on either
 * destroys both, so the client sees its connection drop as it would through Vast's proxy.
 */
function forward(client: Socket, port: number, sockets: Set<Socket>): void {
  const upstream = connect({host: '127.0.0.1', port});
  sockets.add(upstream);
  upstream.once('close', () => sockets.delete(upstream));
  // The callback only keeps a failed side's error from going unhandled: pipeline has closed both.
  pipeline(client, upstream, client, () => {});
}
