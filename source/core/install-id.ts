// This install's id: six hex digits made once and kept in the state folder (0600). Every label
// vastdeck gives an instance carries it (`vastdeck:<install>-<local>`), so two installs on the same
// account (another laptop, a teammate) can tell their instances apart: `down --all`, the dashboard's
// D and the auto-destroy policies touch only this install's.
import {randomBytes} from 'node:crypto';
import {readFileSync} from 'node:fs';
import {join} from 'node:path';
import {tildePath, writePrivateFile} from './credentials.js';
import {VastdeckError} from './errors.js';

const PATTERN = /^[0-9a-f]{6}$/;

/** Reads `<dir>/install-id`, creating it on first use. */
export function loadInstallId(dir: string): string {
  const path = join(dir, 'install-id');
  let text: string | undefined;
  try {
    text = readFileSync(path, 'utf8').trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new VastdeckError('config', `vastdeck cannot read ${tildePath(path)} (${(error as NodeJS.ErrnoException).code ?? 'unknown error'}): fix that file's permissions.`);
    }
  }
  if (text !== undefined && PATTERN.test(text)) return text;
  const id = randomBytes(3).toString('hex');
  try {
    writePrivateFile(path, `${id}\n`);
  } catch (error) {
    throw new VastdeckError('config', `vastdeck cannot write ${tildePath(path)} (${(error as NodeJS.ErrnoException).code ?? 'unknown error'}): free some disk space or fix that folder's permissions.`);
  }
  return id;
}
