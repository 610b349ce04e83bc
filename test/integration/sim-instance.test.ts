// The simulated instance host over real loopback sockets: SSH (auth, exec, tail -F, SFTP, faults),
// the Caddy-like portal gate's auth matrix, and the boot replay's markers and events.
import {randomBytes} from 'node:crypto';
import {once, type EventEmitter} from 'node:events';
import {request} from 'node:http';
import ssh2, {type ClientChannel, type ExecOptions} from 'ssh2';
import {afterEach, describe, expect, it} from 'vitest';
import WebSocket, {WebSocketServer} from 'ws';
import {decodePayload, fixturePath, loadBootScenario} from '../../source/sim/boot-fixture.js';
import {ManualClock} from '../../source/sim/comfy/sim-clock.js';
import {startInstanceHost, type InstanceHost, type InstanceHostOptions} from '../../source/sim/instance-host.js';
import {usableKeyPair} from '../helpers/ssh-key.js';

const {Client, utils} = ssh2;
type SshClient = InstanceType<typeof Client>;

const key = usableKeyPair('ed25519');
const strangerKey = usableKeyPair('ed25519');
const WEB_PASSWORD = 'web-password-123';
const OPEN_BUTTON_TOKEN = 'a'.repeat(64);
const INSTANCE_ID = 4242;
const PORTAL_LOGS = ['/var/log/portal/provisioning.log', '/var/log/portal/comfyui.log', '/var/log/portal/api-wrapper.log'] as const;

const hosts: InstanceHost[] = [];
const clients: SshClient[] = [];

afterEach(async () => {
	for (const client of clients.splice(0)) client.end();
	await Promise.all(hosts.splice(0).map((host) => host.close()));
});

async function startHost(options: Partial<InstanceHostOptions> = {}): Promise<InstanceHost> {
	const host = await startInstanceHost({
		instanceId: INSTANCE_ID,
		scenario: 'happy',
		speed: 1000,
		authorizedKeys: [key.public],
		webPassword: WEB_PASSWORD,
		openButtonToken: OPEN_BUTTON_TOKEN,
		...options,
	});
	hosts.push(host);
	return host;
}

async function connect(host: InstanceHost, privateKey = key.private): Promise<{client: SshClient; banner: string; fingerprintHex: string}> {
	const client = new Client();
	clients.push(client);
	let banner = '';
	let fingerprintHex = '';
	client.on('banner', (message: string) => (banner += message));
	await new Promise<void>((resolve, reject) => {
		client.once('ready', resolve).once('error', reject);
		client.connect({
			host: '127.0.0.1',
			port: host.sshPort,
			username: 'root',
			privateKey,
			hostHash: 'sha256',
			hostVerifier: (hash: string) => ((fingerprintHex = hash), true),
			readyTimeout: 5000,
			// Fast keepalives: every test also checks that the server answers them.
			keepaliveInterval: 100,
			keepaliveCountMax: 2,
		});
	});
	client.on('error', () => {});
	return {client, banner, fingerprintHex};
}

interface Exec {
	channel: ClientChannel;
	stdout: () => Buffer;
	stderr: () => string;
	/** Resolves with the exit status (undefined when none came) once the channel closes. */
	done: Promise<number | undefined>;
}

/** Starts a command; listeners attach inside the callback, before ssh2 can parse the reply packets. */
function start(client: SshClient, command: string, options: ExecOptions = {}): Promise<Exec> {
	return new Promise((resolve, reject) =>
		client.exec(command, options, (error, channel) => {
			if (error) return reject(error);
			const out: Buffer[] = [];
			let err = '';
			let code: number | undefined;
			channel.on('data', (data: Buffer) => out.push(data));
			channel.stderr.on('data', (data: Buffer) => (err += data.toString()));
			channel.on('exit', (status: number) => (code = status));
			const done = once(channel, 'close').then(() => code);
			return resolve({channel, stdout: () => Buffer.concat(out), stderr: () => err, done});
		}),
	);
}

