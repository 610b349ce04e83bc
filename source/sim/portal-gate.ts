// A Caddy-like auth gate in front of one app port of a simulated instance, with the exact auth
// matrix of docs/vast-api.md §7.3 (?token=, cookie, Bearer, Basic) and Caddy's 502 page while the
// app is not listening. Called by instance-host.ts for the ComfyUI and Instance Portal ports.
import {once} from 'node:events';
import {createServer, STATUS_CODES, type IncomingMessage, type ServerResponse} from 'node:http';
import type {Duplex} from 'node:stream';

export type AppRequestHandler = (req: IncomingMessage, res: ServerResponse) => void;
export type AppUpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

export interface PortalGateOptions {
	instanceId: number;
	webUsername: string;
	webPassword: string;
	openButtonToken: string;
	/** Whether the app behind the gate accepts connections (502 until then). */
	isAppUp: () => boolean;
	handleRequest: AppRequestHandler;
	/** WebSocket upgrades that passed auth; without it they get a 404. */
	handleUpgrade?: AppUpgradeHandler;
}

export interface PortalGate {
	port: number;
	close(): Promise<void>;
}

type Verdict = {kind: 'pass'; url: string; setCookie?: string} | {kind: 'redirect'; location: string; setCookie: string} | {kind: 'deny'};

const OPEN_PATHS = new Set(['/manifest.json', '/manifest.webmanifest', '/site.webmanifest', '/security.txt', '/.well-known/security.txt', '/portal-resolver']);
const COOKIE_MAX_AGE_S = 604_800;
const BAD_GATEWAY_PAGE = `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>502 Bad Gateway</title></head>
<body>
<h1>502 Bad Gateway</h1>
<p>This application is not running yet. The instance may still be provisioning or starting it; try again in a few seconds.</p>
</body>
</html>
`;

function safeDecode(value: string): string {
	try {
		return decodeURIComponent(value);
	} catch {
		return value;
	}
}

/** Splits `token` out of the query string, leaving every other parameter byte for byte. */
function takeQueryToken(url: string): {token: string | undefined; rest: string} {
	const mark = url.indexOf('?');
	if (mark < 0) return {token: undefined, rest: url};
	let token: string | undefined;
	const kept = url
		.slice(mark + 1)
		.split('&')
		.filter((param) => {
			const [key = '', value = ''] = param.split(/=(.*)/s);
			if (key !== 'token' || token !== undefined) return true;
			token = safeDecode(value.replaceAll('+', ' '));
			return false;
		});
	return {token, rest: url.slice(0, mark) + (kept.length > 0 ? `?${kept.join('&')}` : '')};
}

function cookieValue(header: string | undefined, name: string): string | undefined {
	for (const part of (header ?? '').split(';')) {
		const eq = part.indexOf('=');
		if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
	}
	return undefined;
}

function isBrowserNavigation(req: IncomingMessage): boolean {
	return (req.headers.accept ?? '').includes('text/html') || req.headers['sec-fetch-dest'] === 'document';
}

function judge(req: IncomingMessage, options: PortalGateOptions): Verdict {
	const url = req.url ?? '/';
	const pathname = url.split('?')[0] ?? '/';
	if (OPEN_PATHS.has(pathname) || pathname.startsWith('/.well-known/acme-challenge/')) return {kind: 'pass', url};
	const tokens = [options.webPassword, options.openButtonToken].filter((token) => token.length > 0);
	const cookieName = `C.${options.instanceId}_auth_token`;

	const {token, rest} = takeQueryToken(url);
	if (token !== undefined && tokens.includes(token)) {
		const setCookie = `${cookieName}=${token}; Path=/; Max-Age=${COOKIE_MAX_AGE_S}; HttpOnly; SameSite=lax`;
		return isBrowserNavigation(req) ? {kind: 'redirect', location: rest, setCookie} : {kind: 'pass', url: rest, setCookie};
	}
	const cookie = cookieValue(req.headers.cookie, cookieName);
	if (cookie !== undefined && tokens.includes(cookie)) return {kind: 'pass', url};
	const authorization = req.headers.authorization ?? '';
	if (tokens.some((valid) => authorization === `Bearer ${valid}`)) return {kind: 'pass', url};
	const basic = /^basic +(\S+)$/i.exec(authorization);
	if (basic?.[1]) {
		const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
		const colon = decoded.indexOf(':');
		const [user, password] = [decoded.slice(0, colon), decoded.slice(colon + 1)];
		if (colon > 0 && user === options.webUsername && password === options.webPassword && password !== '') return {kind: 'pass', url};
	}
	return {kind: 'deny'};
}

function rawResponse(socket: Duplex, status: number, headers: string[] = []): void {
	const head = [`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}`, 'Connection: close', 'Content-Length: 0', ...headers];
	socket.end(`${head.join('\r\n')}\r\n\r\n`);
}

export async function startPortalGate(options: PortalGateOptions): Promise<PortalGate> {
	const upgraded = new Set<Duplex>();
	const server = createServer((req, res) => {
		const verdict = judge(req, options);
		if (verdict.kind === 'deny') {
			res.writeHead(401, {'WWW-Authenticate': 'Basic realm="restricted"', 'Content-Length': '0'}).end();
		} else if (verdict.kind === 'redirect') {
			res.writeHead(302, {'Location': verdict.location, 'Set-Cookie': verdict.setCookie, 'Content-Length': '0'}).end();
		} else if (!options.isAppUp()) {
			res.writeHead(502, {'Content-Type': 'text/html; charset=utf-8', 'Content-Length': Buffer.byteLength(BAD_GATEWAY_PAGE)});
			res.end(req.method === 'HEAD' ? undefined : BAD_GATEWAY_PAGE);
		} else {
			req.url = verdict.url;
			if (verdict.setCookie) res.setHeader('Set-Cookie', verdict.setCookie);
			options.handleRequest(req, res);
		}
	});
	server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
		socket.on('error', () => {});
		const verdict = judge(req, options);
		if (verdict.kind === 'deny') return rawResponse(socket, 401, ['WWW-Authenticate: Basic realm="restricted"']);
		if (!options.isAppUp()) return rawResponse(socket, 502);
		if (!options.handleUpgrade) return rawResponse(socket, 404);
		req.url = verdict.kind === 'redirect' ? verdict.location : verdict.url;
		upgraded.add(socket);
		socket.once('close', () => upgraded.delete(socket));
		return options.handleUpgrade(req, socket, head);
	});
	server.listen(0, '127.0.0.1');
	await once(server, 'listening');
	const address = server.address();
	if (!address || typeof address === 'string') throw new Error('the portal gate has no TCP address');

	return {
		port: address.port,
		close: async () => {
			const closed = new Promise<void>((resolve) => server.close(() => resolve()));
			server.closeAllConnections();
			for (const socket of upgraded) socket.destroy();
			await closed;
		},
	};
}
