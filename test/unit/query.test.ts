import {describe, expect, it} from 'vitest';
import {InputError} from '../../source/core/errors.js';
import {DEFAULT_SETTINGS} from '../../source/core/settings.js';
import {editDistance, normalizeGpuName, suggestGpuNames} from '../../source/core/vast/gpu-names.js';
import {
  FILTER_FIELDS,
  formatClauses,
  parseFilterExpression,
  replaceFieldClauses,
  settingsToClauses,
  settingsToExpression,
  toVastQuery,
} from '../../source/core/vast/query.js';

const OPTIONS = {limit: 50, allocatedStorageGb: 60};

/** The user-clause part of the Vast query (without the defaults toVastQuery always adds). */
function filtersOf(expression: string): Record<string, unknown> {
  const {rentable, rented, type, allocated_storage, order, limit, ...rest} = toVastQuery(parseFilterExpression(expression), OPTIONS);
  return rest;
}

function errorOf(expression: string): string {
  try {
    parseFilterExpression(expression);
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return (error as Error).message;
  }
  throw new Error(`expected '${expression}' to be refused`);
}

describe('GPU names', () => {
  it('normalises case, underscores and spaces to the Vast spelling', () => {
    expect(normalizeGpuName('RTX_4090')).toBe('RTX 4090');
    expect(normalizeGpuName('rtx4090')).toBe('RTX 4090');
    expect(normalizeGpuName('rtx_6000ada')).toBe('RTX 6000Ada');
    expect(normalizeGpuName('h100-sxm')).toBe('H100 SXM');
    expect(normalizeGpuName('Tesla_T4')).toBe('Tesla T4');
    expect(normalizeGpuName('RTX 4009')).toBeUndefined();
  });

  it('suggests names containing a fragment, else the nearest names for a typo', () => {
    expect(suggestGpuNames('RTX_4009')).toEqual(['RTX 4090']);
    expect(suggestGpuNames('a100pcei')).toEqual(['A100 PCIE']);
    expect(suggestGpuNames('RTX_4090')).toEqual(['RTX 4090']);
    expect(suggestGpuNames('H100')).toEqual(['H100 SXM', 'H100 NVL', 'H100 PCIE']);
    expect(suggestGpuNames('4090')).toEqual(['RTX 4090', 'RTX 4090D']);
    expect(suggestGpuNames('6000ada')).toEqual(['RTX 6000Ada']);
    expect(suggestGpuNames('zzzzzzzz')).toEqual([]);
  });

  it('counts a swap of neighbouring characters as one edit', () => {
    expect(editDistance('4009', '4090')).toBe(1);
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
  });
});

