// The official vast-cli (vast.py) against the simulated cloud, command by command: the requests it
// sends (routes, methods, bodies, the ?api_key= it appends next to the Bearer header) and the fields
// it reads, re-expressed in TypeScript. Rate limits are on (Vast's published thresholds) and time
// runs on a ManualClock, a few simulated seconds between commands as a person would type them.
import {connect} from 'node:net';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {startSimCloud, type SimCloud} from '../../source/sim/cloud.js';
import {ManualClock} from '../../source/sim/comfy/sim-clock.js';
import {usableKeyPair} from '../helpers/ssh-key.js';

type Json = Record<string, any>;

let cloud: SimCloud;
let clock: ManualClock;

beforeAll(async () => {
  clock = new ManualClock();
  cloud = await startSimCloud({port: 0, seed: 21, offers: 400, churnIntervalMs: 0, time: clock});
});

afterAll(async () => {
  await cloud.close();
});

/** vast.py's apiurl(): /api/v0 + path, its query args and api_key JSON-encoded with quote_plus. */
function apiurl(path: string, query: Record<string, unknown> = {}, key: string = cloud.apiKey): string {
  const args = {...query, api_key: key};
  const encoded = Object.entries(args).map(([name, value]) => `${name}=${encodeURIComponent(typeof value === 'string' ? value : JSON.stringify(value)).replace(/%20/g, '+')}`);
  return `${cloud.baseUrl}/api/v0${path}?${encoded.join('&')}`;
}

/** http_request(): requests with the Bearer header and a JSON body (json={} unless a GET); the key is the account's unless given. */
async function cli(method: string, url: string, json?: unknown, key: string = cloud.apiKey): Promise<{status: number; json: Json; contentType: string | null}> {
  await clock.advance(5000);
  const response = await fetch(url, {
    method,
    headers: {Authorization: `Bearer ${key}`, 'User-Agent': 'python-requests/2.32.3', ...(json === undefined ? {} : {'Content-Type': 'application/json'})},
    body: json === undefined ? undefined : JSON.stringify(json),
  });
  const text = await response.text();
  return {status: response.status, json: text ? (JSON.parse(text) as Json) : {}, contentType: response.headers.get('content-type')};
}

/** vast.py create__instance's body for `--image IMAGE --disk N --jupyter --direct --env ENV` (runtype 'ssh_proxy' for `--ssh`). */
function createBody(env: Record<string, string>, label: string | null = null, runtype = 'jupyter_direc ssh_direc ssh_proxy'): Json {
  return {
    client_id: 'me', image: 'vastai/comfyui:@vastai-automatic-tag', env, price: null, disk: 40.0, label, extra: null, onstart: null,
    image_login: null, python_utf8: false, lang_utf8: false, use_jupyter_lab: false, jupyter_dir: null, force: false,
    cancel_unavail: false, template_hash_id: null, user: null, runtype, args: null,
  };
}

/** What an SSH client connecting to 127.0.0.1:port receives before the server closes or 1 s passes. */
function firstBytes(port: number): Promise<string> {
  return new Promise(resolve => {
    let text = '';
    const socket = connect({host: '127.0.0.1', port});
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
      socket.end();
    });
    socket.on('error', () => {});
    socket.on('close', () => resolve(text));
    socket.setTimeout(1000, () => socket.end());
  });
}

/** _ssh_url(): from `show instances`, direct 22/tcp if mapped, else the proxy (+1 for jupyter). */
function sshUrl(rows: Json[], id: number, protocol = 'ssh://'): string {
  const instance = rows.find(row => row.id === id)!;
  const ports = instance.ports ?? {};
  const direct = ports['22/tcp'];
  let ipaddr: string;
  let port: number;
  // Python's int() of a missing value raises, which the CLI turns into port -1.
  const int = (value: unknown): number => {
    if (value === null || value === undefined || !/^\s*-?\d+\s*$/.test(String(value))) throw new TypeError('int()');
    return Number.parseInt(String(value), 10);
  };
  try {
    if (direct) [ipaddr, port] = [instance.public_ipaddr, int(direct[0].HostPort)];
    else [ipaddr, port] = [instance.ssh_host, instance.image_runtype.includes('jupyter') ? int(instance.ssh_port) + 1 : int(instance.ssh_port)];
  } catch {
    port = -1;
    ipaddr = '';
  }
  return port > 0 ? `${protocol}root@${ipaddr}:${port}` : 'error: ssh port not found';
}

async function showInstances(): Promise<Json[]> {
  const answer = await cli('GET', apiurl('/instances', {owner: 'me'}));
  expect(answer.status).toBe(200);
  const rows = answer.json.instances as Json[];
  for (const row of rows) {
    // show__instances: duration from start_date, extra_env list of pairs into a dict.
    expect(typeof row.start_date).toBe('number');
    expect(Object.fromEntries(row.extra_env as Array<[string, string]>)).toBeTypeOf('object');
  }
  return rows;
}

