// Renting on the simulated cloud as the outside world does it (plain fetch + an ssh2 client): the
// create answers and errors, the null → loading → running lifecycle with real ports, SSH keys, the
// SSH proxy, the portal gate, billing, destroy, the v1 list's keyset pages, request_logs and
// injected faults.
import {createHash} from 'node:crypto';
import {once} from 'node:events';
import {connect} from 'node:net';
import ssh2 from 'ssh2';
import {ManualClock} from '../../source/sim/comfy/sim-clock.js';
import {afterEach, describe, expect, it} from 'vitest';
import {startSimCloud, type SimCloud, type SimCloudOptions} from '../../source/sim/cloud.js';
import type {InstanceFault} from '../../source/sim/instances.js';
import {offerPrices} from '../../source/sim/market.js';
import {usableKeyPair} from '../helpers/ssh-key.js';

const {Client, utils} = ssh2;
type SshClient = InstanceType<typeof Client>;
type Json = Record<string, unknown>;
type Ports = Record<string, [{HostIp: string; HostPort: string}]>;

const accountKey = usableKeyPair('ed25519', {comment: 'me@laptop'});
const laterKey = usableKeyPair('ed25519', {comment: 'later@desk'});
const strangerKey = usableKeyPair('ed25519');
const WEB_PASSWORD = 'web-password-0123456789abcdef';

const clouds: SimCloud[] = [];
const clients: SshClient[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.end();
  await Promise.all(clouds.splice(0).map(cloud => cloud.close()));
});

async function startCloud(options: SimCloudOptions = {}): Promise<SimCloud> {
  const cloud = await startSimCloud({port: 0, seed: 5, offers: 400, rateLimitScale: 0, churnIntervalMs: 0, speed: 100, ...options});
  clouds.push(cloud);
  return cloud;
}

