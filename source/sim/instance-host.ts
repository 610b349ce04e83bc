// One rented simulated instance: replays a first-boot scenario into its virtual filesystem and
// serves it over the real protocols (sshd with exec and SFTP, Caddy-like gates in front of ComfyUI
// and the Instance Portal), with fault hooks. Started by the simulated cloud, `vastdeck sim` and tests.
import {EventEmitter} from 'node:events';
import {fixtureValues, loadBootScenario, type BootScenario, type BootScenarioName} from './boot-fixture.js';
import {BootReplay} from './boot-replay.js';
import {wallClock, type TimeSource} from './comfy/sim-clock.js';
import {COMFY_PORTAL_CONFIG, COMFYUI_ARGS, instancePortalHandler, minimalComfyHandler} from './instance-apps.js';
import {startPortalGate, type AppRequestHandler, type AppUpgradeHandler} from './portal-gate.js';
import {startSshServer} from './ssh-server.js';
import {VirtualFs} from './virtual-fs.js';

export interface InstanceHostOptions {
	instanceId: number;
	scenario: BootScenarioName;
	/** Time compression: 20 → the 215 s happy boot takes ~10.75 s. */
	speed: number;
	/** OpenSSH public key lines allowed to log in as root. */
	authorizedKeys: string[];
	/** WEB_PASSWORD and OPEN_BUTTON_TOKEN: both are valid portal tokens; an empty one defaults to the other. */
	webPassword: string;
	openButtonToken: string;
	/** WEB_USERNAME for HTTP Basic; 'vastai' by default. */
	webUsername?: string;
	/** PEM/OpenSSH private host key; an ed25519 key is generated when absent. */
	hostKey?: string;
	/** Real milliseconds before t = 0 of the scenario (e.g. the image pull, already divided by speed). */
	bootDelayMs?: number;
	/** The ComfyUI behind the 8188 gate; a minimal one (system_stats only) when absent. */
	comfyHandler?: AppRequestHandler;
	/** WebSocket upgrades to ComfyUI that passed the gate; refused with 404 when absent. */
	comfyUpgrade?: AppUpgradeHandler;
	/** Vast's gpu_name, e.g. 'RTX 4090'; changes the GPU in the logs and in system_stats. */
	gpuName?: string;
	/** Vast's gpu_ram in MiB (system_stats' VRAM). */
	gpuRamMb?: number;
	/** The boot to replay instead of the named scenario (e.g. one built from a provisioning manifest). */
	bootScenario?: BootScenario;
	/** Extra container environment (CONTAINER_API_KEY, the create request's variables). */
	env?: Record<string, string>;
	/** Where time comes from (the wall clock unless a test drives it). */
	time?: TimeSource;
	/** The cloud's clock, epoch ms (the API's Date header; what `date` says on the instance); `time` when absent. */
	cloudNow?: () => number;
	/** Log lines carry this boot's own timestamps (as a rented instance's do) instead of the fixture's. */
	ownTimestamps?: boolean;
}

/**
 * Events: 'boot-started', 'provisioning-complete', 'provisioning-failed', 'comfy-listening' with
 * {simTimeMs} (scenario time of the moment); 'ssh-connection', 'ssh-closed' with {connectionId}.
 */
export interface InstanceHost {
	sshPort: number;
	/** The external 8188 mapping: the gate in front of ComfyUI. */
	portalPort: number;
	/** The external 1111 mapping: the gate in front of the Instance Portal. */
	instancePortalPort: number;
	/** OpenSSH style 'SHA256:<unpadded base64>'. */
	hostKeyFingerprintSha256: string;
	fs: VirtualFs;
	events: EventEmitter;
	/** The container's environment (what SSH sessions and ComfyUI see). */
	env: Record<string, string>;
	comfyListening(): boolean;
	/** Fault: kill every live SSH connection; new connections are still accepted. */
	dropSshConnections(): void;
	/** Fault: from now on the boot behaves like failure/ (no effect once provisioning has ended). */
	injectProvisioningFailure(): void;
	/** Fault: refuse every SSH authentication while on. */
	setSshRefusing(on: boolean): void;
	/** A halted container: its SSH port resets connections instead of refusing keys. */
	setSshUnreachable(on: boolean): void;
	/** Replaces the authorized keys (a key attached to the running instance). */
	setAuthorizedKeys(lines: string[]): void;
	close(): Promise<void>;
}

const SEED_DIRECTORIES = [
	'/root',
	'/tmp',
	'/etc',
	'/var/log/portal',
	'/workspace/ComfyUI/input',
	'/workspace/ComfyUI/output',
	'/workspace/ComfyUI/models/checkpoints',
	'/workspace/ComfyUI/models/loras',
];

/** torch's device name for a Vast gpu_name ('RTX 4090' → 'NVIDIA GeForce RTX 4090'). */
export function torchDeviceName(gpuName: string | undefined): string {
	if (!gpuName) return fixtureValues.gpuName;
	if (gpuName.startsWith('NVIDIA ')) return gpuName;
	return /^(RTX|GTX) \d/.test(gpuName) ? `NVIDIA GeForce ${gpuName}` : `NVIDIA ${gpuName}`;
}

