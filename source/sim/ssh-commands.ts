// The simulated instance's "shell": a small sh-like interpreter over the virtual filesystem for SSH
// `exec` requests (quoting, $VAR, &&, ||, ;, redirections to /dev/null and to files with > and >>,
// echo/true/exit/sh -c). It never spawns a process. Called by ssh-server.ts; the file commands (cat,
// ls, stat, wc, test, mkdir, touch, mv, printf, date) are in ssh-file-commands.ts, tail in ssh-tail.ts.
import {fileCommands} from './ssh-file-commands.js';
import {runTail} from './ssh-tail.js';
import {normalizePath, type VirtualFs} from './virtual-fs.js';

export interface CommandIo {
	fs: VirtualFs;
	env: Readonly<Record<string, string>>;
	cwd: string;
	stdout(data: Buffer | string): void;
	stderr(data: Buffer | string): void;
	/** Aborted when the client closes the channel or the connection drops (the SIGPIPE/SIGHUP case). */
	signal: AbortSignal;
	/** The instance's clock, epoch ms (`date`); the wall clock when absent. */
	now?: () => number;
}

type Redirect = {fd: 1 | 2; to: 1 | 2 | string; append?: boolean};
interface SimpleCommand {
	words: string[];
	redirects: Redirect[];
	/** How this command is joined to the previous one. */
	joiner: '&&' | '||' | ';';
}
export type Command = (args: string[], io: CommandIo) => number | Promise<number>;

class ShellSyntaxError extends Error {}
class ExitRequest {
	constructor(readonly status: number) {}
}

/** Runs one command line the way `sh -c` would and resolves with its exit status. */
export async function runCommandLine(line: string, io: CommandIo): Promise<number> {
	let commands: SimpleCommand[];
	try {
		commands = parseCommandLine(line, io.env);
	} catch (error) {
		if (!(error instanceof ShellSyntaxError)) throw error;
		io.stderr(`sh: 1: Syntax error: ${error.message}\n`);
		return 2;
	}
	let status = 0;
	try {
		for (const command of commands) {
			if (io.signal.aborted) break;
			if ((command.joiner === '&&' && status !== 0) || (command.joiner === '||' && status === 0)) continue;
			status = await runSimpleCommand(command, io);
		}
	} catch (error) {
		if (error instanceof ExitRequest) return error.status;
		throw error;
	}
	return status;
}

function parseCommandLine(line: string, env: Readonly<Record<string, string>>): SimpleCommand[] {
	const commands: SimpleCommand[] = [];
	let current: SimpleCommand = {words: [], redirects: [], joiner: ';'};
	let word: string | undefined;
	const endWord = (): void => {
		if (word !== undefined) current.words.push(word);
		word = undefined;
	};
	const endCommand = (joiner: SimpleCommand['joiner']): void => {
		endWord();
		if (current.words.length === 0 && current.redirects.length === 0) {
			if (joiner !== ';') throw new ShellSyntaxError(`"${joiner}" unexpected`);
		} else commands.push(current);
		current = {words: [], redirects: [], joiner};
	};
	const expand = (from: number): [string, number] => {
		const braced = /^\{([A-Za-z_]\w*)\}/.exec(line.slice(from));
		const plain = /^[A-Za-z_]\w*/.exec(line.slice(from));
		if (braced?.[1]) return [env[braced[1]] ?? '', from + braced[0].length];
		if (plain) return [env[plain[0]] ?? '', from + plain[0].length];
		return ['$', from];
	};
	const readTarget = (from: number): [string, number] => {
		let i = from;
		while (line[i] === ' ' || line[i] === '\t') i++;
		const match = /^[^\s;&|<>]+/.exec(line.slice(i));
		if (!match) throw new ShellSyntaxError('redirection unexpected');
		return [match[0], i + match[0].length];
	};

	for (let i = 0; i < line.length; ) {
		const ch = line[i] ?? '';
		const next = line[i + 1];
		if (ch === ' ' || ch === '\t') {
			endWord();
			i++;
		} else if (ch === '\n' || ch === ';') {
			endCommand(';');
			i++;
		} else if (ch === '&' && next === '&') {
			endCommand('&&');
			i += 2;
		} else if (ch === '|' && next === '|') {
			endCommand('||');
			i += 2;
		} else if (ch === '|' || ch === '&' || ch === '<') {
			if (ch === '&' && next === '>') {
				endWord();
				const [target, end] = readTarget(i + (line[i + 2] === '>' ? 3 : 2));
				current.redirects.push({fd: 1, to: target}, {fd: 2, to: 1});
				i = end;
			} else throw new ShellSyntaxError(`"${ch}" (pipes, background jobs and input redirection) is not supported here`);
		} else if (ch === '>' || ((ch === '1' || ch === '2') && word === undefined && next === '>')) {
			endWord();
			const fd = ch === '2' ? 2 : 1;
			let at = ch === '>' ? i + 1 : i + 2;
			const append = line[at] === '>';
			if (append) at++;
			if (line[at] === '&' && (line[at + 1] === '1' || line[at + 1] === '2')) {
				current.redirects.push({fd, to: line[at + 1] === '1' ? 1 : 2});
				i = at + 2;
			} else {
				const [target, end] = readTarget(at);
				current.redirects.push({fd, to: target, append});
				i = end;
			}
		} else if (ch === '#' && word === undefined) {
			break;
		} else if (ch === "'") {
			const close = line.indexOf("'", i + 1);
			if (close < 0) throw new ShellSyntaxError('Unterminated quoted string');
			word = (word ?? '') + line.slice(i + 1, close);
			i = close + 1;
		} else if (ch === '"') {
			word ??= '';
			for (i++; line[i] !== '"'; ) {
				if (i >= line.length) throw new ShellSyntaxError('Unterminated quoted string');
				if (line[i] === '\\' && '"\\$`'.includes(line[i + 1] ?? 'x')) {
					word += line[i + 1];
					i += 2;
				} else if (line[i] === '$') {
					const [value, end] = expand(i + 1);
					word += value;
					i = end;
				} else word += line[i++];
			}
			i++;
		} else if (ch === '\\') {
			word = (word ?? '') + (next ?? '');
			i += 2;
		} else if (ch === '$') {
			const [value, end] = expand(i + 1);
			word = (word ?? '') + value;
			i = end;
		} else if (ch === '~' && word === undefined && (next === undefined || next === '/' || next === ' ')) {
			word = env.HOME ?? '/root';
			i++;
		} else {
			word = (word ?? '') + ch;
			i++;
		}
	}
	endCommand(';');
	return commands;
}