async function run(client: SshClient, command: string, options: ExecOptions = {}): Promise<{stdout: string; stderr: string; code: number | undefined}> {
	const exec = await start(client, command, options);
	const code = await exec.done;
	return {stdout: exec.stdout().toString(), stderr: exec.stderr(), code};
}

async function waitUntil(check: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (!check()) {
		if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
		await new Promise((resolve) => setTimeout(resolve, 10));
	}
}

function nextEvent(events: EventEmitter, name: string): Promise<{simTimeMs: number}> {
	return once(events, name).then(([payload]) => payload as {simTimeMs: number});
}

function get(port: number, path: string, headers: Record<string, string> = {}): Promise<{status: number; headers: Record<string, string | string[] | undefined>; body: string}> {
	return new Promise((resolve, reject) => {
		const req = request({host: '127.0.0.1', port, path, headers}, (res) => {
			let body = '';
			res.on('data', (chunk: Buffer) => (body += chunk.toString()));
			res.on('end', () => resolve({status: res.statusCode ?? 0, headers: res.headers, body}));
		});
		req.on('error', reject);
		req.end();
	});
}

const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

/** Splits `tail` output with `==> FILE <==` headers back into per-file bytes. */
function demultiplex(stdout: Buffer): Map<string, string> {
	const files = new Map<string, string>();
	const parts = stdout.toString('latin1').split(/(?:^|\n)==> (\S+) <==\n/);
	for (let i = 1; i < parts.length; i += 2) {
		const name = parts[i] ?? '';
		files.set(name, (files.get(name) ?? '') + (parts[i + 1] ?? ''));
	}
	return files;
}

