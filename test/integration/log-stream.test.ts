// The SSH log streamer (and connectSsh under it) against the simulated instance over real loopback
// sockets: the happy boot's three logs streamed exactly, redraws in place, reconnects without
// duplicates or losses, auth refusals, a changed host key, stop() and the connection failures.
import {mkdtempSync, readFileSync, rmSync, statSync} from 'node:fs';
import {connect as netConnect, createServer, type Server, type Socket} from 'node:net';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import ssh2 from 'ssh2';
import {afterEach, describe, expect, it, vi} from 'vitest';
import {connectSsh, execCapture, SshError, sshDropReason} from '../../source/core/ssh/connect.js';
import {KnownHosts} from '../../source/core/ssh/known-hosts.js';
import {LineSplitter} from '../../source/core/ssh/line-splitter.js';
import {DEFAULT_LOG_FILES, LogStream, type LogStreamOptions} from '../../source/core/ssh/log-stream.js';
import {LogRingBuffer, type LogEntry} from '../../source/core/ssh/ring-buffer.js';
import {fixtureValues, loadBootScenario, type BootScenarioName} from '../../source/sim/boot-fixture.js';
import {startInstanceHost, type InstanceHost, type InstanceHostOptions} from '../../source/sim/instance-host.js';
import {usableKeyPair} from '../helpers/ssh-key.js';

const {utils} = ssh2;
const key = usableKeyPair('ed25519');
const INSTANCE_ID = Number(fixtureValues.instanceId);
const PIN_KEY = `http://sim.test#${INSTANCE_ID}`;
/** The boot fixtures' three raw-ish logs (onstart.log is not followed by default, but it is a good stress test). */
const FILES = [DEFAULT_LOG_FILES[0]!, DEFAULT_LOG_FILES[1]!, '/var/log/onstart.log'] as const;
const [PROVISIONING, COMFYUI, ONSTART] = FILES;

const hosts: InstanceHost[] = [];
const streams: LogStream[] = [];
const cleanups: Array<() => void> = [];
let stateDir = '';

afterEach(async () => {
  await Promise.all(streams.splice(0).map(stream => stream.stop()));
  await Promise.all(hosts.splice(0).map(host => host.close()));
  for (const cleanup of cleanups.splice(0)) cleanup();
  if (stateDir) rmSync(stateDir, {recursive: true, force: true});
  stateDir = '';
});

/** The fixture's own instance id and token, so the replayed bytes equal the fixture files. */
async function startHost(options: Partial<InstanceHostOptions> = {}): Promise<InstanceHost> {
  const host = await startInstanceHost({
    instanceId: INSTANCE_ID,
    scenario: 'happy',
    speed: 300,
    authorizedKeys: [key.public],
    webPassword: fixtureValues.webToken,
    openButtonToken: fixtureValues.webToken,
    ...options,
  });
  hosts.push(host);
  return host;
}

function knownHosts(): KnownHosts {
  stateDir ||= mkdtempSync(join(tmpdir(), 'vastdeck-log-stream-'));
  return KnownHosts.open(join(stateDir, 'known_hosts.json'));
}

function newStream(host: InstanceHost, options: Partial<LogStreamOptions> = {}): LogStream {
  const stream = new LogStream({
    endpoint: () => ({host: '127.0.0.1', port: host.sshPort}),
    identity: {privateKey: Buffer.from(key.private), path: '/keys/test_ed25519'},
    pinKey: PIN_KEY,
    knownHosts: knownHosts(),
    capacity: 100_000,
    backoff: {baseMs: 20, capMs: 200},
    files: FILES,
    ...options,
  });
  streams.push(stream);
  return stream;
}

/** Counts the sim's live SSH connections. */
function connectionCounter(host: InstanceHost): {opened: () => number; open: () => number} {
  let opened = 0;
  let closed = 0;
  host.events.on('ssh-connection', () => opened++);
  host.events.on('ssh-closed', () => closed++);
  return {opened: () => opened, open: () => opened - closed};
}

/**
 * What the file holds once the boot is over (written in [fromMs, toMs) of the scenario): its lines as
 * LineSplitter shows them, and its LF count.
 */
async function fixtureFile(file: string, scenarioName: BootScenarioName = 'happy', fromMs = 0, toMs = Infinity): Promise<{texts: string[]; complete: number}> {
  const scenario = await loadBootScenario(scenarioName);
  const writes = scenario.writes.filter(write => write.path === file && write.tMs >= fromMs && write.tMs < toMs);
  const bytes = Buffer.concat(writes.map(write => write.bytes));
  const ring = new LogRingBuffer(100_000);
  for (const line of new LineSplitter().push(bytes)) ring.push({...line, file});
  return {texts: ring.filter(() => true).map(entry => entry.text), complete: bytes.filter(byte => byte === 0x0a).length};
}

