// `vastdeck ssh-forget <ID>`: drops the pinned SSH host key of an instance, after the user decided
// that a changed key is expected (the instance was recreated), so the next connection pins anew.
import {resolveBaseUrl} from '../core/credentials.js';
import {InputError} from '../core/errors.js';
import {hostPinKey, KnownHosts} from '../core/ssh/known-hosts.js';

export async function runSshForgetCommand(argv: readonly string[], io: {stdout: NodeJS.WritableStream}, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const id = Number(argv[0]);
  if (argv.length !== 1 || !Number.isInteger(id) || id <= 0) {
    throw new InputError('`vastdeck ssh-forget` needs one instance id, e.g. `vastdeck ssh-forget 31415926`.');
  }
  const origin = new URL(resolveBaseUrl(env)).origin;
  const knownHosts = KnownHosts.open();
  const forgotten = knownHosts.forget(hostPinKey(origin, id));
  io.stdout.write(forgotten ? `Forgot the pinned host key of instance ${id}; the next connection pins the key it presents.\n` : `No host key was pinned for instance ${id} on ${origin}.\n`);
  return 0;
}