describe('simulated instance over SSH', () => {
	it('lets the authorized key in with the Vast banner and refuses a stranger key', async () => {
		const host = await startHost();
		const {client, banner, fingerprintHex} = await connect(host);
		expect(banner).toContain('Welcome to vast.ai. If authentication fails, try again after a few seconds');
		expect(`SHA256:${Buffer.from(fingerprintHex, 'hex').toString('base64').replace(/=+$/, '')}`).toBe(host.hostKeyFingerprintSha256);
		expect(await run(client, 'echo hello $VAST_CONTAINERLABEL')).toEqual({stdout: `hello C.${INSTANCE_ID}\n`, stderr: '', code: 0});
		await expect(connect(host, strangerKey.private)).rejects.toThrow(/authentication methods failed/);

		host.setSshRefusing(true);
		await expect(connect(host)).rejects.toThrow(/authentication methods failed/);
		host.setSshRefusing(false);
		await expect(connect(host)).resolves.toBeTruthy();
	});

	it('streams the three portal logs with tail -n +1 -F in order, waiting for files that appear late', async () => {
		const host = await startHost({speed: 200, bootDelayMs: 2000});
		const {client} = await connect(host);
		const tail = await start(client, `tail -n +1 -F ${PORTAL_LOGS.join(' ')}`);
		await nextEvent(host.events, 'comfy-listening');
		const expected = (): Map<string, string> => new Map(PORTAL_LOGS.map((path) => [path, host.fs.read(path)?.toString('latin1') ?? '']));
		await waitUntil(() => JSON.stringify([...demultiplex(tail.stdout())].sort()) === JSON.stringify([...expected()].sort()), 'tail to catch up');

		expect(tail.stdout().toString().startsWith(`==> ${PORTAL_LOGS[0]} <==\n`)).toBe(true);
		expect(expected().get(PORTAL_LOGS[1])).toContain('To see the GUI go to: http://127.0.0.1:18188');
		for (const path of PORTAL_LOGS) {
			expect(tail.stderr()).toContain(`tail: cannot open '${path}' for reading: No such file or directory`);
			expect(tail.stderr()).toContain(`tail: '${path}' has appeared;  following new file`);
		}
	});

	it('resumes after a dropped connection with tail -n +K without duplicating lines', async () => {
		const host = await startHost({speed: 100});
		const log = PORTAL_LOGS[0];
		const first = await connect(host);
		const tail = await start(first.client, `tail -n +1 -F ${log}`);
		const completeLines = (): number => tail.stdout().filter((byte) => byte === 0x0a).length;
		await waitUntil(() => completeLines() >= 100, '100 provisioning lines');

		const closed = once(first.client, 'close');
		host.dropSshConnections();
		await closed;
		const seen = tail.stdout();
		const seenComplete = seen.subarray(0, seen.lastIndexOf(0x0a) + 1);
		const resumeAt = seenComplete.filter((byte) => byte === 0x0a).length + 1;

		const second = await connect(host);
		const resumed = await start(second.client, `tail -n +${resumeAt} -F ${log}`);
		await nextEvent(host.events, 'provisioning-complete');
		await waitUntil(() => resumed.stdout().toString().includes('[INFO] Provisioning complete!'), 'the last provisioning line');
		expect(Buffer.concat([seenComplete, resumed.stdout()]).equals(host.fs.read(log) ?? Buffer.alloc(0))).toBe(true);
	});

	it('answers cat, test, ls, stat, wc and shell wrappers with the right exit codes', async () => {
		// The boot delay leaves room for the connection under load before the marker check.
		const host = await startHost({speed: 200, bootDelayMs: 1500});
		const {client} = await connect(host);
		expect((await run(client, 'test -e /.provisioning_complete')).code).toBe(1);
		await nextEvent(host.events, 'provisioning-complete');
		expect((await run(client, 'test -e /.provisioning_complete')).code).toBe(0);
		expect((await run(client, '[ -f /.provisioning_failed ]')).code).toBe(1);

		const sshKeysLog = '/var/log/portal/ssh-keys.log';
		const size = host.fs.stat(sshKeysLog)?.sizeBytes;
		expect(await run(client, `cat ${sshKeysLog}`)).toEqual({stdout: 'SSH key propagation complete.\n', stderr: '', code: 0});
		expect(await run(client, 'cat /nope')).toEqual({stdout: '', stderr: 'cat: /nope: No such file or directory\n', code: 1});
		expect(await run(client, 'frobnicate --now')).toEqual({stdout: '', stderr: 'sh: 1: frobnicate: not found\n', code: 127});
		expect((await run(client, `bash -lc 'stat -c %s ${sshKeysLog}'`)).stdout).toBe(`${size}\n`);
		expect((await run(client, `wc -c ${sshKeysLog}`)).stdout).toBe(`${size} ${sshKeysLog}\n`);
		expect((await run(client, `sh -c "test -f /.provisioning_complete && echo done || echo not-yet"`)).stdout).toBe('done\n');
		expect((await run(client, 'test -e /nope 2>/dev/null || echo missing; echo next')).stdout).toBe('missing\nnext\n');
		expect((await run(client, 'ls /var/log/portal')).stdout.split('\n')).toEqual(expect.arrayContaining(['comfyui.log', 'provisioning.log', 'ssh-keys.log']));
		expect((await run(client, `ls /workspace/.venv-backups`)).stdout).toBe(`${INSTANCE_ID}\n`);
		expect((await run(client, 'echo hi', {pty: true})).stdout).toBe('hi\r\n');
	});

	it('implements tail counts, follows appends and a rotation by name', async () => {
		const host = await startHost({bootDelayMs: 60_000});
		host.fs.write('/tmp/app.log', 'one\ntwo\nthree\n');
		const {client} = await connect(host);
		expect((await run(client, 'tail -n 2 /tmp/app.log')).stdout).toBe('two\nthree\n');
		expect((await run(client, 'tail -n +2 /tmp/app.log')).stdout).toBe('two\nthree\n');
		expect((await run(client, 'tail -c +5 /tmp/app.log')).stdout).toBe('two\nthree\n');
		expect((await run(client, 'tail /tmp/none')).code).toBe(1);

		const tail = await start(client, 'tail -n 0 -F /tmp/app.log');
		await new Promise((resolve) => setTimeout(resolve, 50));
		host.fs.append('/tmp/app.log', 'four\n');
		await waitUntil(() => tail.stdout().toString() === 'four\n', 'the appended line');
		host.fs.rename('/tmp/app.log', '/tmp/app.log.old');
		host.fs.append('/tmp/app.log', 'fresh\n');
		await waitUntil(() => tail.stdout().toString() === 'four\nfresh\n', 'the line of the new file');
		expect(tail.stderr()).toContain("tail: '/tmp/app.log' has become inaccessible: No such file or directory");
		expect(tail.stderr()).toContain("tail: '/tmp/app.log' has appeared;  following new file");
	});

	it('serves the virtual filesystem read-only over SFTP and prints the banner for a shell', async () => {
		const host = await startHost();
		await nextEvent(host.events, 'comfy-listening');
		const {client} = await connect(host);
		const sftp = await new Promise<ssh2.SFTPWrapper>((resolve, reject) => client.sftp((error, wrapper) => (error ? reject(error) : resolve(wrapper))));
		const output = randomBytes(300_000); // several SFTP reads
		host.fs.write('/workspace/ComfyUI/output/ComfyUI_00001_.png', output);
		const content = await new Promise<Buffer>((resolve, reject) =>
			sftp.readFile('/workspace/ComfyUI/output/ComfyUI_00001_.png', (error, data) => (error ? reject(error) : resolve(data))),
		);
		expect(content.equals(output)).toBe(true);
		const names = await new Promise<string[]>((resolve, reject) =>
			sftp.readdir('/var/log/portal', (error, list) => (error ? reject(error) : resolve(list.map((entry) => entry.filename)))),
		);
		expect(names).toEqual(expect.arrayContaining(['comfyui.log', 'provisioning.log', 'api-wrapper.log']));
		await expect(new Promise((resolve, reject) => sftp.writeFile('/tmp/x', 'x', (error) => (error ? reject(error) : resolve(true))))).rejects.toThrow();

		const text = await new Promise<string>((resolve, reject) =>
			client.shell((error, channel) => {
				if (error) return reject(error);
				let received = '';
				channel.on('data', (data: Buffer) => (received += data.toString()));
				return channel.on('close', () => resolve(received));
			}),
		);
		expect(text).toContain('Welcome to vast.ai.');
	});
});