async function call(cloud: SimCloud, path: string, options: {method?: string; body?: unknown; auth?: boolean} = {}): Promise<{status: number; json: Json; text: string}> {
  const headers: Record<string, string> = options.auth === false ? {} : {Authorization: `Bearer ${cloud.apiKey}`};
  if (options.body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(path.startsWith('http') ? path : `${cloud.baseUrl}${path}`, {
    method: options.method ?? 'GET',
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await response.text();
  let json: Json = {};
  try {
    json = JSON.parse(text) as Json;
  } catch {
    // not JSON: the caller looks at text
  }
  return {status: response.status, json, text};
}

/** A rentable offer id from the market, through the public search. */
async function findOffer(cloud: SimCloud, query: Json = {}): Promise<Json & {id: number}> {
  const answer = await call(cloud, '/api/v0/bundles/', {method: 'POST', body: {rentable: {eq: true}, order: [['dph_total', 'asc']], limit: 1, ...query}});
  const offer = (answer.json.offers as (Json & {id: number})[])[0];
  if (!offer) throw new Error(`no offer matches ${JSON.stringify(query)}`);
  return offer;
}

/** The body vastdeck sends for a ComfyUI instance (docs/vast-api.md §3.4). */
function comfyBody(extra: Json = {}, env: Json = {}): Json {
  return {
    client_id: 'me',
    image: 'vastai/comfyui:@vastai-automatic-tag',
    disk: 40,
    label: 'vastdeck:test',
    runtype: 'jupyter_direct',
    onstart: 'entrypoint.sh',
    cancel_unavail: false,
    env: {'-p 1111:1111': '1', '-p 8080:8080': '1', '-p 8188:8188': '1', '-p 8288:8288': '1', OPEN_BUTTON_PORT: '1111', OPEN_BUTTON_TOKEN: '1', WEB_PASSWORD, ...env},
    ...extra,
  };
}

async function create(cloud: SimCloud, offerId: number, body: Json = comfyBody()): Promise<number> {
  const answer = await call(cloud, `/api/v0/asks/${offerId}/`, {method: 'PUT', body});
  expect(answer.status, answer.text).toBe(200);
  expect(answer.json.success).toBe(true);
  expect(answer.json.instance_api_key).toMatch(/^[0-9a-f]{64}$/);
  return answer.json.new_contract as number;
}

async function read(cloud: SimCloud, id: number): Promise<Json | null> {
  const answer = await call(cloud, `/api/v0/instances/${id}/?owner=me`);
  expect(answer.status).toBe(200);
  return answer.json.instances as Json | null;
}

async function waitUntil<T>(probe: () => Promise<T | undefined> | T | undefined, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise(resolve => setTimeout(resolve, 15));
  }
}

/** Polls the v0 list (as the QA tool does) until the instance runs; returns it and every status seen. */
async function untilRunning(cloud: SimCloud, id: number): Promise<{instance: Json; seen: Json[]}> {
  const seen: Json[] = [];
  const instance = await waitUntil(async () => {
    const list = (await call(cloud, '/api/v0/instances/?owner=me')).json.instances as Json[];
    const found = list.find(entry => entry.id === id);
    if (found) seen.push(found);
    return found?.actual_status === 'running' ? found : undefined;
  }, `instance ${id} to run`);
  return {instance, seen};
}

async function addAccountKey(cloud: SimCloud, key = accountKey.public): Promise<void> {
  expect((await call(cloud, '/api/v0/ssh/', {method: 'POST', body: {ssh_key: key}})).status).toBe(200);
}

async function bootInstance(cloud: SimCloud, body: Json = comfyBody()): Promise<{id: number; instance: Json}> {
  const offer = await findOffer(cloud, {inet_down: {gte: 1500}});
  const id = await create(cloud, offer.id, body);
  return {id, ...(await untilRunning(cloud, id))};
}

function hostPort(instance: Json, port: string): number {
  return Number((instance.ports as Ports)[port]![0].HostPort);
}

function sshConnect(port: number, privateKey: string, onHostKey?: (fingerprint: string) => void): Promise<SshClient> {
  const client = new Client();
  clients.push(client);
  return new Promise((resolve, reject) => {
    client.once('ready', () => resolve(client)).once('error', reject);
    const hostVerifier = (key: Buffer): boolean => {
      onHostKey?.(`SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`);
      return true;
    };
    client.connect({host: '127.0.0.1', port, username: 'root', privateKey, readyTimeout: 5000, hostVerifier});
  });
}

/** A bare TCP connection: whether it was refused, and what the far end sent before it closed. */
function tcpProbe(port: number): Promise<{refused: boolean; received: Buffer}> {
  return new Promise(resolve => {
    const chunks: Buffer[] = [];
    let refused = false;
    const socket = connect({host: '127.0.0.1', port});
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', error => (refused = (error as NodeJS.ErrnoException).code === 'ECONNREFUSED'));
    socket.on('close', () => resolve({refused, received: Buffer.concat(chunks)}));
    // An SSH server speaks first: its identification line shows the proxy reached one.
    socket.setTimeout(2000, () => socket.end());
  });
}

/** The proxy's SSH port by vast-cli's rule: ssh_port, plus 1 for a jupyter runtype. */
function proxyPort(instance: Json): number {
  return (instance.ssh_port as number) + (String(instance.image_runtype).includes('jupyter') ? 1 : 0);
}

function exec(client: SshClient, command: string): Promise<string> {
  return new Promise((resolve, reject) =>
    client.exec(command, (error, channel) => {
      if (error) return reject(error);
      let out = '';
      channel.on('data', (data: Buffer) => (out += data.toString()));
      channel.on('close', () => resolve(out));
    }),
  );
}

async function portal(port: number, path: string, token?: string): Promise<{status: number; text: string}> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, {headers: token ? {Authorization: `Bearer ${token}`} : {}});
  return {status: response.status, text: await response.text()};
}

function comfyListening(cloud: SimCloud, id: number): Promise<{instanceId: number; atMs: number}> {
  return new Promise(resolve => {
    const listener = (event: {instanceId: number; atMs: number}) => {
      if (event.instanceId !== id) return;
      cloud.instances.events.off('comfy-listening', listener);
      resolve(event);
    };
    cloud.instances.events.on('comfy-listening', listener);
  });
}

