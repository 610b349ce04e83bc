import {readFileSync} from 'node:fs';
import {dirname, resolve} from 'node:path';
import {Writable} from 'node:stream';
import {fileURLToPath} from 'node:url';
import {describe, expect, it} from 'vitest';
import {runOffersCommand} from '../../source/commands/offers.js';
import {VastUnreachableError} from '../../source/core/errors.js';
import {DEFAULT_SETTINGS} from '../../source/core/settings.js';
import type {Offer} from '../../source/core/vast/types.js';
import {INPUTS, makeOffer} from '../helpers/offer-fixture.js';

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

// INPUTS: 50 × 4 s on a 4090, 19 GB to download, 60 s boot, 120 s idle tail.
const offers: Offer[] = [
  // job 0.495, last result 1780 s = 29m40s (hand-computed in cost.test.ts)
  makeOffer({id: 1, dphTotal: 0.42, inetDownMbps: 100, inetDownCostPerGb: 0.02, geolocation: 'Quebec, CA'}),
  // 5090 at 1.3: 4/1.3 = 3.0769 s × 50 = 153.846 s; pull 96 s, models 56 s; GPU 56 + 60 + 153.846 + 120 = 389.846 s
  // storage (0.48 − 0.40) × 96/3600 = 0.0021333 + GPU 0.48 × 389.846/3600 = 0.0519795 + 19 × 0.001 = 0.019 → 0.0731128
  makeOffer({id: 2, gpuName: 'RTX 5090', numGpus: 2, dphTotal: 0.48, inetDownMbps: 1000, inetDownCostPerGb: 0.001, geolocation: 'Some Very Long Region Name, DE'}),
  // no bandwidth: never done; 10-min 0.3/6 = 0.05
  makeOffer({id: 3, gpuName: 'RTX PRO 6000 WS', numGpus: 8, dphTotal: 0.3, inetDownMbps: 0, inetDownCostPerGb: 0, geolocation: ', US'}),
  // 8 GB of VRAM: img2img-sdxl needs 10, so it is never ranked
  makeOffer({id: 4, gpuName: 'RTX 3060', gpuRamMb: 8192, dphBase: 0.09, dphTotal: 0.1}),
];

/** Answers like the API would: by id, by the VRAM bounds, else everything. */
async function fakeMarket(query: Record<string, unknown>): Promise<Offer[]> {
  const id = (query.id as {eq?: number} | undefined)?.eq;
  const vram = (query.gpu_ram ?? {}) as {gte?: number; lt?: number};
  return offers.filter(offer => (id === undefined || offer.id === id) && (vram.lt === undefined || offer.gpuRamMb < vram.lt));
}

async function run(argv: string[], search: (query: Record<string, unknown>) => Promise<Offer[]> = fakeMarket) {
  const stdout = collector();
  const stderr = collector();
  const queries: Record<string, unknown>[] = [];
  const code = await runOffersCommand(argv, {
    search: query => {
      queries.push(query);
      return search(query);
    },
    settings: DEFAULT_SETTINGS,
    costInputs: async () => INPUTS,
    stdout: stdout.stream,
    stderr: stderr.stream,
  });
  return {code, stdout: stdout.text(), stderr: stderr.text(), queries};
}

