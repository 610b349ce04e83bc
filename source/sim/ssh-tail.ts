// GNU `tail` for the simulated instance: -n/-c with N or +N, -f/-F/--follow[=name|descriptor],
// --retry, `==> FILE <==` headers, and GNU's diagnostics when a followed file appears, vanishes,
// is rotated or shrinks. Called by ssh-commands.ts; driven by virtual-fs change events, never polls.
import type {CommandIo} from './ssh-commands.js';
import {normalizePath, type VirtualFile} from './virtual-fs.js';

interface TailOptions {
	unit: 'lines' | 'bytes';
	count: number;
	/** `+N`: start at line/byte N instead of showing the last N. */
	fromStart: boolean;
	follow: 'name' | 'descriptor' | undefined;
	retry: boolean;
	/** Undefined: headers only when there are several files. */
	headers: boolean | undefined;
	files: string[];
}

interface Entry {
	name: string;
	path: string;
	file: VirtualFile | undefined;
	pos: number;
	dropped: boolean;
}

const LF = 0x0a;

function parseTailArgs(args: string[]): TailOptions | string {
	const options: TailOptions = {unit: 'lines', count: 10, fromStart: false, follow: undefined, retry: false, headers: undefined, files: []};
	const setCount = (value: string | undefined, unit: TailOptions['unit']): string | undefined => {
		const match = /^([+-]?)(\d+)$/.exec(value ?? '');
		if (!match) return `invalid number of ${unit}: '${value ?? ''}'`;
		Object.assign(options, {unit, count: Number(match[2]), fromStart: match[1] === '+'});
		return undefined;
	};
	for (let i = 0; i < args.length; i++) {
		const arg = args[i] ?? '';
		let error: string | undefined;
		if (arg === '--') {
			options.files.push(...args.slice(i + 1));
			break;
		} else if (arg.startsWith('--')) {
			const [key, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
			const value = (): string | undefined => inline ?? args[++i];
			if (key === '--lines' || key === '--bytes') error = setCount(value(), key === '--lines' ? 'lines' : 'bytes');
			else if (key === '--follow' && (inline === undefined || inline === 'name' || inline === 'descriptor')) options.follow = inline ?? 'descriptor';
			else if (key === '--retry') options.retry = true;
			else if (key === '--quiet' || key === '--silent') options.headers = false;
			else if (key === '--verbose') options.headers = true;
			else if (key === '--sleep-interval' || key === '--pid' || key === '--max-unchanged-stats') value();
			else error = `unrecognized option '${arg}'`;
		} else if (/^-\d+$/.test(arg)) {
			error = setCount(arg.slice(1), 'lines');
		} else if (arg.startsWith('-') && arg.length > 1) {
			for (let j = 1; j < arg.length && !error; j++) {
				const flag = arg[j] ?? '';
				if (flag === 'f') options.follow ??= 'descriptor';
				else if (flag === 'F') Object.assign(options, {follow: 'name', retry: true});
				else if (flag === 'q') options.headers = false;
				else if (flag === 'v') options.headers = true;
				else if (flag === 'n' || flag === 'c' || flag === 's') {
					const value = arg.slice(j + 1) || args[++i];
					if (value === undefined) error = `option requires an argument -- '${flag}'`;
					else if (flag !== 's') error = setCount(value, flag === 'n' ? 'lines' : 'bytes');
					break;
				} else error = `invalid option -- '${flag}'`;
			}
		} else options.files.push(arg);
		if (error) return error;
	}
	return options;
}

/** Where the first pass starts printing `content`. */
function startOffset(content: Buffer, options: TailOptions): number {
	const {count, fromStart} = options;
	if (options.unit === 'bytes') return fromStart ? Math.min(Math.max(count - 1, 0), content.length) : Math.max(content.length - count, 0);
	if (fromStart) {
		let pos = 0;
		for (let line = 1; line < count; line++) {
			const newline = content.indexOf(LF, pos);
			if (newline < 0) return content.length;
			pos = newline + 1;
		}
		return pos;
	}
	if (count === 0) return content.length;
	// The last N lines; a final line without LF counts as a line.
	let end = content.at(-1) === LF ? content.length - 1 : content.length;
	for (let found = 0; found < count; found++) {
		if (end <= 0) return 0;
		const newline = content.lastIndexOf(LF, end - 1);
		if (newline < 0) return 0;
		end = newline;
	}
	return end + 1;
}

export async function runTail(args: string[], io: CommandIo): Promise<number> {
	const options = parseTailArgs(args);
	if (typeof options === 'string') {
		io.stderr(`tail: ${options}\nTry 'tail --help' for more information.\n`);
		return 1;
	}
	if (options.files.length === 0) {
		io.stderr('tail: reading standard input is not supported on the simulated instance\n');
		return 1;
	}
	const entries: Entry[] = options.files.map((name) => ({name, path: normalizePath(name, io.cwd), file: undefined, pos: 0, dropped: false}));
	const showHeaders = options.headers ?? entries.length > 1;
	let last: Entry | undefined;
	let headersShown = 0;
	let status = 0;
	const print = (entry: Entry, bytes: Buffer): void => {
		if (showHeaders && last !== entry) io.stdout(`${headersShown++ > 0 ? '\n' : ''}==> ${entry.name} <==\n`);
		last = entry;
		if (bytes.length > 0) io.stdout(bytes);
	};

	for (const entry of entries) {
		const stat = io.fs.stat(entry.path);
		const file = io.fs.open(entry.path);
		if (!file) {
			io.stderr(stat ? `tail: error reading '${entry.name}': Is a directory\n` : `tail: cannot open '${entry.name}' for reading: No such file or directory\n`);
			entry.dropped = stat !== undefined || !options.retry;
			status = 1;
			continue;
		}
		const content = file.read();
		print(entry, content.subarray(startOffset(content, options)));
		Object.assign(entry, {file, pos: content.length});
	}
	if (!options.follow) return status;
	if (entries.every((entry) => entry.dropped)) {
		io.stderr('tail: no files remaining\n');
		return 1;
	}
	const byName = options.follow === 'name';

	return new Promise<number>((resolve) => {
		const drain = (entry: Entry, file: VirtualFile): void => {
			if (file.sizeBytes < entry.pos) {
				io.stderr(`tail: ${entry.name}: file truncated\n`);
				entry.pos = 0;
			}
			if (file.sizeBytes > entry.pos) {
				print(entry, file.read(entry.pos));
				entry.pos = file.sizeBytes;
			}
		};
		const sync = (entry: Entry): void => {
			const current = byName || !entry.file ? io.fs.open(entry.path) : entry.file;
			if (!current) {
				if (!entry.file) return;
				io.stderr(`tail: '${entry.name}' has become inaccessible: No such file or directory\n`);
				Object.assign(entry, {file: undefined, pos: 0, dropped: !options.retry});
				if (entries.every((other) => other.dropped)) {
					io.stderr('tail: no files remaining\n');
					finish(1);
				}
				return;
			}
			if (current !== entry.file) {
				io.stderr(`tail: '${entry.name}' has ${entry.file ? 'been replaced' : 'appeared'};  following new file\n`);
				Object.assign(entry, {file: current, pos: 0});
			}
			drain(entry, current);
		};
		const unwatch = io.fs.watch((change) => {
			for (const entry of entries) {
				if (!entry.dropped && (change.path === entry.path || change.file === entry.file)) sync(entry);
			}
		});
		const finish = (code: number): void => {
			unwatch();
			io.signal.removeEventListener('abort', onAbort);
			resolve(code);
		};
		const onAbort = (): void => finish(status);
		if (io.signal.aborted) onAbort();
		else io.signal.addEventListener('abort', onAbort, {once: true});
	});
}