describe('creating an instance', () => {
  it('starts with no container: actual_status and status_msg null, no ports, intended running', async () => {
    const cloud = await startCloud({speed: 1});
    const offer = await findOffer(cloud);
    const id = await create(cloud, offer.id);
    const instance = await read(cloud, id);
    expect(instance).toMatchObject({id, actual_status: null, status_msg: null, public_ipaddr: null, intended_status: 'running', cur_state: 'running'});
    expect(instance?.uptime_mins).toBeNull();
  });

  it('boots null → loading → running with real ports, the request echoed and disk-priced costs', async () => {
    const cloud = await startCloud();
    const offer = await findOffer(cloud, {inet_down: {gte: 1500}});
    const id = await create(cloud, offer.id);
    const {instance, seen} = await untilRunning(cloud, id);

    const statuses = [...new Set(seen.map(entry => entry.actual_status))];
    expect(statuses).toContain('loading');
    expect(statuses.at(-1)).toBe('running');
    for (const entry of seen.filter(each => each.actual_status === 'loading')) {
      expect(entry.status_msg).toMatch(/^(Pulling image|Extracting image layers of) vastai\/comfyui:v0\.3\.64-cuda-1\d\.\d-py312$/);
      expect(entry).not.toHaveProperty('ports');
    }
    expect(instance.status_msg).toMatch(/^success, running vastai\/comfyui_v0\.3\.64-cuda-1\d\.\d-py312\/jupyter$/);
    expect(instance).toMatchObject({
      public_ipaddr: '127.0.0.1',
      ssh_host: '127.0.0.1',
      image_runtype: 'jupyter jupyter_direc ssh_direc ssh_proxy',
      label: 'vastdeck:test',
      intended_status: 'running',
      gpu_name: offer.gpu_name,
      machine_id: offer.machine_id,
      disk_space: 40,
      onstart: 'entrypoint.sh',
    });
    expect(instance.extra_env).toContainEqual(['WEB_PASSWORD', WEB_PASSWORD]);
    expect(instance.extra_env).toContainEqual(['-p 8188:8188', '1']);
    expect(instance.jupyter_token).toMatch(/^[0-9a-f]{64}$/);
    const ports = instance.ports as Ports;
    expect(Object.keys(ports).sort()).toEqual(['1111/tcp', '22/tcp', '8080/tcp', '8188/tcp', '8288/tcp']);
    for (const [mapping] of Object.values(ports)) {
      expect(mapping.HostIp).toBe('0.0.0.0');
      expect(mapping.HostPort).toMatch(/^\d+$/);
    }
    const host = cloud.instances.hostOf(id)!;
    expect([hostPort(instance, '22/tcp'), hostPort(instance, '8188/tcp'), hostPort(instance, '1111/tcp')]).toEqual([host.sshPort, host.portalPort, host.instancePortalPort]);
    // The proxy (ssh_host/ssh_port) has a port of its own: see "Vast's SSH proxy" below.
    expect(instance).toMatchObject({ssh_port: expect.any(Number), machine_dir_ssh_port: host.sshPort});
    const prices = offerPrices(cloud.market.all()[0]!, 40, 'on-demand');
    expect(Object.keys(prices).every(field => field in instance)).toBe(true);
    expect(instance.dph_total).toBeCloseTo((offer.dph_base as number) + ((offer.storage_cost as number) * 40) / 720, 6);

    const byId = await read(cloud, id);
    expect(byId).toMatchObject({id, actual_status: 'running', ports});
    expect(cloud.market.get(offer.id)).toBeUndefined();
  });

  it('refuses a taken offer with 404 no_such_ask, or 410 with cancel_unavail', async () => {
    const cloud = await startCloud({speed: 1});
    const offer = await findOffer(cloud);
    await create(cloud, offer.id);
    const again = await call(cloud, `/api/v0/asks/${offer.id}/`, {method: 'PUT', body: comfyBody()});
    expect(again.status).toBe(404);
    expect(again.json).toEqual({success: false, error: 'invalid_args', msg: `error 404/3603: no_such_ask Instance type by id ${offer.id} is not available.`, ask_id: offer.id});
    const cancelled = await call(cloud, `/api/v0/asks/${offer.id}/`, {method: 'PUT', body: comfyBody({cancel_unavail: true})});
    expect(cancelled.status).toBe(410);
    expect(cancelled.json).toMatchObject({success: false, error: 'no_such_ask', ask_id: offer.id});
  });

  it('answers 400 invalid_args for bad bodies and leaves the offer listed', async () => {
    const cloud = await startCloud({speed: 1});
    const offer = await findOffer(cloud);
    const bad: Json[] = [
      {...comfyBody(), image: undefined},
      comfyBody({disk: 4}),
      comfyBody({disk: '40'}),
      comfyBody({env: ['-p', '8188:8188']}),
      comfyBody({onstart: 'x'.repeat(4097)}),
      comfyBody({}, {HF_TOKEN: 'x'.repeat(250)}),
      comfyBody({label: 'l'.repeat(257)}),
      comfyBody({price: 500}),
      comfyBody({runtype: 'ssh_turbo'}),
      comfyBody({}, {VASTDECK_SIM_SCENARIO: 'meteor'}),
    ];
    for (const body of bad) {
      const answer = await call(cloud, `/api/v0/asks/${offer.id}/`, {method: 'PUT', body});
      expect(answer.status, JSON.stringify(body).slice(0, 80)).toBe(400);
      expect(answer.json).toMatchObject({success: false, error: 'invalid_args'});
      expect(answer.json.msg).toMatch(/^error 400\/3467: Invalid args: /);
    }
    expect((await call(cloud, '/api/v0/asks/abc/', {method: 'PUT', body: comfyBody()})).status).toBe(400);
    expect(cloud.market.get(offer.id)).toBeDefined();
  });

  it('parses the docker-flag env string like the CLI and echoes the runtype in Vast spelling', async () => {
    const cloud = await startCloud({speed: 1});
    const offer = await findOffer(cloud);
    const env = `-e FOO=bar -e 'QUOTED=a b' -p 8188:8188 --junk x -e BAD`;
    const id = await create(cloud, offer.id, {image: 'vastai/base-image:cuda-12.8', disk: 10, env, runtype: 'ssh_direc ssh_proxy'});
    const instance = await read(cloud, id);
    expect(instance?.extra_env).toEqual([['FOO', 'bar'], ['QUOTED', 'a b'], ['-p 8188:8188', '1']]);
    expect(instance?.image_runtype).toBe('ssh ssh_direc ssh_proxy');
    expect(instance?.image_uuid).toBe('vastai/base-image:cuda-12.8');
  });

  it('refuses with 402 insufficient_credit when the balance does not cover an hour', async () => {
    const cloud = await startCloud({speed: 1});
    const offer = await findOffer(cloud);
    cloud.account.balance = (offer.dph_total as number) / 2;
    const answer = await call(cloud, `/api/v0/asks/${offer.id}/`, {method: 'PUT', body: comfyBody()});
    expect(answer.status).toBe(402);
    expect(answer.json).toMatchObject({success: false, error: 'insufficient_credit', ask_id: offer.id});
    expect(answer.json.msg).toMatch(/balance/);
    expect(cloud.market.get(offer.id)).toBeDefined();
  });

  it('picks the boot scenario: slow links resume, nextScenario and VASTDECK_SIM_SCENARIO override', async () => {
    const cloud = await startCloud({speed: 1});
    const slow = await findOffer(cloud, {inet_down: {lt: 200}});
    expect(cloud.instances.scenarioOf(await create(cloud, slow.id))).toBe('slow-resume');
    cloud.instances.nextScenario = 'failure';
    expect(cloud.instances.scenarioOf(await create(cloud, (await findOffer(cloud, {inet_down: {gte: 500}})).id))).toBe('failure');
    expect(cloud.instances.nextScenario).toBeUndefined();
    expect(cloud.instances.scenarioOf(await create(cloud, (await findOffer(cloud, {inet_down: {gte: 500}})).id))).toBe('happy');
    const chosen = await create(cloud, (await findOffer(cloud, {inet_down: {gte: 500}})).id, comfyBody({}, {VASTDECK_SIM_SCENARIO: 'failure'}));
    expect(cloud.instances.scenarioOf(chosen)).toBe('failure');
  });
});