const linesOf = (stream: LogStream, file: string): string[] =>
  stream.ring.filter(entry => entry.file === file && !entry.notice).map(entry => entry.text);

/** Waits for the whole boot, then checks every file holds exactly the fixture's lines. */
async function expectWholeBoot(stream: LogStream): Promise<void> {
  for (const file of FILES) {
    const expected = await fixtureFile(file);
    await vi.waitFor(() => expect(stream.ring.completeLines(file)).toBe(expected.complete), {timeout: 20_000, interval: 20});
    expect(linesOf(stream, file)).toEqual(expected.texts);
  }
}

describe('LogStream against the simulated instance', () => {
  it('streams the three boot logs in order, tagged, with redraws in place and no control bytes, tolerating late files', async () => {
    // Long enough that the tails are up before the first file exists, even on a loaded machine.
    const host = await startHost({bootDelayMs: 2500});
    const seen: LogEntry[] = [];
    const stream = newStream(host, {onLine: entry => seen.push(entry)});
    stream.start();
    expect(stream.getSnapshot().state).toBe('connecting');
    await vi.waitFor(() => expect(stream.getSnapshot().state).toBe('streaming'), {timeout: 10_000});
    expect(stream.getSnapshot().connectedVia).toBe(`127.0.0.1:${host.sshPort}`);
    await expectWholeBoot(stream);

    // The files did not exist yet when the tails started: tail's notices, tagged, not counted as lines.
    const notices = stream.ring.filter(entry => entry.notice !== undefined);
    expect(notices).toContainEqual(expect.objectContaining({file: PROVISIONING, notice: 'missing'}));
    expect(notices).toContainEqual(expect.objectContaining({file: PROVISIONING, notice: 'appeared'}));
    expect(linesOf(stream, ONSTART)[0]).toMatch(/^CUDA 12\.9 selected/);
    expect(linesOf(stream, COMFYUI).at(-1)).toMatch(/ComfyUI-Manager\] All startup tasks have been completed/);

    // Each wget bar is one physical line, redrawn in place many times.
    const bars = (entries: LogEntry[]): LogEntry[] => entries.filter(entry => entry.file === PROVISIONING && /^sd_xl_base_1\.0\.safetensors +\d+%\[/.test(entry.text));
    expect(bars(stream.ring.filter(() => true))).toHaveLength(1);
    expect(bars(stream.ring.filter(() => true))[0]?.text).toMatch(/100%\[=+>\] +6\.46G .* in 2m 24s *$/);
    expect(bars(seen).filter(entry => entry.redraw).length).toBeGreaterThan(20);
    expect(seen.length).toBeGreaterThan(stream.ring.size);

    // Escape codes and control bytes of the raw logs never reach a line.
    for (const entry of stream.ring.filter(() => true)) expect(entry.text).not.toMatch(/[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/);
    const snapshot = stream.getSnapshot();
    expect(snapshot).toMatchObject({state: 'streaming', lines: stream.ring.size, endSeq: stream.ring.endSeq, attempts: 1});
    expect(snapshot.lastLineAtMs).toBeGreaterThan(0);
  });

  it('survives two dropped connections mid-boot with exactly the fixture lines: nothing lost, nothing twice', async () => {
    // A slower boot keeps both drops well before ComfyUI starts, even on a loaded machine.
    const host = await startHost({speed: 60, bootDelayMs: 1000});
    const connections = connectionCounter(host);
    let comfyUp = false;
    host.events.once('comfy-listening', () => (comfyUp = true));
    const drops: Array<{comfyUp: boolean; partial: string}> = [];
    const stream = newStream(host, {
      onLine: entry => {
        // Drop while a progress line is half drawn, once on each of the first two connections.
        if (entry.partial && drops.length < 2 && connections.opened() === drops.length + 1) {
          drops.push({comfyUp, partial: entry.text});
          setImmediate(() => host.dropSshConnections());
        }
      },
    });
    stream.start();
    await expectWholeBoot(stream);
    expect(drops).toEqual([{comfyUp: false, partial: expect.any(String)}, {comfyUp: false, partial: expect.any(String)}]);
    expect(connections.opened()).toBeGreaterThanOrEqual(3);
    expect(stream.getSnapshot()).toMatchObject({state: 'streaming'});
  });

  it('follows a rotated log (comfyui.log renamed to .old) and resumes in the new file after a drop', async () => {
    const host = await startHost({scenario: 'failure', bootDelayMs: 2500});
    const connections = connectionCounter(host);
    let rotated = false;
    let dropped = false;
    const stream = newStream(host, {
      onLine: entry => {
        if (entry.file === COMFYUI && entry.notice === 'appeared' && stream.ring.filter(line => line.file === COMFYUI && !line.notice).length > 0) rotated = true;
        else if (rotated && !dropped && entry.file === COMFYUI && !entry.notice) {
          dropped = true;
          setImmediate(() => host.dropSshConnections());
        }
      },
    });
    stream.start();
    const {moments} = await loadBootScenario('failure');
    const before = await fixtureFile(COMFYUI, 'failure', 0, moments.comfyLogRotationMs);
    const after = await fixtureFile(COMFYUI, 'failure', moments.comfyLogRotationMs);
    expect(before.texts).toHaveLength(2);
    await vi.waitFor(() => expect(stream.ring.completeLines(COMFYUI)).toBe(after.complete), {timeout: 20_000, interval: 20});
    expect(linesOf(stream, COMFYUI)).toEqual([...before.texts, ...after.texts]);
    expect(stream.ring.filter(entry => entry.file === COMFYUI && entry.notice !== undefined).map(entry => entry.notice)).toEqual(
      expect.arrayContaining(['inaccessible', 'appeared']),
    );
    expect(dropped).toBe(true);
    expect(connections.opened()).toBeGreaterThanOrEqual(2);
  });

  it('retries quietly while the instance refuses the key, then streams', async () => {
    const host = await startHost();
    host.setSshRefusing(true);
    const stream = newStream(host, {authRetries: 50});
    stream.start();
    await vi.waitFor(() => expect(stream.getSnapshot().attempts).toBeGreaterThanOrEqual(3), {timeout: 10_000});
    expect(stream.getSnapshot()).toMatchObject({state: 'connecting', error: undefined});
    host.setSshRefusing(false);
    await vi.waitFor(() => expect(stream.getSnapshot().state).toBe('streaming'), {timeout: 10_000});
    await expectWholeBoot(stream);
  });

  it('reports a key that stays refused after its retries, and stops trying', async () => {
    const host = await startHost();
    host.setSshRefusing(true);
    const stream = newStream(host, {authRetries: 2});
    stream.start();
    await vi.waitFor(() => expect(stream.getSnapshot().state).toBe('failed'), {timeout: 10_000});
    expect(stream.getSnapshot().error).toBe(
      `Instance ${INSTANCE_ID} refused your SSH key (/keys/test_ed25519): it can take a few seconds after boot for keys to propagate and vastdeck retries; if it persists, check the key is attached to the instance or to your Vast.ai account.`,
    );
    expect(stream.getSnapshot().attempts).toBe(3);
  });

  it('refuses a changed host key for the same instance, with the sentence and no retry', async () => {
    const first = await startHost({hostKey: usableKeyPair('ed25519').private});
    const trusting = newStream(first);
    trusting.start();
    await vi.waitFor(() => expect(trusting.getSnapshot().state).toBe('streaming'), {timeout: 10_000});
    await trusting.stop();
    expect(knownHosts().check(PIN_KEY, first.hostKeyFingerprintSha256)).toBe('match');

    const second = await startHost({hostKey: usableKeyPair('ed25519').private});
    const connections = connectionCounter(second);
    const stream = newStream(second);
    stream.start();
    await vi.waitFor(() => expect(stream.getSnapshot().state).toBe('failed'), {timeout: 10_000});
    expect(stream.getSnapshot().error).toMatch(
      new RegExp(`^The SSH host key of instance ${INSTANCE_ID} changed \\(possible interception, or the instance was recreated\\), so vastdeck refused to connect: if you trust it, run \`vastdeck ssh-forget ${INSTANCE_ID}\``),
    );
    // Nothing is scheduled after the refusal: no retry can come, so none is waited for.
    expect(stream.active).toBe(false);
    expect(stream.getSnapshot()).toMatchObject({state: 'failed', attempts: 1});
    expect(connections.opened()).toBe(0);
    expect(knownHosts().check(PIN_KEY, first.hostKeyFingerprintSha256)).toBe('match');
  });

  it('stop() closes the channels and the connection on the instance and does not reconnect', async () => {
    const host = await startHost();
    const connections = connectionCounter(host);
    const stream = newStream(host);
    stream.start();
    await vi.waitFor(() => expect(stream.getSnapshot().state).toBe('streaming'), {timeout: 10_000});
    expect(connections.open()).toBe(1);
    await stream.stop();
    expect(stream.getSnapshot().state).toBe('stopped');
    await vi.waitFor(() => expect(connections.open()).toBe(0), {timeout: 5000});
    expect(stream.active).toBe(false);
    expect(connections.opened()).toBe(1);
  });

  it('waits for an SSH address, then follows the endpoint it is given', async () => {
    const host = await startHost();
    let endpoint: {host: string; port: number} | undefined;
    const stream = newStream(host, {endpoint: () => endpoint});
    stream.start();
    await vi.waitFor(() => expect(stream.getSnapshot().attempts).toBeGreaterThanOrEqual(2), {timeout: 5000});
    expect(stream.getSnapshot()).toMatchObject({state: 'connecting', error: `Instance ${INSTANCE_ID} has no SSH address yet: vastdeck keeps trying while it starts.`});
    endpoint = {host: '127.0.0.1', port: host.sshPort};
    await vi.waitFor(() => expect(stream.getSnapshot().state).toBe('streaming'), {timeout: 10_000});
  });

  it('saves the buffered lines to a private file with tail-style headers', async () => {
    const host = await startHost();
    const stream = newStream(host);
    stream.start();
    await expectWholeBoot(stream);
    const path = await stream.saveTo(join(stateDir, 'saved.log'));
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const text = readFileSync(path, 'utf8');
    expect(text.startsWith('==> ')).toBe(true);
    for (const file of FILES) expect(text).toContain(`==> ${file} <==\n`);
    expect(text).toContain(`${linesOf(stream, COMFYUI).at(-1)}\n`);
  });
});

describe('connectSsh', () => {
  it('connects, pins the host key on first use and runs small commands', async () => {
    const host = await startHost({speed: 1000});
    await new Promise<void>(resolve => host.events.once('provisioning-complete', () => resolve()));
    const hostsFile = knownHosts();
    const client = await connectSsh({host: '127.0.0.1', port: host.sshPort, identity: {privateKey: Buffer.from(key.private)}, pinKey: PIN_KEY, knownHosts: hostsFile});
    cleanups.push(() => client.end());
    expect(hostsFile.check(PIN_KEY, host.hostKeyFingerprintSha256)).toBe('match');
    expect(await execCapture(client, 'test -e /.provisioning_complete', {timeoutMs: 5000})).toEqual({code: 0, stdout: '', stderr: ''});
    expect(await execCapture(client, 'test -e /.provisioning_failed', {timeoutMs: 5000})).toMatchObject({code: 1});
    expect(await execCapture(client, 'echo hi; cat /nope', {timeoutMs: 5000})).toMatchObject({code: 1, stdout: 'hi\n', stderr: expect.stringContaining('/nope')});
    await expect(execCapture(client, `tail -F ${ONSTART}`, {timeoutMs: 200})).rejects.toThrow(/did not finish within 0\.2 s on the instance/);
  });

  it('names a refused connection and a missing key in one sentence', async () => {
    const closed = createServer();
    await new Promise<void>(resolve => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as {port: number}).port;
    await new Promise<void>(resolve => closed.close(() => resolve()));
    const base = {host: '127.0.0.1', port, pinKey: PIN_KEY, knownHosts: knownHosts()};
    const refused = connectSsh({...base, identity: {privateKey: Buffer.from(key.private)}});
    await expect(refused).rejects.toBeInstanceOf(SshError);
    await expect(refused).rejects.toMatchObject({code: 'ssh', failure: 'unreachable', message: `Instance ${INSTANCE_ID} refused the SSH connection at 127.0.0.1:${port}: its SSH server may not be up yet, vastdeck retries.`});
    await expect(connectSsh({...base, identity: {}})).rejects.toMatchObject({failure: 'key'});
    await expect(connectSsh({...base, identity: {privateKey: Buffer.from('not a key')}})).rejects.toMatchObject({failure: 'key', message: expect.not.stringContaining('not a key')});
  });

  it('reports a silent network as a keepalive timeout', async () => {
    const host = await startHost();
    const proxy = await startBlackholeProxy(host.sshPort);
    cleanups.push(() => proxy.close());
    const client = await connectSsh({
      host: '127.0.0.1', port: proxy.port, identity: {privateKey: Buffer.from(key.private)}, pinKey: PIN_KEY, knownHosts: knownHosts(),
      keepaliveIntervalMs: 100, keepaliveCountMax: 2,
    });
    const closed = new Promise<void>(resolve => client.once('close', () => resolve()));
    proxy.silence();
    await closed;
    expect(sshDropReason(client)).toMatchObject({failure: 'keepalive', message: expect.stringMatching(/stopped answering \(keepalive timeout\)/)});
  });
});

/** A loopback TCP proxy that can stop passing bytes (both ways) without closing anything. */
async function startBlackholeProxy(targetPort: number): Promise<{port: number; silence: () => void; close: () => void}> {
  const sockets: Socket[] = [];
  let silent = false;
  const server: Server = createServer(inbound => {
    const outbound = netConnect(targetPort, '127.0.0.1');
    sockets.push(inbound, outbound);
    for (const [from, to] of [[inbound, outbound], [outbound, inbound]] as const) {
      from.on('error', () => {});
      from.on('data', (chunk: Buffer) => silent || to.write(chunk));
      from.on('close', () => to.destroy());
    }
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as {port: number}).port,
    silence: () => {
      silent = true;
    },
    close: () => {
      for (const socket of sockets) socket.destroy();
      server.close();
    },
  };
}
