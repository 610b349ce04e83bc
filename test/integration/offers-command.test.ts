// `vastdeck offers` against the simulated cloud over real loopback sockets: the same query
// building, client, parsing and ranking as a live run, only the base URL and key differ.
import {Writable} from 'node:stream';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {runOffersCommand} from '../../source/commands/offers.js';
import {DEFAULT_SETTINGS, type VastdeckSettings} from '../../source/core/settings.js';
import {VastClient} from '../../source/core/vast/client.js';
import {FILTER_FIELDS} from '../../source/core/vast/query.js';
import {startSimCloud, type SimCloud} from '../../source/sim/cloud.js';

let cloud: SimCloud;
let client: VastClient;

beforeAll(async () => {
  cloud = await startSimCloud({port: 0, seed: 7, rateLimitScale: 0, churnIntervalMs: 0});
  client = new VastClient({baseUrl: cloud.baseUrl, apiKey: cloud.apiKey, pacingScale: 0});
});

afterAll(async () => {
  await cloud.close();
});

function collector() {
  let text = '';
  const stream = new Writable({
    write(chunk, _encoding, done) {
      text += String(chunk);
      done();
    },
  });
  return {stream, text: () => text};
}

async function offers(argv: string[], settings: VastdeckSettings = DEFAULT_SETTINGS) {
  const stdout = collector();
  const stderr = collector();
  const code = await runOffersCommand(argv, {search: query => client.searchOffers(query), settings, stdout: stdout.stream, stderr: stderr.stream});
  return {code, stdout: stdout.text(), stderr: stderr.text()};
}

describe('vastdeck offers against the simulated cloud', () => {
  it('prints JSON ranked by the whole-job cost, with the 10-minute rule beside it', async () => {
    const {code, stdout, stderr} = await offers(['--json', '--limit', '30']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const rows = JSON.parse(stdout) as {rank: number; jobCostUsd: number; pullStorageUsd: number; gpuUsd: number; downloadUsd: number; perGenerationUsd: number; windowCostUsd: number; windowComputeUsd: number; windowDownloadUsd: number; excludedBecause: null}[];
    expect(rows).toHaveLength(30);
    expect(rows.map(row => row.rank)).toEqual(rows.map((_, index) => index + 1));
    for (const [index, row] of rows.entries()) {
      expect(row.jobCostUsd).toBeCloseTo(row.pullStorageUsd + row.gpuUsd + row.downloadUsd, 10);
      expect(row.perGenerationUsd).toBeCloseTo(row.jobCostUsd / DEFAULT_SETTINGS.job.generations, 10);
      expect(row.windowCostUsd).toBeCloseTo(row.windowComputeUsd + row.windowDownloadUsd, 10);
      expect(row.excludedBecause).toBeNull();
      if (index > 0) expect(row.jobCostUsd).toBeGreaterThanOrEqual(rows[index - 1]!.jobCostUsd);
    }
  });

  it('explains an offer from the list', async () => {
    const [first] = JSON.parse((await offers(['--json', '--limit', '1'])).stdout) as {id: number; jobCostUsd: number}[];
    const {code, stdout} = await offers(['--explain', String(first!.id), '--json']);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({id: first!.id, jobCostUsd: first!.jobCostUsd, excludedBecause: null});
  });

  it('honours the typed filter over the config defaults', async () => {
    const {code, stdout} = await offers(['gpu=RTX_4090,RTX_3090', 'inet_down>=500', 'region!=CN', '--json', '--limit', '100']);
    expect(code).toBe(0);
    const rows = JSON.parse(stdout) as {gpuName: string; numGpus: number; inetDownMbps: number; reliability: number; geolocation: string}[];
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) {
      expect(['RTX 4090', 'RTX 3090']).toContain(row.gpuName);
      expect(row.inetDownMbps).toBeGreaterThanOrEqual(500);
      expect(row.numGpus).toBe(1); // gpus=1 from the config defaults stays
      expect(row.reliability).toBeGreaterThanOrEqual(0.95);
      expect(row.geolocation).not.toMatch(/CN\s*$/);
    }
  });

  it('sorts by another key on request', async () => {
    const {code, stdout} = await offers(['--sort', 'inet', '--json']);
    expect(code).toBe(0);
    const speeds = (JSON.parse(stdout) as {inetDownMbps: number}[]).map(row => row.inetDownMbps);
    expect(speeds).toEqual([...speeds].sort((a, b) => b - a));
  });

  it('prints a table and a summary line', async () => {
    const {code, stdout} = await offers(['gpus=1', '--limit', '5']);
    expect(code).toBe(0);
    const lines = stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(7);
    expect(lines.slice(0, 6).every(line => line.length <= 120)).toBe(true);
    expect(lines[6]).toMatch(/^\d+ offers seen in \d searche?s?, showing 5: the best on the whole market, sorted by job cost; filter: gpus=1 /);
  });

  it('sends only fields the API knows, whatever the filter uses', async () => {
    const everyField = 'gpu=any gpus>=1 dph>=0 inet_down>=0 inet_up>=0 down_cost>=0 reliability>=0 disk>=0 cuda>=0 gpu_ram>=0 compute_cap>=0 region!=ZZ verified=true datacenter=true dlperf>=0 cpu_ram>=0 direct_ports>=0';
    expect(everyField.split(' ').length).toBe(FILTER_FIELDS.length);
    const {code, stderr} = await offers([everyField, '--json']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });

  it('exits 2 with one line for a bad filter', async () => {
    const {code, stdout, stderr} = await offers(['inet_dwn>=500']);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(stderr).toMatch(/^Unknown filter field 'inet_dwn': did you mean inet_down\?/);
  });

  it('exits 1 with one line when the API keeps failing', async () => {
    const impatient = new VastClient({baseUrl: cloud.baseUrl, apiKey: cloud.apiKey, pacingScale: 0, maxAttempts: 1});
    cloud.faults.queue('503', 1, '/api/v0/bundles');
    const stdout = collector();
    const stderr = collector();
    const code = await runOffersCommand([], {search: query => impatient.searchOffers(query), settings: DEFAULT_SETTINGS, stdout: stdout.stream, stderr: stderr.stream});
    expect(code).toBe(1);
    expect(stdout.text()).toBe('');
    expect(stderr.text().trimEnd().split('\n')).toHaveLength(1);
    expect(cloud.faults.pending).toBe(0);
  });
});