describe('a running instance', () => {
  it('lets account keys in over 22/tcp, refuses strangers, and takes a key attached later', async () => {
    const cloud = await startCloud();
    await addAccountKey(cloud);
    const keys = (await call(cloud, '/api/v0/ssh/')).json as unknown as Json[];
    expect(keys).toEqual([expect.objectContaining({user_id: cloud.account.id, key: accountKey.public, deleted_at: null})]);
    const {id, instance} = await bootInstance(cloud);
    const port = hostPort(instance, '22/tcp');

    const client = await sshConnect(port, accountKey.private);
    expect(await exec(client, 'echo $CONTAINER_ID')).toBe(`${id}\n`);
    await expect(sshConnect(port, strangerKey.private)).rejects.toThrow(/authentication methods failed/);

    const attached = await call(cloud, `/api/v0/instances/${id}/ssh/`, {method: 'POST', body: {ssh_key: laterKey.public}});
    expect(attached.json).toEqual({success: true, msg: 'SSH key attached successfully'});
    await expect(sshConnect(port, laterKey.private)).resolves.toBeTruthy();
    const listed = (await call(cloud, `/api/v0/instances/${id}/ssh/`)).json;
    expect(typeof listed.ssh_keys).toBe('string');
    expect((JSON.parse(listed.ssh_keys as string) as Json[]).map(key => key.public_key)).toEqual([accountKey.public, laterKey.public]);

    expect((await call(cloud, '/api/v0/ssh/', {method: 'POST', body: {ssh_key: 'not a key'}})).json).toMatchObject({success: false, error: 'no_ssh_key'});
    expect((await call(cloud, '/api/v0/ssh/', {method: 'POST', body: {}})).json).toEqual({success: false, error: 'no_ssh_key', msg: 'No ssh key provided'});
  });

  it('serves the portal gate: 502 before ComfyUI, 401 without a token, 200 with WEB_PASSWORD or jupyter_token', async () => {
    // Slower clock: ComfyUI listens ~3.6 s after running, room for the 502 under load.
    const cloud = await startCloud({speed: 60});
    const offer = await findOffer(cloud, {inet_down: {gte: 1500}});
    const id = await create(cloud, offer.id);
    const listening = comfyListening(cloud, id);
    const {instance} = await untilRunning(cloud, id);
    const port = hostPort(instance, '8188/tcp');
    expect((await portal(port, '/system_stats', WEB_PASSWORD)).status).toBe(502);
    expect((await portal(port, '/system_stats')).status).toBe(401);

    const event = await listening;
    expect(event.atMs).toBeLessThanOrEqual(Date.now());
    const stats = await portal(port, '/system_stats', WEB_PASSWORD);
    expect(stats.status).toBe(200);
    expect(stats.text).toContain(offer.gpu_name as string);
    expect((await portal(port, '/system_stats', instance.jupyter_token as string)).status).toBe(200);
    expect((await portal(hostPort(instance, '1111/tcp'), '/health', WEB_PASSWORD)).status).toBe(200);
  });

  it('hands out request_logs URLs that 404 twice, then serve the onstart log without auth', async () => {
    const cloud = await startCloud();
    const offer = await findOffer(cloud, {inet_down: {gte: 1500}});
    const id = await create(cloud, offer.id);
    await comfyListening(cloud, id);
    const requested = await call(cloud, `/api/v0/instances/request_logs/${id}/`, {method: 'PUT', body: {}});
    const url = requested.json.result_url as string;
    expect(url).toMatch(new RegExp(`^${cloud.baseUrl}/sim-logs/[0-9a-f]{32}\\.log$`));
    expect((await call(cloud, url, {auth: false})).status).toBe(404);
    expect((await call(cloud, url, {auth: false})).status).toBe(404);
    const log = await call(cloud, url, {auth: false});
    expect(log.status).toBe(200);
    expect(log.text).toContain(`* Your web credentials are: vastai / ${WEB_PASSWORD}`);
    expect(log.text).toContain('To see the GUI go to: http://127.0.0.1:18188');

    const tailed = await call(cloud, `/api/v0/instances/request_logs/${id}/`, {method: 'PUT', body: {tail: '5'}});
    const tailUrl = tailed.json.result_url as string;
    await call(cloud, tailUrl, {auth: false});
    await call(cloud, tailUrl, {auth: false});
    const tail = (await call(cloud, tailUrl, {auth: false})).text;
    expect(tail.endsWith('\n')).toBe(true);
    expect(tail.slice(0, -1).split('\n')).toHaveLength(5);
    expect((await call(cloud, '/api/v0/instances/request_logs/1/', {method: 'PUT', body: {}})).json).toMatchObject({success: false, error: 'invalid_id'});
  });

  it('stops (SSH gone, no ports), starts again, and takes a label', async () => {
    const cloud = await startCloud();
    await addAccountKey(cloud);
    const {id, instance} = await bootInstance(cloud);
    const port = hostPort(instance, '22/tcp');

    expect((await call(cloud, `/api/v0/instances/${id}/`, {method: 'PUT', body: {state: 'stopped'}})).json).toEqual({success: true});
    expect(await read(cloud, id)).toMatchObject({actual_status: 'stopped', intended_status: 'stopped', cur_state: 'stopped'});
    expect(await read(cloud, id)).not.toHaveProperty('ports');
    await expect(sshConnect(port, accountKey.private)).rejects.toThrow();

    await call(cloud, `/api/v0/instances/${id}/`, {method: 'PUT', body: {state: 'running'}});
    const {instance: again} = await untilRunning(cloud, id);
    expect(hostPort(again, '22/tcp')).toBe(port);
    await expect(sshConnect(port, accountKey.private)).resolves.toBeTruthy();

    await call(cloud, `/api/v0/instances/${id}/`, {method: 'PUT', body: {label: 'renamed'}});
    expect((await read(cloud, id))?.label).toBe('renamed');
    const long = await call(cloud, `/api/v0/instances/${id}/`, {method: 'PUT', body: {label: 'x'.repeat(1025)}});
    expect(long.status).toBe(400);
    expect(long.json.error).toBe('label_too_long');
    expect((await call(cloud, '/api/v0/instances/1/', {method: 'PUT', body: {state: 'stopped'}})).status).toBe(404);
  });

  it('bills the balance while it exists and stops billing once destroyed', async () => {
    const clock = new ManualClock();
    const cloud = await startCloud({speed: 1, time: clock});
    cloud.account.balance = 1000;
    const id = await create(cloud, (await findOffer(cloud)).id);
    const before = (await call(cloud, '/api/v0/users/current/')).json.balance as number;
    await clock.advance(3_600_000);
    const during = (await call(cloud, '/api/v0/users/current/')).json.balance as number;
    expect(during).toBeLessThan(before);

    expect((await call(cloud, `/api/v0/instances/${id}/`, {method: 'DELETE', body: {}})).json).toEqual({success: true});
    const settled = cloud.account.balance;
    await clock.advance(3_600_000);
    await call(cloud, '/api/v0/users/current/');
    expect(cloud.account.balance).toBe(settled);
  });

  it('is gone after DELETE: 404 the second time, null by id, omitted from lists, its SSH closed', async () => {
    const cloud = await startCloud();
    await addAccountKey(cloud);
    const {id, instance} = await bootInstance(cloud);
    const port = hostPort(instance, '22/tcp');
    await sshConnect(port, accountKey.private);

    expect((await call(cloud, `/api/v0/instances/${id}/`, {method: 'DELETE', body: {}})).status).toBe(200);
    const second = await call(cloud, `/api/v0/instances/${id}/`, {method: 'DELETE', body: {}});
    expect(second.status).toBe(404);
    expect(second.json).toEqual({success: false, error: 'not_found', msg: 'Instance not found'});
    expect(await read(cloud, id)).toBeNull();
    expect((await call(cloud, '/api/v0/instances/')).json).toEqual({instances: [], instances_found: 0});
    expect((await call(cloud, '/api/v1/instances/')).json.instances).toEqual([]);
    await waitUntil(() => sshConnect(port, accountKey.private).then(() => undefined, () => true), 'the SSH port to close');
  });
});

