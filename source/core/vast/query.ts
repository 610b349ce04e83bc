// The offer filter the user types (`gpu=RTX_4090,RTX_5090 inet_down>=500 region!=CN`) and the
// Vast search query object it becomes (docs/vast-api.md §2.2). Shared by the Offers pane's filter
// line, `vastdeck offers`, and config defaults, so all three speak one grammar and one unit set.
import {InputError} from '../errors.js';
import type {FilterSettings} from '../settings.js';
import {editDistance, normalizeGpuName, suggestGpuNames} from './gpu-names.js';

export type FilterOp = '=' | '!=' | '>' | '>=' | '<' | '<=';
export type FilterValue = number | string | boolean;

export interface FilterClause {
  /** Registry name (aliases resolved), e.g. 'inet_down'. */
  field: string;
  op: FilterOp;
  /** In the user's units (GB, Mbit/s, Vast GPU spelling, upper-case country codes); empty = `any`. */
  values: readonly FilterValue[];
}

type FieldKind = 'number' | 'integer' | 'gpu' | 'country' | 'boolean';

export interface FilterField {
  name: string;
  aliases: readonly string[];
  /** The Vast query field it filters. */
  vastField: string;
  kind: FieldKind;
  /** What the user types, for help and error sentences. */
  unit: string;
  example: string;
  description: string;
  /** What the field can hold, in the user's unit: a clause outside this can never be true. */
  min?: number;
  max?: number;
  /** Another spelling of the same number, e.g. compute capability 8.9 → 890. */
  normalize?: (value: number) => number;
  /** User unit → API unit, like the Vast CLI does (GB → MB). */
  toVast?: (value: number) => number;
}

const gbToMb = (gb: number): number => Math.round(gb * 1000);

/** Every filterable field, in help order. */
export const FILTER_FIELDS: readonly FilterField[] = [
  {name: 'gpu', aliases: ['gpu_name'], vastField: 'gpu_name', kind: 'gpu', unit: 'GPU names', example: 'gpu=RTX_4090,RTX_5090', description: 'GPU model in Vast spelling, _ for spaces; a list means any of them'},
  {name: 'gpus', aliases: ['num_gpus'], vastField: 'num_gpus', kind: 'integer', unit: 'GPUs', example: 'gpus=1', min: 1, description: 'number of GPUs in the offer'},
  {name: 'dph', aliases: ['dph_total', 'price'], vastField: 'dph_total', kind: 'number', unit: '$/h', example: 'dph<=0.6', min: 0, description: 'price per hour, GPUs plus our disk'},
  {name: 'inet_down', aliases: [], vastField: 'inet_down', kind: 'number', unit: 'Mbit/s', example: 'inet_down>=500', min: 0, description: 'download bandwidth'},
  {name: 'inet_up', aliases: [], vastField: 'inet_up', kind: 'number', unit: 'Mbit/s', example: 'inet_up>=100', min: 0, description: 'upload bandwidth'},
  {name: 'down_cost', aliases: ['inet_down_cost'], vastField: 'inet_down_cost', kind: 'number', unit: '$/GB', example: 'down_cost<=0.01', min: 0, description: 'price of each GB downloaded'},
  {name: 'reliability', aliases: [], vastField: 'reliability', kind: 'number', unit: 'fraction 0..1', example: 'reliability>=0.98', min: 0, max: 1, description: 'host reliability score'},
  {name: 'disk', aliases: ['disk_space'], vastField: 'disk_space', kind: 'number', unit: 'GB', example: 'disk>=60', min: 0, description: 'free disk on the machine'},
  {name: 'cuda', aliases: ['cuda_vers', 'cuda_max_good'], vastField: 'cuda_max_good', kind: 'number', unit: 'CUDA version', example: 'cuda>=12.4', min: 0, description: 'newest CUDA the driver supports'},
  {name: 'gpu_ram', aliases: [], vastField: 'gpu_ram', kind: 'number', unit: 'GB', example: 'gpu_ram>=24', min: 0, toVast: gbToMb, description: 'memory per GPU (sent to Vast in MB)'},
  {name: 'compute_cap', aliases: [], vastField: 'compute_cap', kind: 'number', unit: 'compute capability, 8.9 or 890', example: 'compute_cap>=890', min: 0, normalize: value => (value < 100 ? Math.round(value * 100) : value), description: 'CUDA compute capability'},
  {name: 'region', aliases: ['country', 'geolocation'], vastField: 'geolocation', kind: 'country', unit: 'two-letter country codes', example: 'region=US,CA', description: 'where the machine is; != drops countries'},
  {name: 'verified', aliases: [], vastField: 'verified', kind: 'boolean', unit: 'true or false', example: 'verified=true', description: 'only machines Vast has verified'},
  {name: 'datacenter', aliases: [], vastField: 'datacenter', kind: 'boolean', unit: 'true or false', example: 'datacenter=true', description: 'only datacenter machines'},
  {name: 'dlperf', aliases: [], vastField: 'dlperf', kind: 'number', unit: 'DLPerf score', example: 'dlperf>=20', min: 0, description: "Vast's deep-learning performance score"},
  {name: 'cpu_ram', aliases: [], vastField: 'cpu_ram', kind: 'number', unit: 'GB', example: 'cpu_ram>=32', min: 0, toVast: gbToMb, description: 'machine memory (sent to Vast in MB)'},
  {name: 'direct_ports', aliases: ['direct_port_count'], vastField: 'direct_port_count', kind: 'integer', unit: 'ports', example: 'direct_ports>=4', min: 0, description: 'open ports for direct connections'},
];

