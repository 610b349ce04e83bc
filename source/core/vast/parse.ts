// Turns raw Vast.ai JSON into our own types, once, at the boundary (docs/vast-api.md §2.3, §6.5).
// Tolerant where the API is loose (numbers sent as strings, reliability2, ", US" geolocations);
// strict where a value is needed to use the thing at all (an offer without id or price is dropped).
import {VastBadAnswerError} from '../errors.js';
import type {Offer} from './types.js';

export interface VastUser {
  id: number;
  email: string;
  balanceUsd: number;
  creditUsd: number;
}

type Fields = Record<string, unknown>;

/** Parses one offer; throws an Error naming the first problem when the offer cannot be used. */
export function parseOffer(raw: unknown): Offer {
  if (!isRecord(raw)) throw new Error('an offer is not an object');
  const id = numberField(raw, 'id');
  if (id === undefined || !Number.isInteger(id) || id <= 0) throw new Error('an offer has no valid id');
  const gpuName = typeof raw.gpu_name === 'string' ? raw.gpu_name.trim() : '';
  if (gpuName === '') throw new Error(`offer ${id} has no gpu_name`);
  const dphTotal = numberField(raw, 'dph_total');
  if (dphTotal === undefined || dphTotal < 0) throw new Error(`offer ${id} has no numeric dph_total`);
  const geolocation = typeof raw.geolocation === 'string' ? raw.geolocation.trim() : '';
  return {
    id,
    machineId: numberOr(raw, 'machine_id', 0),
    hostId: numberOr(raw, 'host_id', 0),
    gpuName,
    numGpus: numberOr(raw, 'num_gpus', 1),
    gpuRamMb: numberOr(raw, 'gpu_ram', 0),
    computeCap: numberOr(raw, 'compute_cap', 0),
    cudaMaxGood: numberOr(raw, 'cuda_max_good', 0),
    dphBase: numberOr(raw, 'dph_base', dphTotal),
    dphTotal,
    storageCostPerGbMonth: numberOr(raw, 'storage_cost', 0),
    inetDownMbps: numberOr(raw, 'inet_down', 0),
    inetUpMbps: numberOr(raw, 'inet_up', 0),
    inetDownCostPerGb: numberOr(raw, 'inet_down_cost', 0),
    inetUpCostPerGb: numberOr(raw, 'inet_up_cost', 0),
    reliability: clamp01(numberField(raw, 'reliability') ?? numberField(raw, 'reliability2') ?? 0),
    geolocation,
    countryCode: countryCodeOf(geolocation),
    diskSpaceGb: numberOr(raw, 'disk_space', 0),
    verified: booleanField(raw.verified) ?? raw.verification === 'verified',
    cpuArch: typeof raw.cpu_arch === 'string' ? raw.cpu_arch : '',
    directPortCount: numberOr(raw, 'direct_port_count', 0),
    dlperf: numberOr(raw, 'dlperf', 0),
    totalFlops: numberOr(raw, 'total_flops', 0),
    score: numberOr(raw, 'score', 0),
  };
}

/**
 * Parses the `{"offers": [...]}` envelope of POST /bundles/. Unusable offers are dropped one by
 * one and reported through `onDropped`; a wrong envelope, or a list where no offer is usable,
 * means the API changed under us and is a VastBadAnswerError.
 */
export function parseOffersAnswer(body: unknown, onDropped?: (count: number, firstProblem: string) => void): Offer[] {
  const endpoint = 'POST /api/v0/bundles/';
  if (!isRecord(body) || !Array.isArray(body.offers)) throw new VastBadAnswerError(endpoint, 'no "offers" list');
  const offers: Offer[] = [];
  let dropped = 0;
  let firstProblem = '';
  for (const raw of body.offers) {
    try {
      offers.push(parseOffer(raw));
    } catch (error) {
      dropped++;
      firstProblem ||= error instanceof Error ? error.message : String(error);
    }
  }
  if (dropped > 0 && offers.length === 0) throw new VastBadAnswerError(endpoint, `none of ${dropped} offers was usable: ${firstProblem}`);
  if (dropped > 0) onDropped?.(dropped, firstProblem);
  return offers;
}

/** Parses GET /users/current/. The answer also carries the API key itself: it is not kept. */
export function parseUser(body: unknown): VastUser {
  const endpoint = 'GET /api/v0/users/current/';
  if (!isRecord(body)) throw new VastBadAnswerError(endpoint, 'not an object');
  const id = numberField(body, 'id');
  if (id === undefined) throw new VastBadAnswerError(endpoint, 'no user id');
  return {
    id,
    email: typeof body.email === 'string' ? body.email : '',
    balanceUsd: numberOr(body, 'balance', 0),
    creditUsd: numberOr(body, 'credit', 0),
  };
}

/** The trailing two-letter country code of "California, US", ", US" or "US"; '' when there is none. */
export function countryCodeOf(geolocation: string): string {
  const match = /(?:^|,)\s*([A-Za-z]{2})\s*$/.exec(geolocation);
  return match ? match[1]!.toUpperCase() : '';
}

export function isRecord(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A finite number, also when sent as a numeric string; undefined otherwise. */
export function numberField(fields: Fields, name: string): number | undefined {
  const value = fields[name];
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'string' && value.trim() !== '') {
    const parsed = Number(value);
    return Number.isFinite(parsed) ? parsed : undefined;
  }
  return undefined;
}

function numberOr(fields: Fields, name: string, fallback: number): number {
  return numberField(fields, name) ?? fallback;
}

function booleanField(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (value === 1 || value === 'true' || value === '1') return true;
  if (value === 0 || value === 'false' || value === '0') return false;
  return undefined;
}

function clamp01(value: number): number {
  return Math.min(1, Math.max(0, value));
}