describe("Vast's SSH proxy", () => {
  it('has its address from the create on, closes connections until the container runs, then leads to its sshd', async () => {
    const cloud = await startCloud({speed: 60});
    await addAccountKey(cloud);
    const offer = await findOffer(cloud, {inet_down: {gte: 1500}});
    const id = await create(cloud, offer.id, comfyBody({runtype: 'ssh_proxy'}));
    const created = (await read(cloud, id))!;
    expect(created).toMatchObject({actual_status: null, ssh_host: '127.0.0.1', ssh_port: expect.any(Number), image_runtype: 'ssh ssh_proxy'});
    expect(created).not.toHaveProperty('ports');
    const port = proxyPort(created);

    // Accepted, then closed before a byte: OpenSSH's "kex_exchange_identification: Connection closed by remote host".
    expect(await tcpProbe(port)).toEqual({refused: false, received: Buffer.alloc(0)});
    await expect(sshConnect(port, accountKey.private)).rejects.toThrow(/Connection lost before handshake/);
    const loading = await waitUntil(async () => {
      const instance = await read(cloud, id);
      return instance?.actual_status === 'loading' ? instance : undefined;
    }, 'the instance to load');
    expect(loading).toMatchObject({ssh_host: created.ssh_host, ssh_port: created.ssh_port});
    expect((await tcpProbe(port)).received.length).toBe(0);

    const {instance} = await untilRunning(cloud, id);
    expect(instance).toMatchObject({ssh_host: created.ssh_host, ssh_port: created.ssh_port});
    let fingerprint = '';
    const client = await sshConnect(port, accountKey.private, seen => (fingerprint = seen));
    expect(await exec(client, 'echo $CONTAINER_ID')).toBe(`${id}\n`);
    expect(fingerprint).toBe(cloud.instances.hostOf(id)!.hostKeyFingerprintSha256);
    expect((await tcpProbe(port)).received.toString('latin1')).toMatch(/^SSH-2\.0-/);
  });

  it('drops its connections when the container stops, leads to the sshd again after a start, and goes with a destroy', async () => {
    const cloud = await startCloud();
    await addAccountKey(cloud);
    const {id, instance} = await bootInstance(cloud);
    const port = proxyPort(instance);

    const client = await sshConnect(port, accountKey.private);
    const closed = once(client, 'close');
    await call(cloud, `/api/v0/instances/${id}/`, {method: 'PUT', body: {state: 'stopped'}});
    await closed;
    expect(await read(cloud, id)).toMatchObject({actual_status: 'stopped', ssh_port: instance.ssh_port});
    expect(await tcpProbe(port)).toEqual({refused: false, received: Buffer.alloc(0)});

    await call(cloud, `/api/v0/instances/${id}/`, {method: 'PUT', body: {state: 'running'}});
    await untilRunning(cloud, id);
    expect(await exec(await sshConnect(port, accountKey.private), 'echo $CONTAINER_ID')).toBe(`${id}\n`);

    await call(cloud, `/api/v0/instances/${id}/`, {method: 'DELETE', body: {}});
    await waitUntil(async () => ((await tcpProbe(port)).refused ? true : undefined), 'the proxy port to close');
  });
});