describe('vastdeck offers', () => {
  it('prints an aligned table within 120 columns plus one summary line', async () => {
    const {code, stdout, stderr} = await run([]);
    expect(code).toBe(0);
    expect(stderr).toBe('');
    const lines = stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(5);
    expect(lines.slice(0, 4).every(line => line.length <= 120)).toBe(true);
    expect(lines[0]).toMatch(/^#\s+GPU\s+\$\/h\s+\$\/GB\s+down\s+reliab\.\s+location\s+job \$\s+\$\/gen\s+last result\s+ready\s+10-min$/);
    // 0.0731128 / 50 = 0.00146; last result 96 + 56 + 60 + 153.846 = 365.8 s = 6m06s; ready 212 s = 3m32s
    expect(lines[1]).toMatch(/^1\s+RTX 5090 ×2\s+\$0\.48\s+\$0\.001\s+1000 Mbps\s+99\.0%\s+Some Very L…\s+\$0\.0731\s+\$0\.00146\s+6m06s\s+3m32s\s+\$0\.099$/);
    expect(lines[2]).toMatch(/^2\s+RTX 4090 ×1\s+.*\$0\.495\s+\$0\.0099\s+29m40s\s+26m20s\s+\$0\.45$/);
    expect(lines[3]).toMatch(/^3\s+RTX PRO 6000 WS…\s+\$0\.30\s+\$0\.00\s+0 Mbps\s+99\.0%\s+US\s+∞\s+∞\s+∞\s+∞\s+\$0\.05$/);
    expect(lines[4]).toBe(
      '3 offers seen in 1 search, showing 3: the best on the whole market, sorted by job cost; filter: gpus=1 inet_down>=100 reliability>=0.95 disk>=50 cuda>=12.1 verified=true; ' +
        'job: 50 × img2img-sdxl (7 GB models, ≥ 10 GB VRAM, 4 s per generation on an RTX 4090), 12 GB image, 60s boot, 120s idle until destroyed (config job.* and cost.*, searchLimit 400).',
    );
  });

  it('prints one JSON document with the cost breakdown', async () => {
    const {code, stdout} = await run(['--json', '--limit', '2']);
    expect(code).toBe(0);
    const rows = JSON.parse(stdout) as Record<string, unknown>[];
    expect(rows.map(row => row.id)).toEqual([2, 1]);
    expect(rows[0]).toEqual({
      rank: 1,
      id: 2,
      machineId: 20,
      gpuName: 'RTX 5090',
      numGpus: 2,
      gpuRamMb: 24_564,
      dphTotal: 0.48,
      inetDownMbps: 1000,
      inetDownCostPerGb: 0.001,
      reliability: 0.99,
      geolocation: 'Some Very Long Region Name, DE',
      excludedBecause: null,
      jobCostUsd: expect.closeTo(0.0731128, 6),
      lastResultSec: expect.closeTo(365.846, 3),
      perGenerationUsd: expect.closeTo(0.00146226, 7),
      secondsPerGeneration: expect.closeTo(3.0769231, 6),
      gpuSpeed: 1.3,
      gpuSpeedSource: 'table',
      pullStorageUsd: expect.closeTo(0.0021333, 6),
      gpuUsd: expect.closeTo(0.0519795, 6),
      gpuSec: expect.closeTo(389.846, 3),
      downloadUsd: expect.closeTo(0.019, 10),
      etaReadySec: 212,
      windowCostUsd: expect.closeTo(0.099, 10),
      windowComputeUsd: expect.closeTo(0.08, 10),
      windowDownloadUsd: expect.closeTo(0.019, 10),
    });
  });

  it('turns the Infinity of an offer without bandwidth into null in JSON', async () => {
    const rows = JSON.parse((await run(['--json'])).stdout) as Record<string, unknown>[];
    expect(rows[2]).toMatchObject({id: 3, jobCostUsd: null, lastResultSec: null, etaReadySec: null, windowCostUsd: 0.05});
  });

  it('explains one offer: the cost split, and why the job cannot use it', async () => {
    const fast = await run(['--explain', '2']);
    expect(fast.code).toBe(0);
    expect(fast.stdout.split('\n')).toEqual([
      'Offer 2 on machine 20: RTX 5090 ×2, 24 GB VRAM, $0.48/h ($0.40 GPU + $0.08 our disk), 1000 Mbps down at $0.001/GB, reliability 99.0%, Some Very Long Region Name, DE.',
      'Job: 50 × img2img-sdxl; one generation takes 4 s on an RTX 4090, this GPU runs at 1.30× (speed table), so 3.08 s.',
      '  image pull      12 GB at 1000 Mbps = 1m36s, loading bills storage only ($0.08/h): $0.00213',
      '  GPU time        models 56s + boot 1m00s + 50 × 3.08 s + idle 2m00s = 6m30s at $0.48/h: $0.052',
      '  downloads       19 GB (image + models) × $0.001/GB: $0.019',
      '  job cost        $0.0731 · last result after 6m06s · $0.00146 per generation',
      '  10-minute rule  $0.08 compute + $0.019 downloads = $0.099; ready after 3m32s',
      '',
    ]);
    const small = await run(['--explain', '4', '--json']);
    expect(JSON.parse(small.stdout)).toMatchObject({id: 4, excludedBecause: '8.2 GB of VRAM per GPU, and img2img-sdxl needs 10 GB'});
    expect((await run(['--explain', '4'])).stdout).toContain('\nExcluded: 8.2 GB of VRAM per GPU, and img2img-sdxl needs 10 GB.\n');
  });

  it('says why an offer cannot be explained, with exit 1', async () => {
    const gone = await run(['--explain', '9']);
    expect(gone).toMatchObject({code: 1, stdout: '', stderr: 'Offer 9 is not on the market (rented by someone else, or no such offer): pick one from `vastdeck offers`.\n'});
    // On the market, but the filter leaves it out: the first search (with the filter) finds nothing.
    const filtered = await run(['--explain', '2'], async query => (query.num_gpus ? [] : fakeMarket(query)));
    expect(filtered.code).toBe(1);
    expect(filtered.stderr).toMatch(/^Offer 2 is on the market but does not match the filter gpus=1 .*: loosen it/);
  });

  it('lists the excluded offers with their reason', async () => {
    const {code, stdout, queries} = await run(['--excluded']);
    expect(code).toBe(0);
    expect(queries[0]).toMatchObject({gpu_ram: {lt: 10_000}, order: [['dph_total', 'asc']], limit: 20});
    const lines = stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^#\s+id\s+GPU\s+\$\/h\s+location\s+excluded because$/);
    expect(lines[1]).toMatch(/^1\s+4\s+RTX 3060 ×1\s+\$0\.10\s+California, US\s+8\.2 GB of VRAM per GPU, and img2img-sdxl needs 10 GB$/);
    expect(lines[2]).toMatch(/^1 offer the filter matches but 50 × img2img-sdxl cannot use, by dph_total; filter: gpus=1 /);
    const json = JSON.parse((await run(['--excluded', '--json'])).stdout) as Record<string, unknown>[];
    expect(json).toHaveLength(1);
    expect(json[0]).toMatchObject({rank: 1, id: 4, excludedBecause: '8.2 GB of VRAM per GPU, and img2img-sdxl needs 10 GB'});
  });

  it('lays the typed filter over the config defaults field by field and sorts by --sort', async () => {
    const {code, stdout, queries} = await run(['gpu=RTX_4090,RTX_5090', 'inet_down>=500', 'reliability=any', '--sort', 'inet']);
    expect(code).toBe(0);
    const query = queries[0]!;
    expect(query).toMatchObject({gpu_name: {in: ['RTX 4090', 'RTX 5090']}, inet_down: {gte: 500}, num_gpus: {eq: 1}, gpu_ram: {gte: 10_000}, order: [['inet_down', 'desc'], ['dph_total', 'asc']], limit: DEFAULT_SETTINGS.searchLimit, allocated_storage: DEFAULT_SETTINGS.instance.diskGb});
    expect(query).not.toHaveProperty('reliability');
    expect(stdout).toContain('sorted by download speed; filter: gpus=1 inet_down>=500 disk>=50 cuda>=12.1 verified=true gpu=RTX_4090,RTX_5090;');
  });

  it('says so when nothing matched', async () => {
    const {code, stdout} = await run([], async () => []);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^0 offers seen in 1 search, showing 0: the best on the whole market,/);
  });

  it('exits 2 with one line for bad flags, sort keys and filters, without searching', async () => {
    for (const argv of [['--frobnicate'], ['--sort', 'price'], ['inet_dwn>=5'], ['--limit', '0'], ['gpu=RTX_4009'], ['--explain', 'abc'], ['--explain', '0']]) {
      const result = await run(argv);
      expect(result.code).toBe(2);
      expect(result.stdout).toBe('');
      expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(result.queries).toHaveLength(0);
    }
    expect((await run(['gpu=RTX_4009'])).stderr).toBe("Unknown GPU 'RTX_4009' — did you mean RTX_4090?\n");
  });

  it('exits 1 with the error sentence when the search fails', async () => {
    const failure = new VastUnreachableError('http://127.0.0.1:9', 'connection refused');
    const result = await run([], async () => {
      throw failure;
    });
    expect(result).toMatchObject({code: 1, stdout: '', stderr: `${failure.message}\n`});
  });

  it('pulls no React or Ink into its import graph', () => {
    const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../source/commands/offers.ts');
    const seen = new Set<string>();
    const packages = new Set<string>();
    const visit = (file: string): void => {
      if (seen.has(file)) return;
      seen.add(file);
      for (const [, specifier] of readFileSync(file, 'utf8').matchAll(/(?:^|\n)\s*(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]/g)) {
        if (specifier!.startsWith('.')) visit(resolve(dirname(file), specifier!.replace(/\.js$/, '.ts')));
        else packages.add(specifier!);
      }
    };
    visit(root);
    expect(seen.size).toBeGreaterThan(5);
    expect([...packages].filter(name => /^(react|ink)(\/|-|$)/.test(name))).toEqual([]);
  });
});