const OPERATORS: readonly string[] = ['=', '==', '!=', '>', '>=', '<', '<='];
const VAST_OPERATORS = {'>': 'gt', '>=': 'gte', '<': 'lt', '<=': 'lte'} as const;
const fieldsByName = new Map(FILTER_FIELDS.flatMap(field => [field.name, ...field.aliases].map(name => [name, field] as const)));

function fieldOf(clause: FilterClause): FilterField {
  const field = fieldsByName.get(clause.field);
  if (!field) throw new InputError(`Unknown filter field '${clause.field}': the fields are ${fieldList()}.`);
  return field;
}

function fieldList(): string {
  return FILTER_FIELDS.map(field => field.name).join(', ');
}

/** Parse a whole expression; throws InputError with one sentence naming the problem and the fix. */
export function parseFilterExpression(text: string): FilterClause[] {
  const tokens = text
    .replace(/\s*([=!<>]+)\s*/g, '$1')
    .replace(/\s*,\s*/g, ',')
    .split(/\s+/)
    .filter(token => token !== '');
  const clauses = tokens.map(parseClause);
  checkCombinations(clauses);
  return clauses;
}

function parseClause(token: string): FilterClause {
  const match = /^([^=!<>]*)([=!<>]+)(.*)$/.exec(token);
  const rawName = match?.[1] ?? '';
  if (!match || rawName === '') {
    throw new InputError(`'${token}' is not a filter clause: write field, operator and value, e.g. inet_down>=500.`);
  }
  const field = fieldsByName.get(rawName.toLowerCase().replace(/-/g, '_'));
  if (!field) {
    const guess = closestFieldName(rawName.toLowerCase());
    const hint = guess === undefined ? `the fields are ${fieldList()}.` : `did you mean ${guess}? Fields: ${fieldList()}.`;
    throw new InputError(`Unknown filter field '${rawName}': ${hint}`);
  }
  const rawOp = match[2] ?? '';
  if (!OPERATORS.includes(rawOp)) {
    throw new InputError(`Bad operator '${rawOp}' in ${token}: use one of = != > >= < <=, e.g. ${field.example}.`);
  }
  const op = (rawOp === '==' ? '=' : rawOp) as FilterOp;
  const rawValue = match[3] ?? '';

  if (rawValue.toLowerCase() === 'any') {
    if (op !== '=') throw new InputError(`${token}: 'any' clears ${field.name} and goes only with =, e.g. ${field.name}=any.`);
    return {field: field.name, op, values: []};
  }
  const textual = field.kind === 'gpu' || field.kind === 'country' || field.kind === 'boolean';
  if (textual && op !== '=' && op !== '!=') {
    throw new InputError(`${token}: ${field.name} takes only = or !=, e.g. ${field.example}.`);
  }
  const items = rawValue.split(',');
  if (items.length > 1 && op !== '=' && op !== '!=') {
    throw new InputError(`${token}: only = and != take a comma list, so give ${field.name}${op} one value, e.g. ${field.example}.`);
  }
  const values = [...new Set(items.map(item => parseValue(field, item, token)))];
  if (field.kind === 'boolean' && values.length > 1) throw malformed(field, token);
  const clause: FilterClause = {field: field.name, op, values};
  checkRange(field, clause, token);
  return clause;
}

function parseValue(field: FilterField, item: string, token: string): FilterValue {
  switch (field.kind) {
    case 'gpu': {
      const name = normalizeGpuName(item);
      if (name !== undefined) return name;
      const suggestions = suggestGpuNames(item).map(underscored);
      const hint = suggestions.length > 0 ? `did you mean ${joinWithOr(suggestions)}?` : 'use the Vast spelling with _ for spaces, e.g. RTX_4090, RTX_6000Ada or H100_SXM.';
      throw new InputError(`Unknown GPU '${item}' — ${hint}`);
    }
    case 'country': {
      if (!/^[a-z]{2}$/i.test(item)) throw malformed(field, token);
      return item.toUpperCase();
    }
    case 'boolean': {
      const lower = item.toLowerCase();
      if (['true', 'yes', '1'].includes(lower)) return true;
      if (['false', 'no', '0'].includes(lower)) return false;
      throw malformed(field, token);
    }
    case 'number':
    case 'integer': {
      if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(item)) throw malformed(field, token);
      const number = Number(item);
      if (field.kind === 'integer' && !Number.isInteger(number)) throw malformed(field, token);
      return field.normalize ? field.normalize(number) : number;
    }
  }
}