describe('parseFilterExpression', () => {
  it('reads the example from the help text', () => {
    const clauses = parseFilterExpression('gpu=RTX_4090,RTX_5090 inet_down>=500 down_cost<=0.01 reliability>=0.98 region!=CN');
    expect(clauses).toEqual([
      {field: 'gpu', op: '=', values: ['RTX 4090', 'RTX 5090']},
      {field: 'inet_down', op: '>=', values: [500]},
      {field: 'down_cost', op: '<=', values: [0.01]},
      {field: 'reliability', op: '>=', values: [0.98]},
      {field: 'region', op: '!=', values: ['CN']},
    ]);
  });

  it('resolves aliases to one field name and == to =', () => {
    const clauses = parseFilterExpression('gpu_name==RTX_3090 num_gpus=2 dph_total<1 price>0.1 inet_down_cost<0.02 disk_space>=80 cuda_vers>=12.4 cuda_max_good<13 country=us geolocation!=cn direct_port_count>=4');
    expect(clauses.map(clause => clause.field)).toEqual(['gpu', 'gpus', 'dph', 'dph', 'down_cost', 'disk', 'cuda', 'cuda', 'region', 'region', 'direct_ports']);
    expect(clauses[0]!.op).toBe('=');
  });

  it('tolerates spaces around operators and commas, and any case in field names', () => {
    expect(parseFilterExpression('  INET_DOWN >= 500   gpu = rtx_4090 , rtx_5090 ')).toEqual([
      {field: 'inet_down', op: '>=', values: [500]},
      {field: 'gpu', op: '=', values: ['RTX 4090', 'RTX 5090']},
    ]);
  });

  it('reads an empty expression as no clauses', () => {
    expect(parseFilterExpression('   ')).toEqual([]);
  });

  it('accepts compute capability as 8.9 or 890, and booleans as true/false/yes/no', () => {
    expect(parseFilterExpression('compute_cap>=8.9 verified=yes datacenter=false')).toEqual([
      {field: 'compute_cap', op: '>=', values: [890]},
      {field: 'verified', op: '=', values: [true]},
      {field: 'datacenter', op: '=', values: [false]},
    ]);
    expect(parseFilterExpression('compute_cap>=800')[0]!.values).toEqual([800]);
  });

  it('keeps `any` as a clause with no values', () => {
    expect(parseFilterExpression('gpu=any reliability=ANY')).toEqual([
      {field: 'gpu', op: '=', values: []},
      {field: 'reliability', op: '=', values: []},
    ]);
  });

  it('names an unknown field, the nearest field, and the list', () => {
    const fields = FILTER_FIELDS.map(field => field.name).join(', ');
    expect(errorOf('inet_dwn>=500')).toBe(`Unknown filter field 'inet_dwn': did you mean inet_down? Fields: ${fields}.`);
    expect(errorOf('colour=red')).toBe(`Unknown filter field 'colour': the fields are ${fields}.`);
  });

  it('explains a malformed value with the unit and an example', () => {
    expect(errorOf('inet_down>=fast')).toBe('inet_down>=fast: inet_down needs a number in Mbit/s, e.g. inet_down>=500.');
    expect(errorOf('dph<=')).toBe('dph<=: dph needs a number in $/h, e.g. dph<=0.6.');
    expect(errorOf('gpus=1.5')).toBe('gpus=1.5: gpus needs a whole number of GPUs, e.g. gpus=1.');
    expect(errorOf('region=USA')).toBe('region=USA: region needs two-letter country codes, e.g. region=US,CA.');
    expect(errorOf('verified=maybe')).toBe('verified=maybe: verified needs true or false, e.g. verified=true.');
    expect(errorOf('verified=true,false')).toBe('verified=true,false: verified needs true or false, e.g. verified=true.');
  });

  it('suggests the right spelling for an unknown GPU', () => {
    expect(errorOf('gpu=RTX_4009')).toBe("Unknown GPU 'RTX_4009' — did you mean RTX_4090?");
    expect(errorOf('gpu=h100')).toBe("Unknown GPU 'h100' — did you mean H100_SXM, H100_NVL or H100_PCIE?");
    expect(errorOf('gpu=RTX_4090,Voodoo5')).toBe("Unknown GPU 'Voodoo5' — use the Vast spelling with _ for spaces, e.g. RTX_4090, RTX_6000Ada or H100_SXM.");
  });

  it('refuses a bad operator, a clause without one, and operators a field cannot take', () => {
    expect(errorOf('inet_down=>500')).toBe("Bad operator '=>' in inet_down=>500: use one of = != > >= < <=, e.g. inet_down>=500.");
    expect(errorOf('fast')).toBe("'fast' is not a filter clause: write field, operator and value, e.g. inet_down>=500.");
    expect(errorOf('>=500')).toBe("'>=500' is not a filter clause: write field, operator and value, e.g. inet_down>=500.");
    expect(errorOf('gpu>RTX_4090')).toBe('gpu>RTX_4090: gpu takes only = or !=, e.g. gpu=RTX_4090,RTX_5090.');
    expect(errorOf('inet_down>=100,200')).toBe('inet_down>=100,200: only = and != take a comma list, so give inet_down>= one value, e.g. inet_down>=500.');
    expect(errorOf('gpu!=any')).toBe("gpu!=any: 'any' clears gpu and goes only with =, e.g. gpu=any.");
  });

  it('refuses ranges that can never be true', () => {
    expect(errorOf('reliability>1')).toBe('reliability>1 can never be true: reliability runs from 0 to 1, e.g. reliability>=0.98.');
    expect(errorOf('reliability>=98')).toBe('reliability>=98 can never be true: reliability runs from 0 to 1, e.g. reliability>=0.98.');
    expect(errorOf('dph<0')).toBe('dph<0 can never be true: dph is never below 0, e.g. dph<=0.6.');
    expect(errorOf('gpus=0')).toBe('gpus=0 can never be true: gpus is never below 1, e.g. gpus=1.');
    expect(errorOf('dph>=0.5 dph<=0.2')).toBe('dph>=0.5 and dph<=0.2 can never both be true: widen one of them.');
    expect(errorOf('dph>0.5 dph<=0.5')).toBe('dph>0.5 and dph<=0.5 can never both be true: widen one of them.');
    // Touching bounds that include the value are fine.
    expect(parseFilterExpression('reliability>=1 dph>=0.5 dph<=0.5')).toHaveLength(3);
  });

  it('refuses one operator twice on a field, and `any` beside a value', () => {
    expect(errorOf('gpu=RTX_4090 gpu=RTX_5090')).toBe('gpu is given twice with = (gpu=RTX_4090 and gpu=RTX_5090): keep one, e.g. gpu=RTX_4090,RTX_5090.');
    expect(errorOf('gpu=any gpu=RTX_5090')).toBe('gpu=any clears gpu, so it cannot go with gpu=RTX_5090: keep one of them.');
    expect(errorOf('gpu=RTX_5090 gpu=any')).toBe('gpu=any clears gpu, so it cannot go with gpu=RTX_5090: keep one of them.');
  });
});