describe('simulated instance boot', () => {
	it('decodes fixture escapes and maps fixture names to instance paths', () => {
		expect(decodePayload(String.raw`a\tb\rc\e[0m\x07\\n`)).toEqual(Buffer.from('a\tb\rc\x1b[0m\x07\\n\n'));
		expect(decodePayload(String.raw` 42%[===>  ]\r\c`)).toEqual(Buffer.from(' 42%[===>  ]\r'));
		expect(decodePayload('✓ done')).toEqual(Buffer.from('✓ done\n'));
		expect(fixturePath('var-log-portal-api-wrapper.log')).toBe('/var/log/portal/api-wrapper.log');
		expect(fixturePath('var-log-onstart.log')).toBe('/var/log/onstart.log');
		expect(fixturePath('workspace-ComfyUI-user-comfyui_18188.log')).toBe('/workspace/ComfyUI/user/comfyui_18188.log');
	});

	it('fires comfy-listening at the GUI line time divided by the speed, and stamps log lines on its own clock', async () => {
		const speed = 100;
		const time = new ManualClock(Date.UTC(2027, 1, 3, 8, 0, 0));
		const host = await startHost({speed, time, ownTimestamps: true});
		let heard: number | undefined;
		host.events.once('comfy-listening', ({simTimeMs}: {simTimeMs: number}) => (heard = time.now()));
		const scenario = await loadBootScenario('happy');
		expect(scenario.moments.comfyListeningMs).toBe(214_824);
		await time.advance(214_824 / speed - 10);
		expect(heard).toBeUndefined();
		expect(host.comfyListening()).toBe(false);
		await time.advance(20);
		expect(heard).toBe(Date.UTC(2027, 1, 3, 8, 0, 0) + Math.ceil(214_824 / speed));
		expect(host.comfyListening()).toBe(true);
		// Fixture stamps (t = 0 at 2026-09-14 10:02:03) move to this boot: +9 s of scenario = +90 ms here.
		const provisioning = host.fs.read('/var/log/portal/provisioning.log')!.toString();
		expect(provisioning).toContain('2027-02-03 08:00:00 [INFO] Provisioner starting (version 1)');
		expect(provisioning).not.toContain('2026-09-14');
	});

	it('replays the failure scenario: failed marker, rotated comfyui.log, ComfyUI still starts', async () => {
		const host = await startHost({scenario: 'failure'});
		await nextEvent(host.events, 'provisioning-failed');
		expect(host.fs.exists('/.provisioning_failed')).toBe(true);
		expect(host.fs.exists('/.provisioning_complete')).toBe(false);
		expect(host.fs.read('/var/log/portal/provisioning.log')?.toString()).toContain('[ERROR] All 3 attempts exhausted');
		expect(host.fs.read('/var/log/portal/comfyui.log.old')?.toString()).toContain('Starting ComfyUI provisioning...');
		await nextEvent(host.events, 'comfy-listening');
		expect(host.fs.exists('/.provisioning')).toBe(false);
	});

	it('turns a happy boot into a failed one when a failure is injected during provisioning', async () => {
		const host = await startHost({speed: 200});
		let completed = false;
		host.events.on('provisioning-complete', () => (completed = true));
		await waitUntil(() => host.fs.read('/var/log/portal/provisioning.log')?.includes('Downloading 1 model(s)') ?? false, 'the model download');
		const failed = nextEvent(host.events, 'provisioning-failed');
		host.injectProvisioningFailure();
		await failed;
		expect(host.fs.exists('/.provisioning_failed')).toBe(true);
		expect(host.fs.read('/var/log/portal/provisioning.log')?.toString()).toContain('All 3 attempts exhausted');
		await nextEvent(host.events, 'comfy-listening');
		expect(completed).toBe(false);
		expect(host.fs.exists('/.provisioning_complete')).toBe(false);
	});
});

