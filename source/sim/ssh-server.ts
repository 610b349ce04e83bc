// The simulated instance's sshd: an ssh2 Server on its own loopback port with publickey auth for
// root, Vast's banner, `exec` through the command interpreter, a banner-only `shell`, read-only
// SFTP, and two faults (drop every connection, refuse auth). Called by instance-host.ts.
import {createHash} from 'node:crypto';
import {once} from 'node:events';
import {createServer, type Socket} from 'node:net';
import type {Writable} from 'node:stream';
import ssh2, {type Connection, type ParsedKey, type ServerChannel} from 'ssh2';
import {runCommandLine} from './ssh-commands.js';
import {serveSftp} from './ssh-sftp.js';
import type {VirtualFs} from './virtual-fs.js';

const {Server, utils} = ssh2;

export const VAST_SSH_BANNER =
	'Welcome to vast.ai. If authentication fails, try again after a few seconds, and double check your ssh key.\nHave fun!\n';
const SHELL_NOTE = 'This is a simulated vast.ai instance: interactive shells are not available, run commands with ssh exec.\n';

export interface SshServerOptions {
	fs: VirtualFs;
	/** OpenSSH public key lines; unparsable lines are ignored, as sshd does. */
	authorizedKeys: string[];
	/** PEM/OpenSSH private host key; an ed25519 key is generated when absent. */
	hostKey?: string;
	/** The container environment that `$VAR` expands from. */
	env: Record<string, string>;
	/** The instance's clock, epoch ms (`date`). */
	now?: () => number;
	onConnection?: (connectionId: number) => void;
	onClose?: (connectionId: number) => void;
}

export interface SimSshServer {
	port: number;
	/** OpenSSH style: 'SHA256:' + unpadded base64. */
	hostKeyFingerprintSha256: string;
	setAuthorizedKeys(lines: string[]): void;
	setRefusing(on: boolean): void;
	/** On: the port is dead (a stopped container, a host gone offline): every new TCP connection is reset. */
	setUnreachable(on: boolean): void;
	/** Kills every live connection at the socket (a network drop); new connections are still accepted. */
	dropConnections(): void;
	close(): Promise<void>;
}

function parseAuthorizedKeys(lines: string[]): ParsedKey[] {
	return lines.flatMap((line) => {
		const trimmed = line.trim();
		if (!trimmed || trimmed.startsWith('#')) return [];
		const parsed = utils.parseKey(trimmed);
		if (parsed instanceof Error) return [];
		return Array.isArray(parsed) ? parsed.slice(0, 1) : [parsed];
	});
}

/**
 * ssh2's generateKeyPairSync('ed25519') makes about 1 key in 270 that its own parser rejects (a
 * public key with a leading zero byte), so a generated key is only used once it parses.
 */
function generateHostKey(): string {
	for (let attempt = 0; ; attempt++) {
		const pem = utils.generateKeyPairSync('ed25519').private;
		const parsed = utils.parseKey(pem);
		const key = Array.isArray(parsed) ? parsed[0] : parsed;
		if ((key && !(key instanceof Error)) || attempt >= 20) return pem;
	}
}

function hostKeyOf(hostKey: string | undefined): {pem: string; fingerprint: string} {
	const pem = hostKey ?? generateHostKey();
	const parsed = utils.parseKey(pem);
	const key = Array.isArray(parsed) ? parsed[0] : parsed;
	if (!key || key instanceof Error || !key.isPrivateKey()) {
		throw new Error('hostKey is not an unencrypted PEM/OpenSSH private key; pass one or leave it out to generate an ed25519 key');
	}
	const digest = createHash('sha256').update(key.getPublicSSH()).digest('base64').replace(/=+$/, '');
	return {pem, fingerprint: `SHA256:${digest}`};
}

/** A terminal's ONLCR: every LF leaves as CR LF. */
function toCrlf(data: Buffer | string): Buffer {
	const bytes = typeof data === 'string' ? Buffer.from(data) : data;
	return bytes.includes(0x0a) ? Buffer.from(bytes.toString('latin1').replaceAll('\n', '\r\n'), 'latin1') : bytes;
}

