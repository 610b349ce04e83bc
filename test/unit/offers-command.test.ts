import {readFileSync} from 'node:fs';
import {dirname, resolve} from 'node:path';
import {Writable} from 'node:stream';
import {fileURLToPath} from 'node:url';
import {describe, expect, it} from 'vitest';
import {runOffersCommand} from '../../source/commands/offers.js';
import {VastUnreachableError} from '../../source/core/errors.js';
import {DEFAULT_SETTINGS} from '../../source/core/settings.js';
import type {Offer} from '../../source/core/vast/types.js';
import {makeOffer} from '../helpers/offer-fixture.js';

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

// Window cost with default inputs = dphTotal/6 + 7 × inetDownCostPerGb.
const offers: Offer[] = [
  // 0.42/6 + 7 × 0.02 = 0.07 + 0.14 = 0.21
  makeOffer({id: 1, dphTotal: 0.42, inetDownMbps: 100, inetDownCostPerGb: 0.02, geolocation: 'Quebec, CA'}),
  // 0.48/6 + 7 × 0.001 = 0.08 + 0.007 = 0.087
  makeOffer({id: 2, gpuName: 'RTX 5090', numGpus: 2, dphTotal: 0.48, inetDownMbps: 1000, inetDownCostPerGb: 0.001, geolocation: 'Some Very Long Region Name, DE'}),
  // 0.3/6 + 0 = 0.05; no bandwidth → ETA and first result are Infinity
  makeOffer({id: 3, gpuName: 'RTX PRO 6000 WS', numGpus: 8, dphTotal: 0.3, inetDownMbps: 0, inetDownCostPerGb: 0, geolocation: ', US'}),
];

async function run(argv: string[], search: (query: Record<string, unknown>) => Promise<Offer[]> = async () => offers) {
  const stdout = collector();
  const stderr = collector();
  const queries: Record<string, unknown>[] = [];
  const code = await runOffersCommand(argv, {
    search: query => {
      queries.push(query);
      return search(query);
    },
    settings: DEFAULT_SETTINGS,
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
    expect(lines[0]).toMatch(/^#\s+GPU\s+\$\/h\s+\$\/GB down\s+down\s+reliab\.\s+location\s+ETA ready\s+10-min cost\s+first result$/);
    expect(lines[1]).toMatch(/^1\s+RTX PRO 6000 WS ×8\s+\$0\.30\s+\$0\.00\s+0 Mbps\s+99\.0%\s+US\s+∞\s+\$0\.05\s+∞$/);
    // ETA for id 2: 19 GB × 8000 / 1000 + 60 = 212 s = 3m32s
    expect(lines[2]).toContain('RTX 5090 ×2');
    expect(lines[2]).toContain('3m32s');
    expect(lines[2]).toContain('Some Very Long …');
    expect(lines[4]).toBe(
      '3 offers matched, showing 3, sorted by 10-min job cost; filter: gpus=1 inet_down>=100 reliability>=0.95 disk>=50 cuda>=12.1 verified=true; ' +
        'cost inputs: 7 GB models, 12 GB image, 10-min window, 60s boot, 30s per result.',
    );
  });

  it('prints one JSON document with the cost breakdown', async () => {
    const {code, stdout} = await run(['--json', '--limit', '2']);
    expect(code).toBe(0);
    const rows = JSON.parse(stdout) as Record<string, unknown>[];
    expect(rows.map(row => row.id)).toEqual([3, 2]);
    expect(rows[1]).toEqual({
      rank: 2,
      id: 2,
      machineId: 20,
      gpuName: 'RTX 5090',
      numGpus: 2,
      dphTotal: 0.48,
      inetDownMbps: 1000,
      inetDownCostPerGb: 0.001,
      reliability: 0.99,
      geolocation: 'Some Very Long Region Name, DE',
      etaReadySec: 212,
      windowCostUsd: expect.closeTo(0.087, 10),
      windowComputeUsd: expect.closeTo(0.08, 10),
      windowDownloadUsd: expect.closeTo(0.007, 10),
      // storage (0.48 − dphBase 0.4 = 0.08 $/h) × 96 s/3600 = 0.0021333
      // + 0.48 × (56 + 60 + 30)/3600 = 0.0194667 + 19 GB × 0.001 = 0.019 → 0.0406
      firstResultUsd: expect.closeTo(0.0406, 6),
    });
    expect(rows[0]!.etaReadySec).toBeNull();
  });

  it('lays the typed filter over the config defaults field by field and sorts by --sort', async () => {
    const {code, stdout, queries} = await run(['gpu=RTX_4090,RTX_5090', 'inet_down>=500', 'reliability=any', '--sort', 'inet']);
    expect(code).toBe(0);
    const query = queries[0]!;
    expect(query).toMatchObject({gpu_name: {in: ['RTX 4090', 'RTX 5090']}, inet_down: {gte: 500}, num_gpus: {eq: 1}, limit: DEFAULT_SETTINGS.searchLimit, allocated_storage: DEFAULT_SETTINGS.instance.diskGb});
    expect(query).not.toHaveProperty('reliability');
    expect(stdout).toContain('sorted by download speed; filter: gpus=1 inet_down>=500 disk>=50 cuda>=12.1 verified=true gpu=RTX_4090,RTX_5090;');
  });

  it('says so when nothing matched', async () => {
    const {code, stdout} = await run([], async () => []);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^0 offers matched, showing 0,/);
  });

  it('exits 2 with one line for bad flags, sort keys and filters, without searching', async () => {
    for (const argv of [['--frobnicate'], ['--sort', 'price'], ['inet_dwn>=5'], ['--limit', '0'], ['gpu=RTX_4009']]) {
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