describe('portal gate', () => {
	it('answers 502 until ComfyUI listens, then applies the Caddy auth matrix', async () => {
		const host = await startHost({speed: 200});
		const port = host.portalPort;
		const bearer = {Authorization: `Bearer ${WEB_PASSWORD}`};
		const early = await get(port, '/system_stats', bearer);
		expect(early.status).toBe(502);
		expect(early.headers['content-type']).toContain('text/html');
		expect((await get(port, '/system_stats')).status).toBe(401);
		await nextEvent(host.events, 'comfy-listening');

		const denied = await get(port, '/system_stats');
		expect(denied.status).toBe(401);
		expect(denied.headers['www-authenticate']).toMatch(/^Basic /);
		expect((await get(port, '/system_stats', bearer)).status).toBe(200);
		expect((await get(port, '/system_stats', {Authorization: `Bearer ${OPEN_BUTTON_TOKEN}`})).status).toBe(200);
		expect((await get(port, '/system_stats', {Authorization: `bearer ${WEB_PASSWORD}`})).status).toBe(401);
		expect((await get(port, '/system_stats', {Authorization: basic('vastai', WEB_PASSWORD)})).status).toBe(200);
		expect((await get(port, '/system_stats', {Authorization: basic('root', WEB_PASSWORD)})).status).toBe(401);
		expect((await get(port, `/system_stats?token=wrong`)).status).toBe(401);

		const cookieName = `C.${INSTANCE_ID}_auth_token`;
		const browser = await get(port, `/system_stats?token=${OPEN_BUTTON_TOKEN}`, {Accept: 'text/html,application/xhtml+xml'});
		expect(browser.status).toBe(302);
		expect(browser.headers.location).toBe('/system_stats');
		expect(browser.headers['set-cookie']).toEqual([`${cookieName}=${OPEN_BUTTON_TOKEN}; Path=/; Max-Age=604800; HttpOnly; SameSite=lax`]);
		expect((await get(port, '/system_stats', {Cookie: `theme=dark; ${cookieName}=${OPEN_BUTTON_TOKEN}`})).status).toBe(200);
		expect((await get(port, '/system_stats', {Cookie: `${cookieName}=nope`})).status).toBe(401);
		expect((await get(port, '/system_stats', {Cookie: `C.1_auth_token=${OPEN_BUTTON_TOKEN}`})).status).toBe(401);

		const api = await get(port, `/system_stats?token=${WEB_PASSWORD}`);
		expect(api.status).toBe(200);
		expect(api.headers['set-cookie']).toEqual([`${cookieName}=${WEB_PASSWORD}; Path=/; Max-Age=604800; HttpOnly; SameSite=lax`]);
		const stats = JSON.parse(api.body) as {system: Record<string, unknown>; devices: Array<Record<string, unknown>>};
		expect(stats.system).toMatchObject({os: 'posix', comfyui_version: '0.3.64', argv: expect.arrayContaining(['main.py', '18188'])});
		expect(stats.system.python_version).toMatch(/^3\.12/);
		expect(stats.devices[0]).toMatchObject({name: 'cuda:0 NVIDIA GeForce RTX 4090 : cudaMallocAsync', type: 'cuda', index: 0});
		expect(stats.devices[0]?.vram_total).toBeGreaterThan(20 * 1024 ** 3);
		expect((await get(port, '/api/system_stats', bearer)).status).toBe(200);
		expect((await get(port, '/prompt', bearer)).status).toBe(404);
		expect((await get(port, '/manifest.json')).status).toBe(404); // unauthenticated path: reaches the app

		const apps = await get(host.instancePortalPort, '/get-applications', bearer);
		expect(JSON.parse(apps.body)).toMatchObject({ComfyUI: {external_port: 8188, internal_port: 18188}});
		expect((await get(host.instancePortalPort, '/health')).status).toBe(401);
	});

	it('strips the token before the app sees it and gates WebSocket upgrades the same way', async () => {
		const wss = new WebSocketServer({noServer: true});
		const seen: string[] = [];
		const host = await startHost({
			gpuName: 'RTX 3090',
			comfyHandler: (req, res) => {
				seen.push(req.url ?? '');
				res.end('ok');
			},
			comfyUpgrade: (req, socket, head) => wss.handleUpgrade(req, socket, head, (ws) => ws.send(`hello ${req.url}`)),
		});
		await nextEvent(host.events, 'comfy-listening');
		await get(host.portalPort, `/view?filename=a%20b.png&token=${WEB_PASSWORD}&type=output`);
		expect(seen).toEqual(['/view?filename=a%20b.png&type=output']);
		expect(host.fs.read('/var/log/onstart.log')?.toString()).toContain(`Your web credentials are: vastai / ${WEB_PASSWORD}`);
		expect(host.fs.read('/var/log/portal/comfyui.log')?.toString()).toContain('Device: cuda:0 NVIDIA GeForce RTX 3090 : cudaMallocAsync');

		const url = `ws://127.0.0.1:${host.portalPort}/ws?clientId=abc`;
		const ws = new WebSocket(`${url}&token=${OPEN_BUTTON_TOKEN}`);
		const [message] = await once(ws, 'message');
		expect(String(message)).toBe('hello /ws?clientId=abc');
		ws.close();
		const refused = new WebSocket(url);
		const [, response] = (await once(refused, 'unexpected-response')) as [unknown, {statusCode: number}];
		expect(response.statusCode).toBe(401);
		refused.on('error', () => {});
		refused.terminate();
		wss.close();
	});
});
