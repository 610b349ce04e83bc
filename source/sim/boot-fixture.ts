// Loads a first-boot scenario (sim-data/boot/<name>/, format in its README) and decodes every
// fixture file into timed writes to instance paths, plus the moments the replay needs (markers,
// provisioning outcome, ComfyUI listening). Called by boot-replay.ts and by tests.
import {readdir, readFile} from 'node:fs/promises';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';

export type BootScenarioName = 'happy' | 'failure' | 'slow-resume';

export interface TimedWrite {
	/** Milliseconds since the container's start command began. */
	tMs: number;
	path: string;
	bytes: Buffer;
}

export interface BootMoments {
	/** `/.provisioning` is created (the provisioning banner). */
	provisioningStartMs: number;
	/** The boot script's `Provisioning complete!` → `/.provisioning_complete`. */
	provisioningDoneMs?: number;
	/** `Note: Provisioning encountered issues…` → `/.provisioning_failed`. */
	provisioningFailedMs?: number;
	/** `/.provisioning` is removed by 95-supervisor-wait; the apps may start. */
	provisioningClearedMs: number;
	/** `To see the GUI go to:` in the portal comfyui.log: ComfyUI accepts connections. */
	comfyListeningMs: number;
	/** `comfyui.sh` starts: an existing /var/log/portal/comfyui.log is renamed to `.old` first. */
	comfyLogRotationMs: number;
	/** Failed scenarios: where the last attempt's error output starts (injected failures replay from here). */
	failureTailMs?: number;
}

export interface BootScenario {
	name: BootScenarioName;
	/** Sorted by time; writes with equal stamps keep their order. */
	writes: TimedWrite[];
	moments: BootMoments;
}

/** Values baked into the fixture text that a replay replaces with the instance's own. */
/** t = 0 of every fixture: the wall-clock stamps inside the payloads count from 2026-09-14 10:02:03 UTC. */
export const FIXTURE_T0_MS = Date.UTC(2026, 8, 14, 10, 2, 3);

export const fixtureValues = {
	instanceId: '25841377',
	webToken: '5b0c7d61e2a94f38a1d6c0e7b93f4a2d8e61c05f7a3b29d4c8e0f1a6b7d3c952',
	gpuName: 'NVIDIA GeForce RTX 4090',
} as const;

export const COMFY_PORTAL_LOG = '/var/log/portal/comfyui.log';
export const ONSTART_LOG = '/var/log/onstart.log';
export const PROVISIONING_PORTAL_LOG = '/var/log/portal/provisioning.log';

/** sim-data/boot of this repository, from source/sim (vitest) and from dist/sim (after tsc) alike. */
export const defaultBootRoot = fileURLToPath(new URL('../../sim-data/boot', import.meta.url));

/** Maps a fixture file name to the instance path it replays into (README §2). */
export function fixturePath(fileName: string): string {
	if (fileName === 'var-log-portal-comfyui.old.log') return COMFY_PORTAL_LOG; // renamed to .old later
	if (fileName === 'workspace-ComfyUI-user-comfyui_18188.log') return '/workspace/ComfyUI/user/comfyui_18188.log';
	if (fileName === 'workspace-venv-backups-backup.log') {
		return `/workspace/.venv-backups/${fixtureValues.instanceId}/backup.log`;
	}
	if (fileName === 'var-log-supervisor-supervisord.log') return '/var/log/supervisor/supervisord.log';
	const portal = /^var-log-portal-(.+\.log)$/.exec(fileName);
	if (portal) return `/var/log/portal/${portal[1]}`;
	const plain = /^var-log-(.+\.log)$/.exec(fileName);
	if (plain) return `/var/log/${plain[1]}`;
	throw new Error(`boot fixture ${fileName} has no known instance path; name it as in sim-data/boot/README.md §2`);
}

/** Decodes one fixture payload: `\\ \r \e \t \xNN` escapes; a trailing `\c` means no line feed. */
export function decodePayload(payload: string): Buffer {
	const parts: Buffer[] = [];
	let text = '';
	let endsLine = true;
	const flush = (): void => {
		if (text) parts.push(Buffer.from(text, 'utf8'));
		text = '';
	};
	for (let i = 0; i < payload.length; i++) {
		const ch = payload[i];
		if (ch !== '\\' || i + 1 >= payload.length) {
			text += ch;
			continue;
		}
		const code = payload[++i];
		if (code === '\\') text += '\\';
		else if (code === 'r') text += '\r';
		else if (code === 'e') text += '\x1b';
		else if (code === 't') text += '\t';
		else if (code === 'c' && i === payload.length - 1) endsLine = false;
		else if (code === 'x' && /^[0-9a-fA-F]{2}$/.test(payload.slice(i + 1, i + 3))) {
			flush();
			parts.push(Buffer.from([Number.parseInt(payload.slice(i + 1, i + 3), 16)]));
			i += 2;
		} else text += `\\${code}`;
	}
	if (endsLine) text += '\n';
	flush();
	return Buffer.concat(parts);
}

