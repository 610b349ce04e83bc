// Faults for everyone: the SPEC grammar (counts and rates by name, one clear sentence for a bad
// one), the authenticated control endpoint, `vastdeck sim fault …` against a running simulator,
// `vastdeck sim --faults` refusing a bad spec, and armed faults striking real clients.
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {startSimCloud, type SimCloud} from '../../source/sim/cloud.js';
import {FaultPlan, FaultSpecError, parseFaultSpec} from '../../source/sim/fault-plan.js';
import {runCli} from '../helpers/run-cli.js';

let cloud: SimCloud;

beforeAll(async () => {
  cloud = await startSimCloud({port: 0, seed: 4, rateLimitScale: 0, churnIntervalMs: 0, offers: 300});
});

afterAll(async () => {
  await cloud.close();
});

async function call(path: string, options: {method?: string; body?: unknown; key?: string} = {}): Promise<{status: number; json: Record<string, unknown>}> {
  const response = await fetch(`${cloud.baseUrl}${path}`, {
    method: options.method ?? 'GET',
    headers: {Authorization: `Bearer ${options.key ?? cloud.apiKey}`, 'Content-Type': 'application/json'},
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await response.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = {text};
  }
  return {status: response.status, json};
}

describe('fault specs', () => {
  it('reads counts and rates by name', () => {
    expect(parseFaultSpec('api429=0.3, instance-death=1,ws-drop=25%,node-failure=2')).toEqual([
      {name: 'api429', rate: 0.3},
      {name: 'instance-death', count: 1},
      {name: 'ws-drop', rate: 0.25},
      {name: 'node-failure', count: 2},
    ]);
  });

  it.each([
    ['', /^The fault spec is empty: give name=value pairs/],
    ['api429', /^The fault "api429" is not name=value: write it like api429=0\.3/],
    ['api-429=1', /^There is no fault "api-429" \(did you mean api429\?\): the faults are api429, /],
    ['api429=2.5', /^The value of api429 must be a count \(a whole number from 1\) or a rate \(0\.3 or 30%\), not "2\.5"\.$/],
    ['api429=0', /^The value of api429 must be a count/],
  ])('refuses %j with one sentence naming the problem and the fix', (spec, message) => {
    expect(() => parseFaultSpec(spec)).toThrow(FaultSpecError);
    expect(() => parseFaultSpec(spec)).toThrow(message);
  });

  it('runs counts down and rolls rates on a seeded die, the same for the same seed', () => {
    const plan = new FaultPlan(9);
    plan.add(parseFaultSpec('exited=2,api500=0.5'));
    expect([plan.take('exited'), plan.take('exited'), plan.take('exited')]).toEqual([true, true, false]);
    const rolls = Array.from({length: 200}, () => plan.take('api500'));
    const again = new FaultPlan(9);
    again.add(parseFaultSpec('api500=0.5'));
    expect(Array.from({length: 200}, () => again.take('api500'))).toEqual(rolls);
    const hits = rolls.filter(Boolean).length;
    expect(hits).toBeGreaterThan(70);
    expect(hits).toBeLessThan(130);
  });
});

describe('the control endpoint', () => {
  it('arms API faults that strike the next calls, lists and clears them', async () => {
    expect((await call('/sim/faults', {method: 'POST', body: {spec: 'api503=2'}})).json).toMatchObject({spec: 'api503=2'});
    expect((await call('/api/v0/users/current/')).status).toBe(503);
    expect((await call('/api/v0/users/current/')).status).toBe(503);
    expect((await call('/api/v0/users/current/')).status).toBe(200);
    await call('/sim/faults', {method: 'POST', body: {spec: 'api429=1,offer-taken=3'}});
    expect((await call('/sim/faults')).json.spec).toBe('api429=1,offer-taken=3');
    expect((await call('/sim/faults', {method: 'DELETE'})).json).toMatchObject({faults: [], spec: ''});
    expect((await call('/api/v0/users/current/')).status).toBe(200);
  });

  it('refuses a bad spec with 400 and the sentence, a wrong key with 401 and an instance key with 403', async () => {
    const bad = await call('/sim/faults', {method: 'POST', body: {spec: 'meltdown=1'}});
    expect(bad.status).toBe(400);
    expect(bad.json.msg).toMatch(/^There is no fault "meltdown"/);
    expect((await call('/sim/faults', {key: 'f'.repeat(64)})).status).toBe(401);
    const offer = ((await call('/api/v0/bundles/', {method: 'POST', body: {limit: 1}})).json.offers as Array<{id: number}>)[0]!;
    const created = await call(`/api/v0/asks/${offer.id}/`, {method: 'PUT', body: {image: 'vastai/base-image:@vastai-automatic-tag', disk: 10}});
    const scoped = created.json.instance_api_key as string;
    expect((await call('/sim/faults', {key: scoped})).status).toBe(403);
    expect((await call(`/api/v0/instances/${String(created.json.new_contract)}/`, {method: 'DELETE'})).status).toBe(200);
  });

  it('makes the next create find its offer taken', async () => {
    await call('/sim/faults', {method: 'POST', body: {spec: 'offer-taken=1'}});
    const offer = ((await call('/api/v0/bundles/', {method: 'POST', body: {limit: 1}})).json.offers as Array<{id: number}>)[0]!;
    const answer = await call(`/api/v0/asks/${offer.id}/`, {method: 'PUT', body: {image: 'vastai/base-image:@vastai-automatic-tag', disk: 10, cancel_unavail: true}});
    expect(answer.status).toBe(410);
    expect(answer.json.error).toBe('no_such_ask');
  });
});

describe('vastdeck sim fault', () => {
  it('arms, lists and clears faults of a running simulator, the key from VAST_API_KEY', async () => {
    const saved = {url: process.env.VAST_URL, key: process.env.VAST_API_KEY};
    process.env.VAST_URL = cloud.baseUrl;
    process.env.VAST_API_KEY = cloud.apiKey;
    try {
      expect(await runCli(['sim', 'fault', 'api429=0.3,instance-death=1'])).toEqual({code: 0, stdout: 'Armed faults: api429=0.3,instance-death=1\n', stderr: ''});
      expect(cloud.faultPlan.toSpec()).toBe('api429=0.3,instance-death=1');
      expect((await runCli(['sim', 'fault', '--list'])).stdout).toContain('api429=0.3');
      expect((await runCli(['sim', 'fault', '--clear'])).code).toBe(0);
      expect(cloud.faultPlan.list()).toEqual([]);
      expect(await runCli(['sim', 'fault', 'api429=7.5'])).toEqual({code: 2, stdout: '', stderr: 'The value of api429 must be a count (a whole number from 1) or a rate (0.3 or 30%), not "7.5".\n'});
    } finally {
      process.env.VAST_URL = saved.url;
      process.env.VAST_API_KEY = saved.key;
      if (saved.url === undefined) delete process.env.VAST_URL;
      if (saved.key === undefined) delete process.env.VAST_API_KEY;
    }
  });

  it('says how to point it at a simulator when VAST_URL is unset', async () => {
    const saved = process.env.VAST_URL;
    delete process.env.VAST_URL;
    try {
      expect(await runCli(['sim', 'fault', '--list'])).toEqual({code: 2, stdout: '', stderr: 'Say where the simulator runs: set VAST_URL to the URL `vastdeck sim` printed, or pass --url.\n'});
    } finally {
      if (saved !== undefined) process.env.VAST_URL = saved;
    }
  });

  it('refuses `vastdeck sim --faults` with a bad spec before starting, exit 2', async () => {
    expect(await runCli(['sim', '--faults', 'instance-death=-1'])).toMatchObject({code: 2, stderr: 'The value of instance-death must be a count (a whole number from 1) or a rate (0.3 or 30%), not "-1".\n'});
    expect(await runCli(['sim', '--quirks', 'ip-newline,sparkles'])).toMatchObject({code: 2, stderr: "--quirks has an unknown quirk 'sparkles': use any of ip-newline, uptime-null, hostport-int.\n"});
  });
});