/** Replaces fixed byte strings in fixture payloads (which may mix UTF-8 and raw control bytes). */
function byteReplacer(pairs: Array<[string, string]>): (bytes: Buffer) => Buffer {
	const active = pairs.filter(([from, to]) => from !== to).map(([from, to]) => [Buffer.from(from), Buffer.from(to)] as const);
	return (bytes) => {
		let out = bytes;
		for (const [from, to] of active) {
			if (!out.includes(from)) continue;
			const parts: Buffer[] = [];
			let at = 0;
			for (let hit = out.indexOf(from); hit >= 0; hit = out.indexOf(from, at)) {
				parts.push(out.subarray(at, hit), to);
				at = hit + from.length;
			}
			parts.push(out.subarray(at));
			out = Buffer.concat(parts);
		}
		return out;
	};
}

export async function startInstanceHost(options: InstanceHostOptions): Promise<InstanceHost> {
	const webPassword = options.webPassword || options.openButtonToken;
	const openButtonToken = options.openButtonToken || options.webPassword;
	const webUsername = options.webUsername ?? 'vastai';
	if (!webPassword) throw new Error('the instance needs a webPassword or an openButtonToken for its portal');
	const id = String(options.instanceId);
	const [loaded, failureScenario] = await Promise.all([loadBootScenario(options.scenario), loadBootScenario('failure')]);
	const scenario = options.bootScenario ?? loaded;
	const time = options.time ?? wallClock;

	const fs = new VirtualFs();
	for (const dir of SEED_DIRECTORIES) fs.mkdir(dir);
	const events = new EventEmitter();
	const deviceName = torchDeviceName(options.gpuName);
	const replay = new BootReplay({
		fs,
		speed: options.speed,
		scenario,
		failureScenario,
		instanceId: options.instanceId,
		personalize: byteReplacer([
			[fixtureValues.instanceId, id],
			[fixtureValues.webToken, webPassword],
			[fixtureValues.gpuName, deviceName],
			['credentials are: vastai / ', `credentials are: ${webUsername} / `],
		]),
		onEvent: (name, simTimeMs) => events.emit(name, {simTimeMs}),
		time,
		ownTimestamps: options.ownTimestamps,
	});
	const env: Record<string, string> = {
		PORTAL_CONFIG: COMFY_PORTAL_CONFIG,
		COMFYUI_ARGS,
		// The create request's variables; what the platform sets below wins, as on Vast.
		...options.env,
		HOME: '/root',
		CONTAINER_ID: id,
		VAST_CONTAINERLABEL: `C.${id}`,
		PUBLIC_IPADDR: '127.0.0.1',
		GPU_COUNT: '1',
		WORKSPACE: '/workspace',
		DATA_DIRECTORY: '/workspace/',
		OPEN_BUTTON_PORT: '1111',
		OPEN_BUTTON_TOKEN: openButtonToken,
		JUPYTER_TOKEN: openButtonToken,
		WEB_USERNAME: webUsername,
		WEB_PASSWORD: webPassword,
	};
	const gateAuth = {instanceId: options.instanceId, webUsername, webPassword, openButtonToken};

	const closers: Array<() => Promise<void>> = [];
	const closeAll = async (): Promise<void> => {
		await Promise.all(closers.splice(0).map((close) => close()));
	};
	try {
		const ssh = await startSshServer({
			fs,
			env,
			now: options.cloudNow ?? (() => time.now()),
			authorizedKeys: options.authorizedKeys,
			hostKey: options.hostKey,
			onConnection: (connectionId) => events.emit('ssh-connection', {connectionId}),
			onClose: (connectionId) => events.emit('ssh-closed', {connectionId}),
		});
		closers.push(ssh.close);
		const comfyGate = await startPortalGate({
			...gateAuth,
			isAppUp: () => replay.comfyListening,
			handleRequest: options.comfyHandler ?? minimalComfyHandler({name: deviceName, vramMb: options.gpuRamMb}, () => env.COMFYUI_ARGS ?? COMFYUI_ARGS),
			handleUpgrade: options.comfyUpgrade,
		});
		closers.push(comfyGate.close);
		const portalGate = await startPortalGate({...gateAuth, isAppUp: () => replay.portalUp, handleRequest: instancePortalHandler()});
		closers.push(portalGate.close);
		Object.assign(env, {
			VAST_TCP_PORT_22: String(ssh.port),
			VAST_TCP_PORT_8188: String(comfyGate.port),
			VAST_TCP_PORT_1111: String(portalGate.port),
		});

		const bootTimer = time.setTimeout(() => replay.start(), Math.max(0, options.bootDelayMs ?? 0));
		return {
			sshPort: ssh.port,
			portalPort: comfyGate.port,
			instancePortalPort: portalGate.port,
			hostKeyFingerprintSha256: ssh.hostKeyFingerprintSha256,
			fs,
			events,
			env,
			comfyListening: () => replay.comfyListening,
			dropSshConnections: () => ssh.dropConnections(),
			injectProvisioningFailure: () => replay.injectFailure(),
			setSshRefusing: (on) => ssh.setRefusing(on),
			setSshUnreachable: (on) => ssh.setUnreachable(on),
			setAuthorizedKeys: (lines) => ssh.setAuthorizedKeys(lines),
			close: async () => {
				time.clearTimeout(bootTimer);
				replay.stop();
				await closeAll();
			},
		};
	} catch (error) {
		replay.stop();
		await closeAll();
		throw error;
	}
}
