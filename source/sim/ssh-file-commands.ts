// The file commands of the simulated instance's shell: cat, ls, stat -c, wc, sha256sum and test/[
// to look, mkdir, touch, mv and printf to write (what vastdeck's autostop heartbeat uses), and date,
// over the virtual filesystem with GNU-style messages and exit codes. Called through
// ssh-commands.ts, which parses the command line and dispatches here.
import {createHash} from 'node:crypto';
import type {Command, CommandIo} from './ssh-commands.js';
import {normalizePath} from './virtual-fs.js';

export const fileCommands: Record<string, Command> = {
	'mkdir': (args, io) => {
		const parents = args.includes('-p');
		let status = 0;
		for (const arg of args.filter((candidate) => !candidate.startsWith('-'))) {
			const path = normalizePath(arg, io.cwd);
			const stat = io.fs.stat(path);
			const parent = io.fs.stat(path.slice(0, path.lastIndexOf('/')) || '/');
			const problem = stat?.kind === 'file' || (stat && !parents) ? 'File exists' : !parents && parent?.kind !== 'directory' ? 'No such file or directory' : undefined;
			if (problem) {
				io.stderr(`mkdir: cannot create directory '${arg}': ${problem}\n`);
				status = 1;
			} else io.fs.mkdir(path);
		}
		return status;
	},
	'touch': (args, io) => {
		for (const arg of args.filter((candidate) => !candidate.startsWith('-'))) io.fs.touch(normalizePath(arg, io.cwd));
		return 0;
	},
	'mv': (args, io) => {
		const [from, to] = args.filter((arg) => !arg.startsWith('-'));
		if (from === undefined || to === undefined) {
			io.stderr('mv: missing file operand\n');
			return 1;
		}
		if (io.fs.rename(normalizePath(from, io.cwd), normalizePath(to, io.cwd))) return 0;
		io.stderr(`mv: cannot stat '${from}': No such file or directory\n`);
		return 1;
	},
	'printf': (args, io) => {
		const [format, ...values] = args;
		if (format === undefined) {
			io.stderr('printf: usage: printf format [arguments]\n');
			return 2;
		}
		// As coreutils printf does: the format is used again while arguments are left.
		let rest = values;
		do {
			const used = {count: 0};
			io.stdout(formatOnce(format, rest, used));
			rest = rest.slice(used.count);
			if (used.count === 0) break;
		} while (rest.length > 0);
		return 0;
	},
	'date': (args, io) => {
		const now = new Date(io.now?.() ?? Date.now());
		const format = args.find((arg) => arg.startsWith('+'));
		if (args.some((arg) => !arg.startsWith('+') && arg !== '-u')) {
			io.stderr('date: only `date [-u] [+FORMAT]` is available on the simulated instance\n');
			return 1;
		}
		io.stdout(`${format ? strftime(format.slice(1), now) : now.toUTCString().replace('GMT', 'UTC')}\n`);
		return 0;
	},
	'cat': (args, io) => {
		let status = 0;
		for (const arg of args) {
			const stat = io.fs.stat(normalizePath(arg, io.cwd));
			if (stat?.kind === 'file') io.stdout(io.fs.read(normalizePath(arg, io.cwd)) ?? '');
			else {
				io.stderr(`cat: ${arg}: ${stat ? 'Is a directory' : 'No such file or directory'}\n`);
				status = 1;
			}
		}
		return status;
	},
	'test': (args, io) => evaluateTest(args, io, 'test'),
	'[': (args, io) => {
		if (args.at(-1) !== ']') {
			io.stderr('sh: 1: [: missing ]\n');
			return 2;
		}
		return evaluateTest(args.slice(0, -1), io, '[');
	},
	'ls': (args, io) => {
		const bad = args.find((arg) => arg.startsWith('-') && !/^-[1aA]+$/.test(arg));
		if (bad) {
			io.stderr(`ls: invalid option -- '${bad.slice(1).replace(/[1aA]/g, '')[0] ?? '-'}'\n`);
			return 2;
		}
		const operands = args.filter((arg) => !arg.startsWith('-'));
		let status = 0;
		const targets = operands.length > 0 ? operands : ['.'];
		targets.forEach((target, index) => {
			const path = normalizePath(target, io.cwd);
			const stat = io.fs.stat(path);
			if (!stat) {
				io.stderr(`ls: cannot access '${target}': No such file or directory\n`);
				status = 2;
			} else if (stat.kind === 'file') io.stdout(`${target}\n`);
			else {
				if (targets.length > 1) io.stdout(`${index > 0 ? '\n' : ''}${target}:\n`);
				for (const name of io.fs.list(path) ?? []) io.stdout(`${name}\n`);
			}
		});
		return status;
	},
	'stat': (args, io) => {
		const formatArg = args.findIndex((arg) => arg === '-c' || arg.startsWith('--format=') || arg.startsWith('--printf='));
		const raw = args[formatArg] ?? '';
		const format = raw === '-c' ? args[formatArg + 1] : raw.slice(raw.indexOf('=') + 1);
		if (formatArg < 0 || format === undefined) {
			io.stderr('stat: only `stat -c FORMAT FILE…` is available on the simulated instance\n');
			return 1;
		}
		const files = args.filter((_arg, index) => index !== formatArg && !(raw === '-c' && index === formatArg + 1));
		let status = 0;
		for (const file of files) {
			const stat = io.fs.stat(normalizePath(file, io.cwd));
			if (!stat) {
				io.stderr(`stat: cannot statx '${file}': No such file or directory\n`);
				status = 1;
				continue;
			}
			const kind = stat.kind === 'directory' ? 'directory' : stat.sizeBytes === 0 ? 'regular empty file' : 'regular file';
			const fields: Record<string, string> = {s: String(stat.sizeBytes), Y: String(Math.floor(stat.mtimeMs / 1000)), n: file, F: kind, '%': '%'};
			io.stdout(format.replace(/%(.)/g, (all, key: string) => fields[key] ?? all) + (raw.startsWith('--printf=') ? '' : '\n'));
		}
		return status;
	},
	'sha256sum': (args, io) => {
		const bad = args.find((arg) => arg.startsWith('-') && arg !== '--');
		if (bad) {
			io.stderr(`sha256sum: only \`sha256sum FILE…\` is available on the simulated instance (got ${bad})\n`);
			return 1;
		}
		let status = 0;
		for (const file of args.filter((arg) => arg !== '--')) {
			const path = normalizePath(file, io.cwd);
			const content = io.fs.read(path);
			if (!content) {
				io.stderr(`sha256sum: ${file}: ${io.fs.stat(path) ? 'Is a directory' : 'No such file or directory'}\n`);
				status = 1;
				continue;
			}
			// GNU escapes a name holding a backslash or a newline and marks the line with a leading backslash.
			const escaped = /[\\\n]/.test(file);
			const name = escaped ? file.replace(/\\/g, '\\\\').replace(/\n/g, '\\n') : file;
			io.stdout(`${escaped ? '\\' : ''}${createHash('sha256').update(content).digest('hex')}  ${name}\n`);
		}
		return status;
	},
	'wc': (args, io) => {
		const flags = args.filter((arg) => arg.startsWith('-')).join('');
		const files = args.filter((arg) => !arg.startsWith('-'));
		const columns = (['l', 'w', 'c'] as const).filter((flag) => flags.includes(flag));
		const shown = columns.length > 0 ? columns : (['l', 'w', 'c'] as const);
		const rows: Array<[number[], string]> = [];
		let status = 0;
		for (const file of files) {
			const content = io.fs.open(normalizePath(file, io.cwd))?.read();
			if (!content) {
				io.stderr(`wc: ${file}: No such file or directory\n`);
				status = 1;
				continue;
			}
			const counts = {l: content.filter((byte) => byte === 10).length, w: content.toString('utf8').split(/\s+/).filter(Boolean).length, c: content.length};
			rows.push([shown.map((flag) => counts[flag]), file]);
		}
		if (rows.length > 1) rows.push([shown.map((_flag, column) => rows.reduce((sum, [counts]) => sum + (counts[column] ?? 0), 0)), 'total']);
		const width = shown.length === 1 && rows.length === 1 ? 0 : Math.max(...rows.flatMap(([counts]) => counts.map((count) => String(count).length)));
		for (const [counts, name] of rows) io.stdout(`${counts.map((count) => String(count).padStart(width)).join(' ')} ${name}\n`);
		return status;
	},
};

