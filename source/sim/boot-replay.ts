// Replays a boot scenario into an instance's virtual filesystem on a compressed clock: log writes,
// the comfyui.log rotation, the provisioning markers and the timeline events. Also splices in the
// failure scenario on demand. Driven by instance-host.ts.
import {COMFY_PORTAL_LOG, FIXTURE_T0_MS, fixtureValues, type BootScenario} from './boot-fixture.js';
import {wallClock, type TimeSource, type TimerHandle} from './comfy/sim-clock.js';
import type {VirtualFs} from './virtual-fs.js';

export type BootEventName = 'boot-started' | 'provisioning-complete' | 'provisioning-failed' | 'comfy-listening';

type ReplayAction = {tMs: number} & (
	| {kind: 'append'; path: string; bytes: Buffer}
	| {kind: 'touch' | 'remove'; path: string}
	| {kind: 'rename'; from: string; to: string}
	| {kind: 'event'; name: BootEventName}
);

export interface BootReplayOptions {
	fs: VirtualFs;
	/** Time compression: sim milliseconds per real millisecond. */
	speed: number;
	scenario: BootScenario;
	/** Spliced in by injectFailure(). */
	failureScenario: BootScenario;
	/** Fixture text → this instance's text (id, token, GPU name). */
	personalize: (bytes: Buffer) => Buffer;
	instanceId: number;
	onEvent: (name: BootEventName, simTimeMs: number) => void;
	/** Where time comes from (the wall clock unless a test drives it). */
	time?: TimeSource;
	/** Move the fixture's wall-clock stamps to this boot (else the bytes equal the fixture's). */
	ownTimestamps?: boolean;
}

/** Scenario → ordered actions: markers and renames before the writes of the same instant, events after. */
function timelineOf(scenario: BootScenario, options: BootReplayOptions): ReplayAction[] {
	const {moments} = scenario;
	const before: ReplayAction[] = [
		{tMs: moments.comfyLogRotationMs, kind: 'rename', from: COMFY_PORTAL_LOG, to: `${COMFY_PORTAL_LOG}.old`},
		{tMs: moments.provisioningStartMs, kind: 'touch', path: '/.provisioning'},
		{tMs: moments.provisioningClearedMs, kind: 'remove', path: '/.provisioning'},
	];
	const after: ReplayAction[] = [{tMs: moments.comfyListeningMs, kind: 'event', name: 'comfy-listening'}];
	if (moments.provisioningDoneMs !== undefined) {
		before.push(
			{tMs: moments.provisioningDoneMs, kind: 'touch', path: '/.provisioning_complete'},
			{tMs: moments.provisioningDoneMs, kind: 'remove', path: '/.provisioning_failed'},
		);
		after.push({tMs: moments.provisioningDoneMs, kind: 'event', name: 'provisioning-complete'});
	}
	if (moments.provisioningFailedMs !== undefined) {
		before.push({tMs: moments.provisioningFailedMs, kind: 'touch', path: '/.provisioning_failed'});
		after.push({tMs: moments.provisioningFailedMs, kind: 'event', name: 'provisioning-failed'});
	}
	const instanceDir = String(options.instanceId);
	const writes: ReplayAction[] = scenario.writes.map((write) => ({
		tMs: write.tMs,
		kind: 'append',
		path: write.path.replace(fixtureValues.instanceId, instanceDir),
		bytes: options.personalize(write.bytes),
	}));
	return [...before, ...writes, ...after].sort((a, b) => a.tMs - b.tMs);
}

export class BootReplay {
	private actions: ReplayAction[];
	private readonly failureActions: ReplayAction[];
	private next = 0;
	private startedAt: number | undefined;
	private timer: TimerHandle | undefined;
	private readonly time: TimeSource;
	private listening = false;
	private provisioningEnded = false;
	private stopped = false;

	constructor(private readonly options: BootReplayOptions) {
		if (!(options.speed > 0)) throw new Error(`speed must be a positive number, got ${options.speed}`);
		this.time = options.time ?? wallClock;
		this.actions = timelineOf(options.scenario, options);
		this.failureActions = timelineOf(options.failureScenario, options);
	}

	/** t = 0 of the scenario is now. */
	start(): void {
		if (this.stopped) return;
		this.startedAt = this.time.now();
		this.options.onEvent('boot-started', 0);
		this.step();
	}

	/** Scenario time in ms (0 before start). */
	simNowMs(): number {
		return this.startedAt === undefined ? 0 : (this.time.now() - this.startedAt) * this.options.speed;
	}

