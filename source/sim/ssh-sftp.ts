// Read-only SFTP over the simulated instance's virtual filesystem (open/read/fstat/stat/lstat,
// opendir/readdir, realpath, close); every write-side request is refused. Called by ssh-server.ts
// for the `sftp` subsystem, so clients can download logs and outputs as from a real instance.
import ssh2, {type Attributes, type FileEntry, type SFTPWrapper} from 'ssh2';
import {normalizePath, type FsStat, type VirtualFile, type VirtualFs} from './virtual-fs.js';

const {STATUS_CODE, OPEN_MODE} = ssh2.utils.sftp;
const HOME = '/root';
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

type OpenHandle = {kind: 'file'; file: VirtualFile} | {kind: 'dir'; entries: FileEntry[]; sent: boolean};

function attributesOf(stat: FsStat): Attributes {
	const seconds = Math.floor(stat.mtimeMs / 1000);
	const mode = stat.kind === 'directory' ? 0o040755 : 0o100644;
	return {mode, uid: 0, gid: 0, size: stat.sizeBytes, atime: seconds, mtime: seconds};
}

/** An `ls -l` style line, which OpenSSH's sftp client shows for `ls -l`. */
function longName(name: string, stat: FsStat): string {
	const date = new Date(stat.mtimeMs);
	const stamp = `${MONTHS[date.getUTCMonth()]} ${String(date.getUTCDate()).padStart(2)} ${String(date.getUTCHours()).padStart(2, '0')}:${String(date.getUTCMinutes()).padStart(2, '0')}`;
	const perms = stat.kind === 'directory' ? 'drwxr-xr-x' : '-rw-r--r--';
	return `${perms}    1 root     root     ${String(stat.sizeBytes).padStart(12)} ${stamp} ${name}`;
}

export function serveSftp(sftp: SFTPWrapper, fs: VirtualFs): void {
	const handles = new Map<string, OpenHandle>();
	let nextHandle = 0;
	const resolve = (path: string): string => normalizePath(path, HOME);
	const open = (reqId: number, handle: OpenHandle): void => {
		const id = Buffer.alloc(4);
		id.writeUInt32BE(nextHandle++);
		handles.set(id.toString('hex'), handle);
		sftp.handle(reqId, id);
	};
	const stat = (reqId: number, path: string): void => {
		const found = fs.stat(resolve(path));
		if (found) sftp.attrs(reqId, attributesOf(found));
		else sftp.status(reqId, STATUS_CODE.NO_SUCH_FILE);
	};

	sftp.on('OPEN', (reqId, filename, flags) => {
		if (flags & (OPEN_MODE.WRITE | OPEN_MODE.APPEND | OPEN_MODE.CREAT | OPEN_MODE.TRUNC)) {
			sftp.status(reqId, STATUS_CODE.PERMISSION_DENIED, 'the simulated instance is read-only over SFTP');
			return;
		}
		const file = fs.open(resolve(filename));
		if (file) open(reqId, {kind: 'file', file});
		else sftp.status(reqId, STATUS_CODE.NO_SUCH_FILE);
	});
	sftp.on('READ', (reqId, handle, offset, length) => {
		const open = handles.get(handle.toString('hex'));
		if (open?.kind !== 'file') sftp.status(reqId, STATUS_CODE.FAILURE, 'invalid handle');
		else if (offset >= open.file.sizeBytes) sftp.status(reqId, STATUS_CODE.EOF);
		else sftp.data(reqId, open.file.read(offset, offset + length));
	});
	sftp.on('FSTAT', (reqId, handle) => {
		const open = handles.get(handle.toString('hex'));
		if (open?.kind !== 'file') sftp.status(reqId, STATUS_CODE.FAILURE, 'invalid handle');
		else sftp.attrs(reqId, attributesOf({kind: 'file', sizeBytes: open.file.sizeBytes, mtimeMs: open.file.mtimeMs}));
	});
	sftp.on('STAT', stat);
	sftp.on('LSTAT', stat);
	sftp.on('OPENDIR', (reqId, path) => {
		const dir = resolve(path);
		const names = fs.list(dir);
		if (!names) {
			sftp.status(reqId, fs.exists(dir) ? STATUS_CODE.FAILURE : STATUS_CODE.NO_SUCH_FILE);
			return;
		}
		const entries = names.flatMap((name): FileEntry[] => {
			const found = fs.stat(`${dir}/${name}`);
			return found ? [{filename: name, longname: longName(name, found), attrs: attributesOf(found)}] : [];
		});
		open(reqId, {kind: 'dir', entries, sent: false});
	});
	sftp.on('READDIR', (reqId, handle) => {
		const open = handles.get(handle.toString('hex'));
		if (open?.kind !== 'dir') sftp.status(reqId, STATUS_CODE.FAILURE, 'invalid handle');
		else if (open.sent || open.entries.length === 0) sftp.status(reqId, STATUS_CODE.EOF);
		else {
			open.sent = true;
			sftp.name(reqId, open.entries);
		}
	});
	sftp.on('CLOSE', (reqId, handle) => {
		const known = handles.delete(handle.toString('hex'));
		sftp.status(reqId, known ? STATUS_CODE.OK : STATUS_CODE.FAILURE);
	});
	sftp.on('REALPATH', (reqId, path) => {
		const absolute = resolve(path);
		const found = fs.stat(absolute);
		const attrs = found ? attributesOf(found) : {mode: 0, uid: 0, gid: 0, size: 0, atime: 0, mtime: 0};
		sftp.name(reqId, [{filename: absolute, longname: absolute, attrs}]);
	});
	for (const refused of ['WRITE', 'FSETSTAT', 'SETSTAT', 'REMOVE', 'RMDIR', 'MKDIR', 'RENAME', 'SYMLINK']) {
		sftp.on(refused, (reqId: number) => sftp.status(reqId, STATUS_CODE.PERMISSION_DENIED, 'the simulated instance is read-only over SFTP'));
	}
	for (const unsupported of ['READLINK', 'EXTENDED']) {
		sftp.on(unsupported, (reqId: number) => sftp.status(reqId, STATUS_CODE.OP_UNSUPPORTED));
	}
}