function evaluateTest(args: string[], io: CommandIo, name: string): number {
	if (args[0] === '!') {
		const inner = evaluateTest(args.slice(1), io, name);
		return inner === 2 ? 2 : 1 - inner;
	}
	const [first = '', second = '', third = ''] = args;
	if (args.length === 0) return 1;
	if (args.length === 1) return first === '' ? 1 : 0;
	if (args.length === 2) {
		const stat = io.fs.stat(normalizePath(second, io.cwd));
		const unary: Record<string, () => boolean> = {
			'-e': () => stat !== undefined,
			'-f': () => stat?.kind === 'file',
			'-d': () => stat?.kind === 'directory',
			'-s': () => (stat?.sizeBytes ?? 0) > 0 && stat?.kind === 'file',
			'-r': () => stat !== undefined,
			'-n': () => second !== '',
			'-z': () => second === '',
		};
		const check = unary[first];
		if (check) return check() ? 0 : 1;
	}
	if (args.length === 3) {
		const [a, b] = [Number(first), Number(third)];
		const binary: Record<string, () => boolean> = {
			'=': () => first === third,
			'!=': () => first !== third,
			'-eq': () => a === b,
			'-ne': () => a !== b,
			'-lt': () => a < b,
			'-le': () => a <= b,
			'-gt': () => a > b,
			'-ge': () => a >= b,
		};
		const check = binary[second];
		if (check) return check() ? 0 : 1;
	}
	io.stderr(`sh: 1: ${name}: ${args.length > 3 ? 'too many arguments' : `${args.length === 2 ? first : second}: unexpected operator`}\n`);
	return 2;
}