async function runSimpleCommand(command: SimpleCommand, io: CommandIo): Promise<number> {
	const sinks = {1: io.stdout, 2: io.stderr};
	const discard = (): void => {};
	for (const {fd, to, append} of command.redirects) {
		if (to === 1 || to === 2) sinks[fd] = sinks[to];
		else if (to === '/dev/null') sinks[fd] = discard;
		else {
			const path = normalizePath(to, io.cwd);
			const parent = path.slice(0, path.lastIndexOf('/')) || '/';
			const problem = io.fs.stat(path)?.kind === 'directory' ? 'Is a directory' : io.fs.stat(parent)?.kind !== 'directory' ? 'Directory nonexistent' : undefined;
			if (problem) {
				io.stderr(`sh: 1: cannot create ${to}: ${problem}\n`);
				return 2;
			}
			// Opened (and truncated by >) before the command runs, as a shell does.
			if (append) io.fs.append(path, '');
			else io.fs.write(path, '');
			sinks[fd] = (data) => io.fs.append(path, data);
		}
	}
	const [name, ...args] = command.words;
	if (name === undefined) return 0;
	const run = Object.hasOwn(commands, name) ? commands[name] : undefined;
	const redirected: CommandIo = {...io, stdout: sinks[1], stderr: sinks[2]};
	if (run) return run(args, redirected);
	redirected.stderr(`sh: 1: ${name}: not found\n`);
	return 127;
}

const commands: Record<string, Command> = {
	'true': () => 0,
	':': () => 0,
	'false': () => 1,
	'exit': (args) => {
		throw new ExitRequest((Number.parseInt(args[0] ?? '0', 10) || 0) & 255);
	},
	'pwd': (_args, io) => (io.stdout(`${io.cwd}\n`), 0),
	'echo': (args, io) => {
		const noNewline = args[0] === '-n';
		io.stdout(`${(noNewline ? args.slice(1) : args).join(' ')}${noNewline ? '' : '\n'}`);
		return 0;
	},
	...fileCommands,
	'tail': runTail,
	'sh': runShell,
	'bash': runShell,
};

/** `sh -c 'cmd'`, `bash -lc 'cmd'`: run the string in a nested interpreter. */
async function runShell(args: string[], io: CommandIo): Promise<number> {
	const flagIndex = args.findIndex((arg) => /^-[a-z]*c[a-z]*$/.test(arg));
	const script = flagIndex >= 0 ? args.slice(flagIndex + 1).find((arg) => !arg.startsWith('-')) : undefined;
	if (script === undefined) {
		io.stderr('sh: interactive shells and script files are not available on the simulated instance; use sh -c\n');
		return 2;
	}
	return runCommandLine(script, io);
}