describe('formatClauses and config defaults', () => {
  it('writes canonical text that parses back to the same clauses', () => {
    const text = 'gpu_name==rtx_4090,h100_sxm dph_total<=0.8 compute_cap>=8.6 region=us,ca verified=yes gpu_ram>=24 reliability=any';
    const canonical = formatClauses(parseFilterExpression(text));
    expect(canonical).toBe('gpu=RTX_4090,H100_SXM dph<=0.8 compute_cap>=860 region=US,CA verified=true gpu_ram>=24 reliability=any');
    expect(parseFilterExpression(canonical)).toEqual(parseFilterExpression(text));
  });

  it('renders the default settings, leaving out no-op values', () => {
    expect(settingsToExpression(DEFAULT_SETTINGS.filters)).toBe('gpus=1 inet_down>=100 reliability>=0.95 disk>=50 cuda>=12.1 verified=true');
  });

  it('renders every setting when each is set', () => {
    const filters = {
      gpuNames: ['RTX 4090', 'RTX 6000Ada'],
      numGpus: 2,
      maxDphTotal: 1.5,
      minInetDownMbps: 500,
      maxInetDownCostPerGb: 0.01,
      minReliability: 0.98,
      minDiskGb: 80,
      minCuda: 12.4,
      regionsIn: ['us', 'CA'],
      regionsOut: ['CN'],
      verifiedOnly: false,
    };
    const text = settingsToExpression(filters);
    expect(text).toBe('gpu=RTX_4090,RTX_6000Ada gpus=2 dph<=1.5 inet_down>=500 down_cost<=0.01 reliability>=0.98 disk>=80 cuda>=12.4 region=US,CA region!=CN');
    expect(parseFilterExpression(text)).toEqual(settingsToClauses(filters));
  });

  it('lays typed clauses over defaults field by field; any removes the field', () => {
    const defaults = settingsToClauses(DEFAULT_SETTINGS.filters);
    const merged = replaceFieldClauses(defaults, parseFilterExpression('inet_down>=800 reliability=any gpu=RTX_4090'));
    expect(formatClauses(merged)).toBe('gpus=1 inet_down>=800 disk>=50 cuda>=12.1 verified=true gpu=RTX_4090');
  });
});

describe('toVastQuery', () => {
  it('adds on-demand, rentable, storage, order and limit around the clauses', () => {
    expect(toVastQuery(parseFilterExpression('gpu=RTX_4090'), OPTIONS)).toEqual({
      rentable: {eq: true},
      rented: {eq: false},
      gpu_name: {eq: 'RTX 4090'},
      type: 'on-demand',
      allocated_storage: 60,
      order: [['dph_total', 'asc']],
      limit: 50,
    });
    const ordered = toVastQuery([], {...OPTIONS, order: [['score', 'desc']]});
    expect(ordered.order).toEqual([['score', 'desc']]);
  });

  it('uses in/notin for lists and always for regions, eq/neq for single values', () => {
    expect(filtersOf('gpu=RTX_4090,RTX_5090 gpus!=2 region=US verified!=false')).toEqual({
      gpu_name: {in: ['RTX 4090', 'RTX 5090']},
      num_gpus: {neq: 2},
      geolocation: {in: ['US']},
      verified: {neq: false},
    });
    expect(filtersOf('gpu!=Tesla_T4,Tesla_V100 region!=CN,RU gpus=1,2')).toEqual({
      gpu_name: {notin: ['Tesla T4', 'Tesla V100']},
      geolocation: {notin: ['CN', 'RU']},
      num_gpus: {in: [1, 2]},
    });
  });

  it('converts GB to MB for memory, like the Vast CLI', () => {
    // 24 GB × 1000 = 24000 MB; 1.1 GB × 1000 = 1100 MB (rounded, no float dust); 64 GB → 64000
    expect(filtersOf('gpu_ram>=24 cpu_ram>=64')).toEqual({gpu_ram: {gte: 24_000}, cpu_ram: {gte: 64_000}});
    expect(filtersOf('gpu_ram>1.1')).toEqual({gpu_ram: {gt: 1100}});
  });

  it('merges several clauses on one field and maps every operator', () => {
    expect(filtersOf('dph>=0.2 dph<=0.5 inet_down>100 inet_up<900 region=US,CA region!=CN')).toEqual({
      dph_total: {gte: 0.2, lte: 0.5},
      inet_down: {gt: 100},
      inet_up: {lt: 900},
      geolocation: {in: ['US', 'CA'], notin: ['CN']},
    });
  });

  it('maps every field to its Vast name', () => {
    expect(Object.keys(filtersOf('down_cost<=0.01 reliability>=0.9 disk>=50 cuda>=12 compute_cap>=800 datacenter=true dlperf>=10 direct_ports>=2'))).toEqual([
      'inet_down_cost', 'reliability', 'disk_space', 'cuda_max_good', 'compute_cap', 'datacenter', 'dlperf', 'direct_port_count',
    ]);
  });

  it('leaves out cleared fields', () => {
    expect(filtersOf('gpu=any inet_down>=500')).toEqual({inet_down: {gte: 500}});
  });
});