describe('the v1 instance list', () => {
  it('pages with next_token, filters and orders stored columns, and rejects computed keys and bad tokens', async () => {
    const cloud = await startCloud({speed: 1});
    const ids: number[] = [];
    for (const label of ['a', 'a', 'b', 'a', 'b', 'a', 'b']) ids.push(await create(cloud, (await findOffer(cloud)).id, comfyBody({label})));
    const list = (query: string) => call(cloud, `/api/v1/instances/?${query}`);

    const pages: number[][] = [];
    let token: unknown = undefined;
    do {
      const page = await list(`limit=3${token ? `&after_token=${encodeURIComponent(token as string)}` : ''}`);
      expect(page.json).toMatchObject({success: true, instances_found: 7, total_instances: 7, label_counts: {a: 4, b: 3}});
      pages.push((page.json.instances as Json[]).map(instance => instance.id as number));
      token = page.json.next_token;
    } while (token !== null);
    expect(pages.map(page => page.length)).toEqual([3, 3, 1]);
    expect(pages.flat()).toEqual([...ids].sort((x, y) => x - y));

    const descending = encodeURIComponent(JSON.stringify([{col: 'id', dir: 'desc'}]));
    expect(((await list(`order_by=${descending}&limit=2`)).json.instances as Json[]).map(instance => instance.id)).toEqual([...ids].sort((x, y) => y - x).slice(0, 2));
    const onlyB = await list(`select_filters=${encodeURIComponent(JSON.stringify({label: {eq: 'b'}}))}`);
    expect(onlyB.json.instances_found).toBe(3);
    expect((await list('limit=0')).json.instances).toHaveLength(5);
    expect((await list('limit=100')).json.instances).toHaveLength(7);

    const computed = await list(`select_filters=${encodeURIComponent(JSON.stringify({dph_total: {lt: 1}}))}`);
    expect(computed.status).toBe(400);
    expect(computed.json.msg).toMatch(/dph_total is not a valid search key/);
    const garbage = await list('after_token=garbage');
    expect(garbage.status).toBe(400);
    expect(garbage.json.error).toBe('invalid_token');
    const firstToken = (await list('limit=3')).json.next_token as string;
    expect((await list(`order_by=${descending}&after_token=${firstToken}`)).json.error).toBe('invalid_token');
  });
});