/** Parses one fixture file's text into timed writes. */
export function parseFixture(text: string, path: string, fileName: string): TimedWrite[] {
	const writes: TimedWrite[] = [];
	const lines = text.split('\n');
	if (lines.at(-1) === '') lines.pop();
	lines.forEach((line, index) => {
		const match = /^\+(\d+\.\d+) (.*)$/s.exec(line);
		if (!match?.[1] || match[2] === undefined) {
			throw new Error(`boot fixture ${fileName} line ${index + 1} is not "+<seconds> <payload>"`);
		}
		writes.push({tMs: Math.round(Number(match[1]) * 1000), path, bytes: decodePayload(match[2])});
	});
	return writes;
}

const cache = new Map<string, Promise<BootScenario>>();

/** Loads and decodes a scenario once per process (the result is shared and must not be mutated). */
export function loadBootScenario(name: BootScenarioName, root = defaultBootRoot): Promise<BootScenario> {
	const dir = join(root, name);
	let loading = cache.get(dir);
	if (!loading) {
		loading = readScenario(name, dir);
		loading.catch(() => cache.delete(dir));
		cache.set(dir, loading);
	}
	return loading;
}

async function readScenario(name: BootScenarioName, dir: string): Promise<BootScenario> {
	const fileNames = (await readdir(dir)).filter((file) => file.endsWith('.log')).sort();
	const writes: TimedWrite[] = [];
	let comfyLogRotationMs: number | undefined;
	for (const fileName of fileNames) {
		const fileWrites = parseFixture(await readFile(join(dir, fileName), 'utf8'), fixturePath(fileName), fileName);
		if (fileName === 'var-log-portal-comfyui.log') comfyLogRotationMs = fileWrites[0]?.tMs;
		writes.push(...fileWrites);
	}
	writes.sort((a, b) => a.tMs - b.tMs); // stable: equal stamps keep file order
	if (comfyLogRotationMs === undefined) throw new Error(`boot scenario ${dir} has no var-log-portal-comfyui.log`);
	return {name, writes, moments: deriveMoments(writes, comfyLogRotationMs, dir)};
}

export function deriveMoments(writes: TimedWrite[], comfyLogRotationMs: number, dir: string): BootMoments {
	const textOf = (write: TimedWrite): string => write.bytes.toString('utf8').replace(/\n$/, '');
	const first = (path: string, test: (text: string) => boolean, afterMs = 0): TimedWrite | undefined =>
		writes.find((write) => write.path === path && write.tMs >= afterMs && test(textOf(write)));
	const need = (write: TimedWrite | undefined, what: string): number => {
		if (!write) throw new Error(`boot scenario ${dir} has no ${what} line`);
		return write.tMs;
	};

	const provisioningStartMs = need(
		first(ONSTART_LOG, (text) => text.startsWith('* Provisioning instance with')),
		`"* Provisioning instance with" (${ONSTART_LOG})`,
	);
	const provisioningDoneMs = first(ONSTART_LOG, (text) => text === 'Provisioning complete!')?.tMs;
	const provisioningFailedMs = first(ONSTART_LOG, (text) => text.startsWith('Note: Provisioning encountered issues'))?.tMs;
	const endedMs = provisioningDoneMs ?? provisioningFailedMs;
	if (endedMs === undefined) throw new Error(`boot scenario ${dir} never finishes provisioning`);
	const bannerRefresh = first(ONSTART_LOG, (text) => text.startsWith('Refreshed agent notice in /etc/banner'), endedMs);
	const comfyListeningMs = need(
		first(COMFY_PORTAL_LOG, (text) => text.includes('To see the GUI go to:')),
		`"To see the GUI go to:" (${COMFY_PORTAL_LOG})`,
	);
	let failureTailMs: number | undefined;
	if (provisioningFailedMs !== undefined) {
		const errors = writes.filter(
			(write) => write.path === PROVISIONING_PORTAL_LOG && write.tMs <= provisioningFailedMs && textOf(write).includes('Error: '),
		);
		failureTailMs = errors.at(-1)?.tMs ?? provisioningFailedMs;
	}
	return {
		provisioningStartMs,
		provisioningDoneMs,
		provisioningFailedMs,
		provisioningClearedMs: bannerRefresh ? bannerRefresh.tMs + 5 : endedMs + 750,
		comfyListeningMs,
		comfyLogRotationMs,
		failureTailMs,
	};
}
