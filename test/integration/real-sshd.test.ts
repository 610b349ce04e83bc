// The log streamer against a REAL OpenSSH server started by the test on loopback (CI installs
// openssh-server; VASTDECK_SKIP_REAL_SSHD=1 skips): GNU tail -F on a pty, CR redraws, a file that
// appears late, sshd killed and restarted mid-stream without duplicates, and no tail left behind.
import {execFileSync, spawn, type ChildProcess} from 'node:child_process';
import {appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {connect, createServer} from 'node:net';
import {tmpdir, userInfo} from 'node:os';
import {join} from 'node:path';
import ssh2 from 'ssh2';
import {afterEach, describe, expect, it, vi} from 'vitest';
import {KnownHosts} from '../../source/core/ssh/known-hosts.js';
import {LogStream} from '../../source/core/ssh/log-stream.js';
import type {LogEntry} from '../../source/core/ssh/ring-buffer.js';
import {usableKeyPair} from '../helpers/ssh-key.js';

const {utils} = ssh2;
const SSHD = '/usr/sbin/sshd';
const skip = process.env.VASTDECK_SKIP_REAL_SSHD === '1';

let dir = '';
const children: ChildProcess[] = [];
const streams: LogStream[] = [];

afterEach(async () => {
  await Promise.all(streams.splice(0).map(stream => stream.stop()));
  for (const child of children.splice(0)) killTree(child.pid);
  if (dir) {
    // The test checks that tails end by themselves; after a failure, make sure none outlives it.
    await vi.waitFor(() => expect(tailsUnder(dir)).toEqual([]), {timeout: 5000}).catch(() => {
      for (const pid of tailsUnder(dir, 'pid')) process.kill(pid, 'SIGKILL');
    });
    rmSync(dir, {recursive: true, force: true});
  }
  dir = '';
});

/** Command lines of every process, by pid, from /proc. */
function processes(): Map<number, {ppid: number; comm: string; cmdline: string}> {
  const found = new Map<number, {ppid: number; comm: string; cmdline: string}>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const comm = readFileSync(`/proc/${name}/comm`, 'utf8').trim();
      const cmdline = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').join(' ').trim();
      found.set(Number(name), {ppid, comm, cmdline});
    } catch {
      // the process ended while we looked
    }
  }
  return found;
}

/** The remote `tail -n` processes following files under `root`: their command lines, or pids. */
function tailsUnder(root: string): string[];
function tailsUnder(root: string, what: 'pid'): number[];
function tailsUnder(root: string, what?: 'pid'): Array<string | number> {
  return [...processes()].filter(([, proc]) => proc.cmdline.startsWith('tail -n') && proc.cmdline.includes(root)).map(([pid, proc]) => (what ? pid : proc.cmdline));
}

/** SIGKILLs an sshd listener and every sshd below it (the per-connection ones call setsid), not their commands. */
function killTree(rootPid: number | undefined): void {
  if (rootPid === undefined) return;
  const all = processes();
  const doomed = [rootPid];
  for (let i = 0; i < doomed.length; i++) {
    for (const [pid, proc] of all) if (proc.ppid === doomed[i] && proc.comm.startsWith('sshd')) doomed.push(pid);
  }
  for (const pid of doomed) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  const {port} = server.address() as {port: number};
  await new Promise<void>(resolve => server.close(() => resolve()));
  return port;
}

async function startSshd(config: string, port: number): Promise<void> {
  const child = spawn(SSHD, ['-D', '-e', '-f', config], {stdio: ['ignore', 'ignore', 'pipe']});
  children.push(child);
  let log = '';
  child.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString()));
  await vi.waitFor(async () => {
    if (child.exitCode !== null) throw new Error(`sshd exited (${child.exitCode}): ${log}`);
    await new Promise<void>((resolve, reject) => connect(port, '127.0.0.1', function (this: import('node:net').Socket) {
      this.destroy();
      resolve();
    }).once('error', reject));
  }, {timeout: 10_000, interval: 50});
}