describe('injected faults', () => {
  it('show up in actual_status and status_msg', async () => {
    const cloud = await startCloud({speed: 1});
    const expectations: [InstanceFault, Json, RegExp | null][] = [
      ['pull-error', {actual_status: 'loading'}, /^Error response from daemon: manifest for vastai\/comfyui:\S+ not found/],
      ['oci-error', {actual_status: 'created'}, /OCI runtime create failed/],
      ['exited', {actual_status: 'exited'}, /exited/i],
      ['offline', {actual_status: 'offline'}, null],
      ['unknown', {actual_status: 'unknown'}, null],
    ];
    for (const [kind, fields, message] of expectations) {
      const id = await create(cloud, (await findOffer(cloud)).id);
      expect(cloud.instances.inject(id, kind)).toBe(true);
      const instance = await read(cloud, id);
      expect(instance, kind).toMatchObject(fields);
      if (message) expect(instance?.status_msg).toMatch(message);
    }
    expect(cloud.instances.inject(1, 'offline')).toBe(false);
  });

  it('break a running instance: no ports once exited, provisioning failure, dropped and refused SSH', async () => {
    const cloud = await startCloud();
    await addAccountKey(cloud);
    // slow-resume provisions for ~500 sim-seconds: still provisioning when the failure is injected.
    cloud.instances.nextScenario = 'slow-resume';
    const first = await bootInstance(cloud);
    const second = await bootInstance(cloud);
    const port = hostPort(first.instance, '22/tcp');

    const failed = once(cloud.instances.events, 'provisioning-failed');
    cloud.instances.inject(first.id, 'provisioning-failure');
    expect(((await failed)[0] as {instanceId: number}).instanceId).toBe(first.id);

    const client = await sshConnect(port, accountKey.private);
    const closed = once(client, 'close');
    cloud.instances.inject(first.id, 'drop-ssh');
    await closed;
    cloud.instances.inject(first.id, 'refuse-ssh');
    await expect(sshConnect(port, accountKey.private)).rejects.toThrow(/authentication methods failed/);

    cloud.instances.inject(second.id, 'exited');
    expect(await read(cloud, second.id)).toMatchObject({actual_status: 'exited', public_ipaddr: null});
    expect(await read(cloud, second.id)).not.toHaveProperty('ports');
  });
});