function malformed(field: FilterField, token: string): InputError {
  const needs = {
    number: `a number in ${field.unit}`,
    integer: `a whole number of ${field.unit}`,
    gpu: 'GPU names',
    country: 'two-letter country codes',
    boolean: 'true or false',
  }[field.kind];
  return new InputError(`${token}: ${field.name} needs ${needs}, e.g. ${field.example}.`);
}

function checkRange(field: FilterField, clause: FilterClause, token: string): void {
  const {min, max} = field;
  const impossible = clause.values.some(value => {
    if (typeof value !== 'number') return false;
    const aboveMax = max !== undefined && ((clause.op === '>' && value >= max) || ((clause.op === '>=' || clause.op === '=') && value > max));
    const belowMin = min !== undefined && ((clause.op === '<' && value <= min) || ((clause.op === '<=' || clause.op === '=') && value < min));
    return aboveMax || belowMin;
  });
  if (!impossible) return;
  const range = max === undefined ? `is never below ${min}` : `runs from ${min} to ${max}`;
  throw new InputError(`${token} can never be true: ${field.name} ${range}, e.g. ${field.example}.`);
}

/** Clauses that contradict each other: `any` next to a real value, one operator twice, an empty range. */
function checkCombinations(clauses: readonly FilterClause[]): void {
  for (const [index, clause] of clauses.entries()) {
    const earlier = clauses.slice(0, index).filter(other => other.field === clause.field);
    const cleared = [clause, ...earlier].find(other => other.values.length === 0);
    if (earlier.length > 0 && cleared) {
      throw new InputError(`${clause.field}=any clears ${clause.field}, so it cannot go with ${formatClause(cleared === clause ? earlier[0]! : clause)}: keep one of them.`);
    }
    const twice = earlier.find(other => other.op === clause.op);
    if (twice) {
      throw new InputError(`${clause.field} is given twice with ${clause.op} (${formatClause(twice)} and ${formatClause(clause)}): keep one, e.g. ${fieldOf(clause).example}.`);
    }
  }
  for (const field of new Set(clauses.map(clause => clause.field))) checkBounds(clauses.filter(clause => clause.field === field));
}

function checkBounds(clauses: readonly FilterClause[]): void {
  const single = clauses.filter(clause => clause.values.length === 1 && typeof clause.values[0] === 'number');
  const lower = single.filter(clause => clause.op === '>' || clause.op === '>=' || clause.op === '=');
  const upper = single.filter(clause => clause.op === '<' || clause.op === '<=' || clause.op === '=');
  for (const low of lower) {
    for (const high of upper) {
      if (low === high) continue;
      const lowValue = low.values[0] as number;
      const highValue = high.values[0] as number;
      const strict = low.op === '>' || high.op === '<';
      if (lowValue > highValue || (lowValue === highValue && strict)) {
        throw new InputError(`${formatClause(low)} and ${formatClause(high)} can never both be true: widen one of them.`);
      }
    }
  }
}

function closestFieldName(name: string): string | undefined {
  const names = [...fieldsByName.keys()];
  const scored = names.map(candidate => ({candidate, distance: editDistance(name, candidate)})).sort((a, b) => a.distance - b.distance);
  const best = scored[0];
  return best && best.distance <= Math.max(2, Math.floor(name.length / 3)) ? best.candidate : undefined;
}