/** One pass of printf's format: %s %d %%, and the escapes \n \t \\; `used.count` says how many arguments it took. */
function formatOnce(format: string, values: readonly string[], used: {count: number}): string {
	let out = '';
	for (let index = 0; index < format.length; index++) {
		const ch = format[index]!;
		const next = format[index + 1];
		if (ch === '\\' && next !== undefined) {
			out += next === 'n' ? '\n' : next === 't' ? '\t' : next === '\\' ? '\\' : `\\${next}`;
			index++;
		} else if (ch === '%' && next === '%') {
			out += '%';
			index++;
		} else if (ch === '%' && (next === 's' || next === 'd')) {
			const value = values[used.count++] ?? '';
			out += next === 'd' ? String(Number.parseInt(value, 10) || 0) : value;
			index++;
		} else out += ch;
	}
	return out;
}

/** The few strftime fields scripts use, in UTC: %s %Y %m %d %H %M %S %F %T %%. */
function strftime(format: string, date: Date): string {
	const two = (value: number): string => String(value).padStart(2, '0');
	const fields: Record<string, string> = {
		s: String(Math.floor(date.getTime() / 1000)),
		Y: String(date.getUTCFullYear()),
		m: two(date.getUTCMonth() + 1),
		d: two(date.getUTCDate()),
		H: two(date.getUTCHours()),
		M: two(date.getUTCMinutes()),
		S: two(date.getUTCSeconds()),
		'%': '%',
	};
	fields.F = `${fields.Y}-${fields.m}-${fields.d}`;
	fields.T = `${fields.H}:${fields.M}:${fields.S}`;
	return format.replace(/%(.)/g, (all, key: string) => fields[key] ?? all);
}