	get comfyListening(): boolean {
		return this.listening;
	}

	/** Caddy and the Instance Portal run once supervisord is up (with `/.provisioning`). */
	get portalUp(): boolean {
		return this.startedAt !== undefined && this.simNowMs() >= this.options.scenario.moments.provisioningStartMs;
	}

	/**
	 * From now on the boot behaves like failure/: before provisioning starts the whole failure
	 * timeline takes over; during provisioning its final error, the failure marker and the app start
	 * follow at once. No effect once provisioning has ended.
	 */
	injectFailure(): void {
		if (this.provisioningEnded) return;
		const {moments} = this.options.failureScenario;
		const tailMs = moments.failureTailMs ?? moments.provisioningClearedMs;
		const nowMs = this.simNowMs();
		if (this.startedAt === undefined) {
			this.actions = this.failureActions;
		} else if (nowMs < this.options.scenario.moments.provisioningStartMs) {
			this.actions = this.failureActions.filter((action) => action.tMs > nowMs);
		} else {
			this.actions = this.failureActions
				.filter((action) => action.tMs >= tailMs)
				.map((action) => ({...action, tMs: nowMs + (action.tMs - tailMs)}));
		}
		this.next = 0;
		if (this.startedAt !== undefined && !this.stopped) {
			// The first spliced writes land on the next tick, never inside the caller's stack.
			this.time.clearTimeout(this.timer);
			this.timer = this.time.setTimeout(this.step, 0);
		}
	}

	stop(): void {
		this.stopped = true;
		this.time.clearTimeout(this.timer);
		this.timer = undefined;
	}

	private readonly step = (): void => {
		this.timer = undefined;
		if (this.stopped) return;
		const nowMs = this.simNowMs();
		for (let action = this.actions[this.next]; action && action.tMs <= nowMs; action = this.actions[++this.next]) {
			this.apply(action);
		}
		const upcoming = this.actions[this.next];
		// Whole milliseconds, at least 1, as Node's timers run anyway: a fraction of a millisecond is lost
		// next to an epoch timestamp on a manual clock, which would then never reach the next line.
		if (upcoming) this.timer = this.time.setTimeout(this.step, Math.max(1, Math.ceil((upcoming.tMs - nowMs) / this.options.speed)));
	};

	private apply(action: ReplayAction): void {
		const {fs} = this.options;
		switch (action.kind) {
			case 'append':
				fs.append(action.path, this.options.ownTimestamps ? restamp(action.bytes, this.startedAt ?? this.time.now(), this.options.speed) : action.bytes);
				break;
			case 'touch':
				fs.touch(action.path);
				break;
			case 'remove':
				fs.remove(action.path);
				break;
			case 'rename':
				fs.rename(action.from, action.to);
				break;
			case 'event':
				if (action.name === 'comfy-listening') this.listening = true;
				else this.provisioningEnded = true;
				this.options.onEvent(action.name, action.tMs);
				break;
		}
	}
}

/** `YYYY-MM-DD HH:MM:SS` (also with `T`, `,mmm` or `.mmm`) — the wall-clock stamps inside fixture payloads. */
const STAMP = /(\d{4})-(\d\d)-(\d\d)([ T])(\d\d):(\d\d):(\d\d)([.,]\d{3})?/g;

/**
 * The fixture's stamps (t = 0 at FIXTURE_T0_MS) moved to when this boot writes them: the boot's start
 * plus the scenario offset on this clock, so they agree with the API's Date header and start_date.
 */
export function restamp(bytes: Buffer, startedAtMs: number, speed: number): Buffer {
	const text = bytes.toString('latin1');
	if (!STAMP.test(text)) return bytes;
	STAMP.lastIndex = 0;
	const moved = text.replace(STAMP, (...match: string[]) => {
		const [, year, month, day, separator, hour, minute, second, fraction] = match;
		const fixtureMs = Date.UTC(Number(year), Number(month) - 1, Number(day), Number(hour), Number(minute), Number(second), fraction ? Number(fraction.slice(1)) : 0);
		const at = new Date(startedAtMs + (fixtureMs - FIXTURE_T0_MS) / speed).toISOString();
		return `${at.slice(0, 10)}${separator}${at.slice(11, 19)}${fraction ? `${fraction[0]}${at.slice(20, 23)}` : ''}`;
	});
	return Buffer.from(moved, 'latin1');
}