describe.skipIf(skip)('LogStream against a real OpenSSH sshd', () => {
  it('streams tail -F over real SSH, survives sshd being killed and restarted, and leaves no tail behind', {timeout: 60_000}, async () => {
    if (!existsSync(SSHD)) {
      throw new Error(`${SSHD} is missing: install it with \`apt-get install -y openssh-server\` (CI's .ci/run does), or set VASTDECK_SKIP_REAL_SSHD=1 to skip this test.`);
    }
    dir = mkdtempSync(join(tmpdir(), 'vastdeck-real-sshd-'));
    try {
      mkdirSync('/run/sshd', {recursive: true, mode: 0o755});
    } catch (error) {
      throw new Error(`sshd needs its privilege-separation directory /run/sshd: create it as root (${(error as Error).message}).`);
    }
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-f', join(dir, 'host'), '-N', '']);
    const user = usableKeyPair('ed25519');
    writeFileSync(join(dir, 'authorized_keys'), `${user.public}\n`, {mode: 0o600});
    const port = await freePort();
    const config = join(dir, 'sshd_config');
    writeFileSync(config, [
      `Port ${port}`, 'ListenAddress 127.0.0.1', `HostKey ${join(dir, 'host')}`, `PidFile ${join(dir, 'sshd.pid')}`,
      'UsePAM no', 'PasswordAuthentication no', 'KbdInteractiveAuthentication no', 'StrictModes no',
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`, 'Subsystem sftp internal-sftp', '',
    ].join('\n'));
    await startSshd(config, port);

    const logs = join(dir, 'logs');
    mkdirSync(logs);
    const [main, progress, late] = ['main.log', 'progress.log', 'late.log'].map(name => join(logs, name)) as [string, string, string];
    writeFileSync(main, 'first line\nsecond line\n');
    writeFileSync(progress, '');
    const seen: LogEntry[] = [];
    const knownHosts = KnownHosts.open(join(dir, 'known_hosts.json'));
    const stream = new LogStream({
      endpoint: () => ({host: '127.0.0.1', port}),
      identity: {privateKey: Buffer.from(user.private)},
      username: userInfo().username,
      pinKey: 'real-sshd#1',
      knownHosts,
      files: [main, progress, late],
      backoff: {baseMs: 50, capMs: 500},
      onLine: entry => seen.push(entry),
    });
    streams.push(stream);
    const linesOf = (file: string): string[] => stream.ring.filter(entry => entry.file === file && !entry.notice).map(entry => entry.text);

    stream.start();
    await vi.waitFor(() => expect(stream.getSnapshot().state).toBe('streaming'), {timeout: 10_000});
    await vi.waitFor(() => expect(linesOf(main)).toEqual(['first line', 'second line']), {timeout: 5000});
    await vi.waitFor(() => expect(tailsUnder(dir)).toHaveLength(3), {timeout: 5000});

    // CR progress redraws end as one line; a colour code is stripped; a file that appears late is followed.
    appendFileSync(progress, 'fetch  10%\r');
    await vi.waitFor(() => expect(linesOf(progress)).toEqual(['fetch  10%']), {timeout: 5000});
    appendFileSync(progress, 'fetch  60%\rfetch 100%\n\u001b[32mdone\u001b[0m\n');
    writeFileSync(late, 'late one\n');
    await vi.waitFor(() => expect(linesOf(progress)).toEqual(['fetch 100%', 'done']), {timeout: 5000});
    await vi.waitFor(() => expect(linesOf(late)).toEqual(['late one']), {timeout: 5000});
    expect(seen.filter(entry => entry.file === progress && entry.redraw).length).toBeGreaterThanOrEqual(1);
    expect(stream.ring.filter(entry => entry.file === late && entry.notice !== undefined).map(entry => entry.notice)).toEqual(['missing', 'appeared']);

    // A half-written line is in flight when sshd dies; more arrives while it is down.
    appendFileSync(main, 'third line, half');
    await vi.waitFor(() => expect(linesOf(main).at(-1)).toBe('third line, half'), {timeout: 5000});
    killTree(children.shift()?.pid);
    await vi.waitFor(() => expect(stream.getSnapshot().state).toBe('reconnecting'), {timeout: 10_000});
    await vi.waitFor(() => expect(tailsUnder(dir)).toEqual([]), {timeout: 5000});
    appendFileSync(main, ' and the rest\nfourth line\n');
    appendFileSync(late, 'late two\n');
    await startSshd(config, port);
    await vi.waitFor(() => expect(stream.getSnapshot().state).toBe('streaming'), {timeout: 15_000});
    appendFileSync(main, 'fifth line\n');
    await vi.waitFor(() => expect(linesOf(main)).toEqual(['first line', 'second line', 'third line, half and the rest', 'fourth line', 'fifth line']), {timeout: 5000});
    await vi.waitFor(() => expect(linesOf(late)).toEqual(['late one', 'late two']), {timeout: 5000});
    expect(linesOf(progress)).toEqual(['fetch 100%', 'done']);
    expect(stream.ring.completeLines(main)).toBe(5);
    await vi.waitFor(() => expect(tailsUnder(dir)).toHaveLength(3), {timeout: 5000});

    // stop() hangs up the remote tails.
    await stream.stop();
    expect(stream.getSnapshot().state).toBe('stopped');
    await vi.waitFor(() => expect(tailsUnder(dir)).toEqual([]), {timeout: 5000});
  });
});