/** a, b or c */
function joinWithOr(items: readonly string[]): string {
  return items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} or ${items.at(-1)}`;
}

function underscored(text: string): string {
  return text.replace(/ /g, '_');
}

function formatValue(value: FilterValue): string {
  return typeof value === 'string' ? underscored(value) : String(value);
}

export function formatClause(clause: FilterClause): string {
  const values = clause.values.length === 0 ? 'any' : clause.values.map(formatValue).join(',');
  return `${clause.field}${clause.op}${values}`;
}

/** The canonical text of clauses; parsing it gives the same clauses back. */
export function formatClauses(clauses: readonly FilterClause[]): string {
  return clauses.map(formatClause).join(' ');
}

/** Config filter defaults as clauses; no-op values (0 = no limit, empty lists) are left out. */
export function settingsToClauses(filters: FilterSettings): FilterClause[] {
  const clauses: FilterClause[] = [];
  const add = (field: string, op: FilterOp, values: readonly FilterValue[], when: boolean): void => {
    if (when) clauses.push({field, op, values});
  };
  add('gpu', '=', filters.gpuNames, filters.gpuNames.length > 0);
  add('gpus', '=', [filters.numGpus], filters.numGpus > 0);
  add('dph', '<=', [filters.maxDphTotal], filters.maxDphTotal > 0);
  add('inet_down', '>=', [filters.minInetDownMbps], filters.minInetDownMbps > 0);
  add('down_cost', '<=', [filters.maxInetDownCostPerGb], filters.maxInetDownCostPerGb > 0);
  add('reliability', '>=', [filters.minReliability], filters.minReliability > 0);
  add('disk', '>=', [filters.minDiskGb], filters.minDiskGb > 0);
  add('cuda', '>=', [filters.minCuda], filters.minCuda > 0);
  add('region', '=', filters.regionsIn.map(code => code.toUpperCase()), filters.regionsIn.length > 0);
  add('region', '!=', filters.regionsOut.map(code => code.toUpperCase()), filters.regionsOut.length > 0);
  add('verified', '=', [true], filters.verifiedOnly);
  return clauses;
}

/** Config filter defaults as the expression the user starts editing. */
export function settingsToExpression(filters: FilterSettings): string {
  return formatClauses(settingsToClauses(filters));
}

/**
 * `overrides` replace `base` field by field, in the place the field had (clauses on other fields
 * stay); `field=any` in the overrides removes that field. Lays a typed filter over config defaults.
 */
export function replaceFieldClauses(base: readonly FilterClause[], overrides: readonly FilterClause[]): FilterClause[] {
  const overridesOf = (field: string): FilterClause[] => overrides.filter(clause => clause.field === field);
  const placed = new Set<string>();
  const merged: FilterClause[] = [];
  for (const clause of [...base, ...overrides]) {
    const replacements = overridesOf(clause.field);
    if (replacements.length === 0) merged.push(clause);
    else if (!placed.has(clause.field)) merged.push(...replacements);
    placed.add(clause.field);
  }
  return merged.filter(clause => clause.values.length > 0);
}

export interface VastQueryOptions {
  /** Max offers to return. */
  limit: number;
  /** Disk we will rent, in GB, so that dph_total includes its storage price. */
  allocatedStorageGb: number;
  order?: [string, 'asc' | 'desc'][];
}

/** The POST /bundles/ body: our clauses (several on one field merge) plus on-demand, rentable defaults. */
export function toVastQuery(clauses: readonly FilterClause[], options: VastQueryOptions): Record<string, unknown> {
  const query: Record<string, unknown> = {
    rentable: {eq: true},
    rented: {eq: false},
  };
  for (const clause of clauses) {
    if (clause.values.length === 0) continue;
    const field = fieldOf(clause);
    const previous = query[field.vastField] as Record<string, unknown> | undefined;
    query[field.vastField] = {...previous, ...vastCondition(field, clause)};
  }
  query.type = 'on-demand';
  query.allocated_storage = options.allocatedStorageGb;
  query.order = options.order ?? [['dph_total', 'asc']];
  query.limit = options.limit;
  return query;
}

function vastCondition(field: FilterField, clause: FilterClause): Record<string, unknown> {
  const values = clause.values.map(value => (typeof value === 'number' && field.toVast ? field.toVast(value) : value));
  const asList = field.kind === 'country' || values.length > 1;
  switch (clause.op) {
    case '=':
      return asList ? {in: values} : {eq: values[0]};
    case '!=':
      return asList ? {notin: values} : {neq: values[0]};
    default:
      return {[VAST_OPERATORS[clause.op]]: values[0]};
  }
}

export type RangeOperator = 'gt' | 'gte' | 'lt' | 'lte';

/**
 * A copy of the query in which `field op value` also holds. A bound the query already has with
 * the same operator stays when it is stricter (the user's `dph<=0.3` is not loosened by a search
 * bound of 0.5); other conditions on the field stay as they are, and the server applies them all.
 */
export function withBound(query: Record<string, unknown>, field: string, op: RangeOperator, value: number): Record<string, unknown> {
  const previous = (query[field] ?? {}) as Record<string, unknown>;
  const existing = previous[op];
  const lower = op === 'gt' || op === 'gte';
  const kept = typeof existing === 'number' ? (lower ? Math.max(existing, value) : Math.min(existing, value)) : value;
  return {...query, [field]: {...previous, [op]: kept}};
}

/** The GPU names a query keeps (`gpu_name` eq or in); empty when it keeps any GPU. */
export function queryGpuNames(query: Record<string, unknown>): string[] {
  const condition = query.gpu_name as Record<string, unknown> | undefined;
  if (!condition) return [];
  if (typeof condition.eq === 'string') return [condition.eq];
  if (Array.isArray(condition.in)) return condition.in.filter((name): name is string => typeof name === 'string');
  return [];
}