export async function startSshServer(options: SshServerOptions): Promise<SimSshServer> {
	const {pem, fingerprint} = hostKeyOf(options.hostKey);
	let keys = parseAuthorizedKeys(options.authorizedKeys);
	let refusing = false;
	let unreachable = false;
	let nextConnectionId = 1;
	const sockets = new Set<Socket>();
	const running = new Set<AbortController>();

	const runExec = (channel: ServerChannel, command: string, pty: boolean, session: Set<AbortController>): void => {
		const controller = new AbortController();
		running.add(controller);
		session.add(controller);
		channel.on('error', () => {});
		channel.once('close', () => controller.abort());
		const send = (target: Writable, data: Buffer | string): void => {
			if (!controller.signal.aborted && !channel.destroyed) target.write(pty ? toCrlf(data) : data);
		};
		const io = {
			fs: options.fs,
			env: options.env,
			cwd: options.env.HOME ?? '/root',
			stdout: (data: Buffer | string) => send(channel, data),
			// With a pty the terminal merges stderr into the output stream.
			stderr: (data: Buffer | string) => send(pty ? channel : channel.stderr, data),
			signal: controller.signal,
			now: options.now,
		};
		runCommandLine(command, io)
			.catch((error: unknown) => {
				io.stderr(`sh: 1: internal error: ${error instanceof Error ? error.message : String(error)}\n`);
				return 2;
			})
			.then((status) => {
				running.delete(controller);
				session.delete(controller);
				if (controller.signal.aborted || channel.destroyed) return;
				channel.exit(status);
				channel.end();
			});
	};

	const onClient = (client: Connection): void => {
		const connectionId = nextConnectionId++;
		const commands = new Set<AbortController>();
		let ready = false;
		client.on('error', () => {});
		client.on('authentication', (ctx) => {
			if (refusing || ctx.username !== 'root' || ctx.method !== 'publickey') return ctx.reject(['publickey']);
			const key = keys.find((candidate) => candidate.type === ctx.key.algo && candidate.getPublicSSH().equals(ctx.key.data));
			if (!key) return ctx.reject(['publickey']);
			if (ctx.signature && ctx.blob && !key.verify(ctx.blob, ctx.signature, ctx.hashAlgo)) return ctx.reject(['publickey']);
			return ctx.accept();
		});
		client.on('ready', () => {
			ready = true;
			options.onConnection?.(connectionId);
			client.on('session', (acceptSession) => {
				const session = acceptSession();
				let pty = false;
				session.on('pty', (accept) => {
					pty = true;
					accept?.();
				});
				session.on('window-change', (accept) => accept?.());
				session.on('env', (accept) => accept?.());
				session.on('signal', (accept) => {
					accept?.();
					for (const controller of commands) controller.abort();
				});
				session.on('exec', (accept, _reject, info) => runExec(accept(), info.command, pty, commands));
				session.on('shell', (accept) => {
					const channel = accept();
					channel.on('error', () => {});
					channel.write(toCrlf(`${VAST_SSH_BANNER}${SHELL_NOTE}`));
					channel.exit(0);
					channel.end();
				});
				session.on('sftp', (accept) => serveSftp(accept(), options.fs));
			});
		});
		client.on('close', () => {
			for (const controller of commands) controller.abort();
			if (ready) options.onClose?.(connectionId);
		});
	};

	// Server-side keepalive reaps half-open connections (and their tails) after a silent network drop.
	const ssh = new Server({hostKeys: [pem], banner: VAST_SSH_BANNER, keepaliveInterval: 15_000, keepaliveCountMax: 3}, onClient);
	const listener = createServer((socket) => {
		if (unreachable) return void socket.resetAndDestroy();
		sockets.add(socket);
		socket.once('close', () => sockets.delete(socket));
		ssh.injectSocket(socket);
	});
	listener.listen(0, '127.0.0.1');
	await once(listener, 'listening');
	const address = listener.address();
	if (!address || typeof address === 'string') throw new Error('the SSH listener has no TCP address');

	return {
		port: address.port,
		hostKeyFingerprintSha256: fingerprint,
		setAuthorizedKeys: (lines) => {
			keys = parseAuthorizedKeys(lines);
		},
		setRefusing: (on) => {
			refusing = on;
		},
		setUnreachable: (on) => {
			unreachable = on;
		},
		dropConnections: () => {
			for (const socket of sockets) socket.destroy();
		},
		close: async () => {
			for (const controller of running) controller.abort();
			const closed = new Promise<void>((resolve) => listener.close(() => resolve()));
			for (const socket of sockets) socket.destroy();
			await closed;
		},
	};
}
