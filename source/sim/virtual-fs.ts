// The in-memory filesystem of one simulated instance: append-only files with mtimes, directories,
// marker files and change events. The boot replay writes into it; the SSH command interpreter,
// `tail -F` and SFTP read from it. Never touches the real disk.
import {EventEmitter} from 'node:events';

export type FsChangeKind = 'create' | 'append' | 'truncate' | 'remove';

/** One change; `file` is the node the change happened to (on `remove`, the node that left `path`). */
export interface FsChange {
	kind: FsChangeKind;
	path: string;
	file: VirtualFile;
}

export interface FsStat {
	kind: 'file' | 'directory';
	sizeBytes: number;
	mtimeMs: number;
}

/** Resolves `path` against `cwd` into a clean absolute path ('/a/b', never a trailing slash). */
export function normalizePath(path: string, cwd = '/'): string {
	const joined = path.startsWith('/') ? path : `${cwd}/${path}`;
	const parts: string[] = [];
	for (const part of joined.split('/')) {
		if (part === '' || part === '.') continue;
		if (part === '..') parts.pop();
		else parts.push(part);
	}
	return `/${parts.join('/')}`;
}

function parentOf(path: string): string {
	const cut = path.lastIndexOf('/');
	return cut <= 0 ? '/' : path.slice(0, cut);
}

/** A file node (an inode): keeps its identity across renames, so `tail -f` can follow it. */
export class VirtualFile {
	private data = Buffer.alloc(0);
	private used = 0;
	mtimeMs = Date.now();

	get sizeBytes(): number {
		return this.used;
	}

	/** Bytes [start, end) — a view that later appends never modify. */
	read(start = 0, end = this.used): Buffer {
		return this.data.subarray(Math.max(0, start), Math.min(end, this.used));
	}

	append(bytes: Buffer): void {
		if (this.used + bytes.length > this.data.length) {
			// Grow into a fresh buffer so views handed out earlier stay valid.
			const grown = Buffer.alloc(Math.max(this.used + bytes.length, this.data.length * 2, 4096));
			this.data.copy(grown, 0, 0, this.used);
			this.data = grown;
		}
		bytes.copy(this.data, this.used);
		this.used += bytes.length;
		this.mtimeMs = Date.now();
	}

	truncate(): void {
		this.data = Buffer.alloc(0);
		this.used = 0;
		this.mtimeMs = Date.now();
	}
}

export class VirtualFs {
	private readonly files = new Map<string, VirtualFile>();
	private readonly dirs = new Map<string, number>([['/', Date.now()]]);
	private readonly emitter = new EventEmitter().setMaxListeners(0);

	/** Every change to any path; returns the unsubscribe function. */
	watch(listener: (change: FsChange) => void): () => void {
		this.emitter.on('change', listener);
		return () => this.emitter.off('change', listener);
	}

	exists(path: string): boolean {
		const clean = normalizePath(path);
		return this.files.has(clean) || this.dirs.has(clean);
	}

	/** The file node at `path`, or undefined when there is no file there. */
	open(path: string): VirtualFile | undefined {
		return this.files.get(normalizePath(path));
	}

	read(path: string): Buffer | undefined {
		return this.open(path)?.read();
	}

	stat(path: string): FsStat | undefined {
		const clean = normalizePath(path);
		const file = this.files.get(clean);
		if (file) return {kind: 'file', sizeBytes: file.sizeBytes, mtimeMs: file.mtimeMs};
		const dirMtime = this.dirs.get(clean);
		return dirMtime === undefined ? undefined : {kind: 'directory', sizeBytes: 4096, mtimeMs: dirMtime};
	}

	/** Sorted names of the entries directly inside `dir`, or undefined when it is not a directory. */
	list(dir: string): string[] | undefined {
		const clean = normalizePath(dir);
		if (!this.dirs.has(clean)) return undefined;
		const names = new Set<string>();
		for (const path of [...this.files.keys(), ...this.dirs.keys()]) {
			if (path !== clean && parentOf(path) === clean) names.add(path.slice(path.lastIndexOf('/') + 1));
		}
		return [...names].sort();
	}

	mkdir(path: string): void {
		const clean = normalizePath(path);
		if (this.files.has(clean)) throw new Error(`cannot create directory ${clean}: a file is in the way`);
		for (let dir = clean; !this.dirs.has(dir); dir = parentOf(dir)) this.dirs.set(dir, Date.now());
	}

	/** Creates the file empty when missing, else only bumps its mtime (markers use this). */
	touch(path: string): void {
		const existing = this.open(path);
		if (existing) existing.mtimeMs = Date.now();
		else this.create(normalizePath(path));
	}

	/** Replaces the content (truncating an existing file in place, as `>` does). */
	write(path: string, bytes: Buffer | string): void {
		const clean = normalizePath(path);
		const existing = this.files.get(clean);
		if (existing) {
			existing.truncate();
			this.emit('truncate', clean, existing);
		}
		this.append(clean, bytes);
	}

	append(path: string, bytes: Buffer | string): void {
		const clean = normalizePath(path);
		const file = this.files.get(clean) ?? this.create(clean);
		const chunk = typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
		if (chunk.length === 0) return;
		file.append(chunk);
		this.emit('append', clean, file);
	}

	remove(path: string): boolean {
		const clean = normalizePath(path);
		const file = this.files.get(clean);
		if (!file) return false;
		this.files.delete(clean);
		this.emit('remove', clean, file);
		return true;
	}

	/** Moves a file to a new name (replacing any file there); false when `from` is not a file. */
	rename(from: string, to: string): boolean {
		const source = normalizePath(from);
		const target = normalizePath(to);
		const file = this.files.get(source);
		if (!file || source === target) return false;
		this.remove(target);
		this.files.delete(source);
		this.emit('remove', source, file);
		this.mkdir(parentOf(target));
		this.files.set(target, file);
		this.emit('create', target, file);
		return true;
	}

	private create(clean: string): VirtualFile {
		if (this.dirs.has(clean)) throw new Error(`cannot create file ${clean}: it is a directory`);
		this.mkdir(parentOf(clean));
		const file = new VirtualFile();
		this.files.set(clean, file);
		this.emit('create', clean, file);
		return file;
	}

	private emit(kind: FsChangeKind, path: string, file: VirtualFile): void {
		const change: FsChange = {kind, path, file};
		this.emitter.emit('change', change);
	}
}