let first: number;
let second: number;
let firstKey: string;
/** The first instance's ssh_host and ssh_port while it loaded. */
let loadingProxy: {ssh_host: unknown; ssh_port: unknown};

describe('vast.py against vastdeck sim', () => {
  it('starts: GET /gpu_names/unique/ without any key (cached a day by the CLI)', async () => {
    const response = await fetch(`${cloud.baseUrl}/api/v0/gpu_names/unique/`);
    expect(response.status).toBe(200);
    const {gpu_names: names} = (await response.json()) as {gpu_names: string[]};
    expect(names).toContain('RTX 4090');
    expect(names.map(name => name.replace(/ /g, '_').replace(/-/g, '_'))).toContain('RTX_4090');
  });

  it("search offers 'gpu_name=RTX_4090 num_gpus=1 inet_down>500' -o dph_total: POST /bundles/ with the default filters, as exact application/json", async () => {
    const query = {verified: {eq: true}, external: {eq: false}, rentable: {eq: true}, rented: {eq: false}, gpu_name: {eq: 'RTX 4090'}, num_gpus: {eq: '1'}, inet_down: {gt: '500'}, order: [['dph_total', 'asc']], type: 'on-demand', allocated_storage: 5.0};
    const answer = await cli('POST', apiurl('/bundles/'), query);
    expect(answer.status).toBe(200);
    expect(answer.contentType).toBe('application/json');
    const offers = answer.json.offers as Json[];
    expect(offers.length).toBeGreaterThan(1);
    expect(offers.every(offer => offer.gpu_name === 'RTX 4090' && offer.num_gpus === 1 && offer.inet_down > 500 && offer.rented === false)).toBe(true);
    expect(offers.map(offer => offer.dph_total)).toEqual([...offers.map(offer => offer.dph_total)].sort((a, b) => a - b));
  });

  it('create instance (twice): PUT /asks/ID/ with the CLI body answers new_contract and instance_api_key', async () => {
    const offers = (await cli('POST', apiurl('/bundles/'), {gpu_name: {eq: 'RTX 4090'}, inet_down: {gte: 1000}, order: [['dph_total', 'asc']], type: 'on-demand', allocated_storage: 40.0})).json.offers as Json[];
    const answers = [];
    for (const offer of offers.slice(0, 2)) {
      const created = await cli('PUT', apiurl(`/asks/${String(offer.id)}/`), createBody({'-p 8188:8188': '1', '-p 1111:1111': '1', WEB_PASSWORD: 'cli-password-0123456789', OPEN_BUTTON_TOKEN: '1'}));
      expect(created.status).toBe(200);
      expect(created.json).toMatchObject({success: true, new_contract: expect.any(Number), instance_api_key: expect.stringMatching(/^[0-9a-f]{64}$/)});
      answers.push(created.json);
    }
    [first, second] = answers.map(answer => answer.new_contract as number) as [number, number];
    firstKey = answers[0]!.instance_api_key as string;
  });

  it('show instances and ssh-url while loading: no ports key (never null), so the CLI prints the proxy from ssh_host/ssh_port', async () => {
    expect(await clock.advanceUntil(() => cloud.instances.get(first)?.actual_status === 'loading', {stepMs: 1000})).toBe(true);
    const rows = await showInstances();
    const loading = rows.find(row => row.id === first)!;
    expect(loading).toMatchObject({actual_status: 'loading', ssh_host: '127.0.0.1', ssh_port: expect.any(Number)});
    expect(loading.ports === null).toBe(false);
    expect(loading).not.toHaveProperty('ports');
    // A jupyter runtype: the CLI adds 1 to ssh_port.
    expect(sshUrl(rows, first)).toBe(`ssh://root@127.0.0.1:${(loading.ssh_port as number) + 1}`);
    loadingProxy = {ssh_host: loading.ssh_host, ssh_port: loading.ssh_port};
  });

  it('ssh-url / scp-url once running: one line, the direct 22/tcp mapping, no stray newline; ssh_host/ssh_port as while loading', async () => {
    expect(await clock.advanceUntil(() => [first, second].every(id => cloud.instances.get(id)?.actual_status === 'running'), {stepMs: 2000})).toBe(true);
    const rows = await showInstances();
    const sshPort = cloud.instances.hostOf(first)!.sshPort;
    expect(sshUrl(rows, first)).toBe(`ssh://root@127.0.0.1:${sshPort}`);
    expect(sshUrl(rows, first, 'scp://')).toBe(`scp://root@127.0.0.1:${sshPort}`);
    const running = rows.find(row => row.id === first)!;
    expect(running).toMatchObject(loadingProxy);
    expect(typeof running.ports['8188/tcp'][0].HostPort).toBe('string');
    expect(running.uptime_mins).toBeTypeOf('number');
  });

  it('create --ssh (runtype ssh_proxy), then ssh-url: the same proxy URL while loading and once running, where an SSH server answers', async () => {
    const offer = ((await cli('POST', apiurl('/bundles/'), {gpu_name: {eq: 'RTX 4090'}, inet_down: {gte: 1000}, order: [['dph_total', 'asc']], type: 'on-demand', allocated_storage: 40.0})).json.offers as Json[])[0]!;
    const proxied = (await cli('PUT', apiurl(`/asks/${String(offer.id)}/`), createBody({}, null, 'ssh_proxy'))).json.new_contract as number;
    const loading = (await showInstances()).find(row => row.id === proxied)!;
    expect(loading).toMatchObject({actual_status: 'loading', image_runtype: 'ssh ssh_proxy'});
    const url = sshUrl([loading], proxied);
    expect(url).toBe(`ssh://root@127.0.0.1:${String(loading.ssh_port)}`);
    // Vast's proxy with no container behind it: the connection closes before the server's first line.
    expect(await firstBytes(loading.ssh_port as number)).toBe('');

    expect(await clock.advanceUntil(() => cloud.instances.get(proxied)?.actual_status === 'running', {stepMs: 2000})).toBe(true);
    expect(sshUrl(await showInstances(), proxied)).toBe(url);
    expect(await firstBytes(loading.ssh_port as number)).toMatch(/^SSH-2\.0-/);
    expect((await cli('DELETE', apiurl(`/instances/${proxied}/`), {})).json).toEqual({success: true});
  });

  it('show instance ID: GET /instances/ID/?owner=me gives the object; label instance sets the label', async () => {
    const shown = await cli('GET', apiurl(`/instances/${first}/`, {owner: 'me'}));
    expect(shown.json.instances).toMatchObject({id: first, actual_status: 'running'});
    expect(Array.isArray(shown.json.instances.extra_env)).toBe(true);
    expect((await cli('PUT', apiurl(`/instances/${first}/`), {label: 'cli-label'})).json).toEqual({success: true});
    expect((await showInstances()).find(row => row.id === first)!.label).toBe('cli-label');
  });

  it('stop instances A B / start instances A B: one bulk PUT /instances/ with {"state", "ids"}', async () => {
    expect((await cli('PUT', apiurl('/instances/'), {state: 'stopped', ids: [first, second]})).json).toMatchObject({success: true});
    for (const id of [first, second]) expect(cloud.instances.get(id)).toMatchObject({intended_status: 'stopped', actual_status: 'stopped'});
    expect((await cli('PUT', apiurl('/instances/'), {state: 'running', ids: [first, second]})).json).toMatchObject({success: true});
    for (const id of [first, second]) expect(cloud.instances.get(id)).toMatchObject({intended_status: 'running'});
    expect(await clock.advanceUntil(() => [first, second].every(id => cloud.instances.get(id)?.actual_status === 'running'), {stepMs: 2000})).toBe(true);
  });

  it('reboot instance and logs --tail: PUT reboot/ID/ {}, PUT request_logs/ID/ {"tail": "50"} then GET result_url until 200', async () => {
    expect((await cli('PUT', apiurl(`/instances/reboot/${second}/`), {})).json).toEqual({success: true});
    const requested = await cli('PUT', apiurl(`/instances/request_logs/${first}/`), {tail: '50'});
    expect(requested.json).toMatchObject({success: true, result_url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\//)});
    let text = '';
    for (let attempt = 0; attempt < 30 && !text; attempt++) {
      const response = await fetch(requested.json.result_url as string);
      if (response.status === 200) text = await response.text();
    }
    expect(text.trim().split('\n').length).toBeLessThanOrEqual(50);
    expect(text.length).toBeGreaterThan(0);
  });

  it('create/show/attach/detach/delete ssh keys', async () => {
    const publicKey = usableKeyPair('ed25519', {comment: 'cli@test'}).public;
    const created = await cli('POST', apiurl('/ssh/'), {ssh_key: publicKey});
    expect(created.json).toMatchObject({success: true, key: {id: expect.any(Number), public_key: publicKey}});
    const keyId = created.json.key.id as number;
    expect((await cli('GET', apiurl('/ssh/'))).json).toEqual(expect.arrayContaining([expect.objectContaining({id: keyId, key: publicKey})]));
    expect((await cli('POST', apiurl(`/instances/${first}/ssh/`), {ssh_key: publicKey})).json).toEqual({success: true, msg: 'SSH key attached successfully'});
    const attached = JSON.parse((await cli('GET', apiurl(`/instances/${first}/ssh/`))).json.ssh_keys as string) as Array<{id: number}>;
    // `detach ssh ID SSH_KEY_ID` is given the account key's id (as `show ssh-keys` lists it).
    expect(attached.at(-1)!.id).toBe(keyId);
    expect((await cli('PUT', apiurl(`/ssh/${keyId}/`), {ssh_key: publicKey})).json).toEqual({success: true});
    expect((await cli('DELETE', apiurl(`/instances/${first}/ssh/${keyId}/`), {})).json).toEqual({success: true});
    expect((await cli('DELETE', apiurl(`/ssh/${keyId}/`), {})).json).toEqual({success: true});
  });

  it('search/create/show/delete volumes', async () => {
    const offers = (await cli('POST', apiurl('/volumes/search/'), {verified: {eq: true}, external: {eq: false}, disk_space: {gte: 1}, order: [['score', 'desc']], allocated_storage: 1.0})).json.offers as Json[];
    expect(offers.length).toBeGreaterThan(0);
    const created = await cli('PUT', apiurl('/volumes/'), {size: 15, id: offers[0]!.id, name: 'cli-volume'});
    expect(created.json).toMatchObject({success: true, volume_name: 'cli-volume'});
    const listed = (await cli('GET', apiurl('/volumes', {owner: 'me', type: 'all_volume'}))).json.volumes as Json[];
    const volume = listed.find(entry => entry.name === 'cli-volume')!;
    expect(volume).toMatchObject({disk_space: 15, status: 'unused', label: 'cli-volume'}); // `show volumes` prints label as Name
    expect((await cli('DELETE', apiurl('/volumes/', {id: volume.id}))).json).toEqual({success: true});
  });

  it('show user: GET /users/current?owner=me has credit and balance as numbers (the CLI pops api_key before printing)', async () => {
    const user = (await cli('GET', apiurl('/users/current', {owner: 'me'}))).json;
    expect(user.credit).toBeTypeOf('number');
    expect(user.balance).toBeTypeOf('number');
    expect(user.credit).toBeLessThan(25); // two instances have been billing
    expect(user.api_key).toBe(cloud.apiKey);
  });

  it("an instance's own key (CONTAINER_API_KEY) shows, stops and destroys only that instance: anything else is 403", async () => {
    expect((await cli('GET', apiurl(`/instances/${first}/`, {owner: 'me'}, firstKey), undefined, firstKey)).json.instances).toMatchObject({id: first});
    expect((await cli('GET', apiurl(`/instances/${second}/`, {owner: 'me'}, firstKey), undefined, firstKey)).status).toBe(403);
    expect((await cli('GET', apiurl('/instances', {owner: 'me'}, firstKey), undefined, firstKey)).status).toBe(403);
    expect((await cli('DELETE', apiurl(`/instances/${second}/`, {}, firstKey), {}, firstKey)).json).toMatchObject({success: false, error: 'not_authorized'});
    const container = cloud.instances.hostOf(first)!.env.CONTAINER_API_KEY;
    expect(container).toBe(firstKey);
    expect((await cli('PUT', apiurl(`/instances/${first}/`, {}, container), {state: 'stopped'}, container)).json).toEqual({success: true});
  });

  it('destroy instances A B: one DELETE per id back to back, none refused by the rate limit, then 404 and gone', async () => {
    const answers = [];
    for (const id of [first, second]) {
      const response = await fetch(apiurl(`/instances/${id}/`), {method: 'DELETE', headers: {Authorization: `Bearer ${cloud.apiKey}`, 'Content-Type': 'application/json'}, body: '{}'});
      answers.push([response.status, await response.json()]);
    }
    expect(answers).toEqual([[200, {success: true}], [200, {success: true}]]);
    expect((await cli('DELETE', apiurl(`/instances/${first}/`), {})).status).toBe(404);
    expect((await showInstances()).map(row => row.id)).not.toContain(first);
    expect((await cli('GET', apiurl(`/instances/${second}/`, {owner: 'me'}))).json).toEqual({instances: null});
    // What the destroyed instances cost stays readable for tests.
    const billing = (await cli('GET', `${cloud.baseUrl}/sim/billing`)).json.instances as Record<string, {storage: number}>;
    expect(billing[String(first)]!.storage).toBeGreaterThan(0);
  });

  it('the newer vastai package destroys in bulk: DELETE /instances/ with {"instance_ids"}', async () => {
    const offer = ((await cli('POST', apiurl('/bundles/'), {order: [['dph_total', 'asc']], limit: 1})).json.offers as Json[])[0]!;
    const created = (await cli('PUT', apiurl(`/asks/${String(offer.id)}/`), createBody({}))).json.new_contract as number;
    expect((await cli('DELETE', apiurl('/instances/'), {instance_ids: [created]})).json).toEqual({success: true});
    expect(cloud.instances.get(created)).toBeUndefined();
  });
});
