// Evaluates a Vast search query object (docs/vast-api.md §2.2) against the simulated market's raw
// offers: filters, `order`, `limit`, `type` and `allocated_storage` pricing, on copies. Called by
// the search routes in cloud.ts; a QueryError becomes a 400 {"error": "invalid_args"} answer.
import {DEFAULT_ALLOCATED_STORAGE_GB, offerPrices, type OfferPrices, type OfferType, type OfferValue, type SimOffer} from './market.js';

export class QueryError extends Error {
  override readonly name = 'QueryError';
}

/** The real API's default is small (vast-cli #268); clients that want more ask for it. */
export const DEFAULT_LIMIT = 64;
export const MAX_LIMIT = 10_000;
const OPERATORS = ['eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'in', 'notin'] as const;
type Operator = (typeof OPERATORS)[number];
const RESERVED_KEYS = new Set(['order', 'limit', 'type', 'allocated_storage', 'disable_bundling']);
const TYPES: Record<string, OfferType> = {'on-demand': 'on-demand', ondemand: 'on-demand', bid: 'bid', reserved: 'reserved'};

type Scalar = string | number | boolean | null;
type Kind = 'number' | 'string' | 'boolean' | 'country' | 'version';
/** An offer with its prices for this search's type and storage, before anything is copied. */
interface Candidate {
  offer: SimOffer;
  prices: OfferPrices;
}
type Predicate = (candidate: Candidate) => boolean;

/**
 * Runs one search. `fieldNames` are the fields an offer has (an unknown one is a 400, like a typo
 * would be on the real API). Returns priced copies: the market's own offers are never changed.
 */
export function searchOffers(offers: readonly SimOffer[], query: unknown, fieldNames: ReadonlySet<string>): SimOffer[] {
  if (!isRecord(query)) throw new QueryError('The search query must be a JSON object such as {"gpu_name": {"eq": "RTX 4090"}}.');
  const type = parseType(query.type);
  const storageGb = parseNumber('allocated_storage', query.allocated_storage, DEFAULT_ALLOCATED_STORAGE_GB);
  const limit = Math.min(MAX_LIMIT, Math.floor(parseNumber('limit', query.limit, DEFAULT_LIMIT)));
  const order = parseOrder(query.order, fieldNames);
  const predicates: Predicate[] = [];
  for (const [field, condition] of Object.entries(query)) {
    if (RESERVED_KEYS.has(field)) continue;
    if (!fieldNames.has(field)) throw new QueryError(`Unknown search field '${field}': check its spelling against the offer fields.`);
    predicates.push(...compileFilter(field, condition, kindOf(field, offers)));
  }
  const matched = offers
    .map(offer => ({offer, prices: offerPrices(offer, storageGb, type)}))
    .filter(candidate => predicates.every(test => test(candidate)));
  matched.sort((left, right) => compareCandidates(left, right, order));
  return matched.slice(0, limit).map(({offer, prices}) => ({...offer, ...prices}));
}

/** `PUT /search/asks/` takes `select_cols`: ["*"] keeps everything, otherwise only the named columns. */
export function selectColumns(offers: readonly SimOffer[], columns: unknown, fieldNames: ReadonlySet<string>): Record<string, OfferValue>[] {
  if (columns === undefined || (Array.isArray(columns) && columns.includes('*'))) return [...offers];
  if (!Array.isArray(columns) || !columns.every(column => typeof column === 'string')) {
    throw new QueryError('select_cols must be a list of column names, or ["*"].');
  }
  const unknown = columns.find(column => !fieldNames.has(column));
  if (unknown !== undefined) throw new QueryError(`Unknown column '${unknown}' in select_cols.`);
  return offers.map(offer => Object.fromEntries(columns.map(column => [column, offer[column] ?? null])));
}

function parseType(value: unknown): OfferType {
  if (value === undefined || value === null) return 'on-demand';
  const type = typeof value === 'string' ? TYPES[value.toLowerCase()] : undefined;
  if (!type) throw new QueryError(`Unknown offer type ${JSON.stringify(value)}: use "on-demand", "bid" or "reserved".`);
  return type;
}

function parseNumber(name: string, value: unknown, fallback: number): number {
  if (value === undefined || value === null) return fallback;
  const number = toNumber(value);
  if (number === undefined || number < 0) throw new QueryError(`${name} must be a number of 0 or more, got ${JSON.stringify(value)}.`);
  return number;
}

function parseOrder(value: unknown, fieldNames: ReadonlySet<string>): [string, 1 | -1][] {
  if (value === undefined || value === null || (Array.isArray(value) && value.length === 0)) return [['score', -1]];
  if (!Array.isArray(value)) throw new QueryError('order must be a list of [field, "asc" | "desc"] pairs.');
  return value.map(entry => {
    const [field, direction = 'asc'] = Array.isArray(entry) ? (entry as unknown[]) : [];
    if (typeof field !== 'string' || typeof direction !== 'string' || !/^(asc|desc)$/i.test(direction)) {
      throw new QueryError(`order entries must look like ["dph_total", "asc"], got ${JSON.stringify(entry)}.`);
    }
    if (!fieldNames.has(field)) throw new QueryError(`Cannot order by unknown field '${field}'.`);
    return [field, direction.toLowerCase() === 'desc' ? -1 : 1];
  });
}

/** What a field holds, from the first offer where it is not null. */
function kindOf(field: string, offers: readonly SimOffer[]): Kind | undefined {
  if (field === 'geolocation') return 'country';
  if (field === 'driver_version') return 'version';
  for (const offer of offers) {
    const value = offer[field];
    if (value === null || value === undefined) continue;
    if (typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean') return typeof value as Kind;
    throw new QueryError(`The field '${field}' cannot be used as a search filter.`);
  }
  return undefined;
}

function compileFilter(field: string, condition: unknown, kind: Kind | undefined): Predicate[] {
  if (!isRecord(condition)) throw new QueryError(`The filter for '${field}' must be an object such as {"eq": value}, got ${JSON.stringify(condition)}.`);
  return Object.entries(condition).map(([operator, raw]) => {
    if (!(OPERATORS as readonly string[]).includes(operator)) {
      throw new QueryError(`Unknown operator '${operator}' for '${field}': use ${OPERATORS.join(', ')}.`);
    }
    const op = operator as Operator;
    if (op === 'in' || op === 'notin') {
      if (!Array.isArray(raw)) throw new QueryError(`'${op}' for '${field}' needs a list, got ${JSON.stringify(raw)}.`);
      const wanted = raw.map(item => coerce(field, op, item, kind));
      return (candidate: Candidate) => wanted.some(item => equal(fieldValue(candidate, field, kind), item)) === (op === 'in');
    }
    const wanted = coerce(field, op, raw, kind);
    if (wanted === null && op !== 'eq' && op !== 'neq') throw new QueryError(`'${op}' for '${field}' needs a value, not null.`);
    return (candidate: Candidate) => test(op, fieldValue(candidate, field, kind), wanted);
  });
}

/** The offer's value in comparable form: country code, numeric driver version, or the raw scalar. */
function fieldValue(candidate: Candidate, field: string, kind: Kind | undefined): Scalar {
  const value = valueOf(candidate, field);
  if (value === undefined || value === null) return field === 'external' ? false : null; // null "external" counts as not external
  if (kind === 'country') return typeof value === 'string' ? countryCodeOf(value) : null;
  if (kind === 'version') return typeof value === 'string' ? numericVersion(value) ?? null : toNumber(value) ?? null;
  if (kind === 'string' && typeof value === 'string') return value.replaceAll('_', ' ');
  return typeof value === 'object' ? null : value;
}

/** Turns a filter value into the field's kind; the CLI sends numbers as strings, so those are accepted. */
function coerce(field: string, op: Operator, value: unknown, kind: Kind | undefined): Scalar {
  const fail = (): never => {
    throw new QueryError(`The value ${JSON.stringify(value)} does not fit '${field}' (${kind ?? 'unknown type'}) in '${op}'.`);
  };
  if (value === null) return null;
  switch (kind) {
    case 'number':
      return typeof value === 'boolean' ? Number(value) : toNumber(value) ?? fail();
    case 'boolean':
      if (typeof value === 'boolean') return value;
      if (value === 1 || value === 0) return value === 1;
      if (typeof value === 'string' && /^(true|false)$/i.test(value)) return value.toLowerCase() === 'true';
      return fail();
    case 'country':
      if (typeof value !== 'string') return fail();
      return value.trim().length === 2 ? value.trim().toUpperCase() : countryCodeOf(value);
    case 'version':
      return toNumber(value) ?? (typeof value === 'string' ? numericVersion(value) : undefined) ?? fail();
    case 'string':
      if (typeof value === 'number') return String(value);
      return typeof value === 'string' ? value.replaceAll('_', ' ') : fail();
    default:
      return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? value : fail();
  }
}

function test(op: Exclude<Operator, 'in' | 'notin'>, actual: Scalar, wanted: Scalar): boolean {
  switch (op) {
    case 'eq':
      return equal(actual, wanted);
    case 'neq':
      return !equal(actual, wanted);
    default: {
      if (actual === null || wanted === null) return false;
      const order = compareScalars(actual, wanted);
      return op === 'gt' ? order > 0 : op === 'gte' ? order >= 0 : op === 'lt' ? order < 0 : order <= 0;
    }
  }
}

function equal(actual: Scalar, wanted: Scalar): boolean {
  if (typeof actual === 'number' && typeof wanted === 'number') return Math.abs(actual - wanted) < 1e-9;
  return actual === wanted;
}

function compareScalars(left: Exclude<Scalar, null>, right: Exclude<Scalar, null>): number {
  if (typeof left === 'string' && typeof right === 'string') return left < right ? -1 : left > right ? 1 : 0;
  return Number(left) - Number(right);
}

/** Nulls sort last in either direction; equal keys fall back to the offer id, so results are stable. */
function compareCandidates(left: Candidate, right: Candidate, order: readonly [string, 1 | -1][]): number {
  for (const [field, direction] of order) {
    const a = scalarOrNull(valueOf(left, field));
    const b = scalarOrNull(valueOf(right, field));
    if (a === b) continue;
    if (a === null) return 1;
    if (b === null) return -1;
    const result = compareScalars(a, b);
    if (result !== 0) return result * direction;
  }
  return left.offer.id - right.offer.id;
}

function valueOf(candidate: Candidate, field: string): OfferValue | undefined {
  return field in candidate.prices ? candidate.prices[field as keyof OfferPrices] : candidate.offer[field];
}

function scalarOrNull(value: OfferValue | undefined): Scalar {
  return value === undefined || typeof value === 'object' ? null : value;
}

/** "535.86.05" → 535086005, the CLI's numeric driver form. */
function numericVersion(text: string): number | undefined {
  const parts = text.trim().split('.');
  if (parts.length !== 3 || !parts.every(part => /^\d{1,3}$/.test(part))) return undefined;
  return Number(parts.map(part => part.padStart(3, '0')).join(''));
}

function countryCodeOf(geolocation: string): string {
  const match = /(?:^|,)\s*([A-Za-z]{2})\s*$/.exec(geolocation);
  return match ? match[1]!.toUpperCase() : '';
}

function toNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  const number = Number(value);
  return Number.isFinite(number) ? number : undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
