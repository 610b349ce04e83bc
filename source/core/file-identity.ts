// Which version of a file is on disk (inode, size, modification time), so a store can keep what it
// parsed until another process writes the file: reading and parsing on every question was most of
// an idle dashboard's work. 'missing' when there is no file.
import {statSync} from 'node:fs';

export function fileIdentity(path: string): string {
  try {
    const stats = statSync(path);
    return `${stats.ino}:${stats.size}:${stats.mtimeMs}`;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw error;
  }
}
