// The simulator's faults by name, for everyone: `vastdeck sim --faults SPEC`, the control endpoint
// (POST /sim/faults) and `vastdeck sim fault …`. A SPEC is `name=value,...`: a count (3: the next
// three chances) or a rate (0.3 or 30%: each chance, seeded). The API server, the instances and
// each ComfyUI ask take(name) at the moment that fault would strike. Tests use the same names.
import {Random} from './random.js';

/** Every fault, with where and when it strikes (the README's "rehearse a bad day" table). */
export const FAULTS = {
  api429: 'a Vast API request answers 429 (too frequent)',
  api500: 'a Vast API request answers 500',
  api502: 'a Vast API request answers an HTML 502 from the proxy',
  api503: 'a Vast API request answers an HTML 503',
  'api-html': 'a Vast API request answers 200 with a Cloudflare HTML page',
  'api-bad-json': 'a Vast API request answers 200 with truncated JSON',
  'api-wrong-shape': 'a Vast API request answers 200 with JSON of the wrong shape',
  'api-hang': 'a Vast API request never answers',
  'api-reset': 'a Vast API request has its connection reset',
  'offer-taken': 'a create finds its offer already taken (404, or 410 with cancel_unavail)',
  'pull-error': 'an instance fails to pull its image (stays loading with a daemon error)',
  'oci-error': 'an instance\'s container fails to start (created, OCI runtime error)',
  exited: 'a running instance\'s container exits',
  offline: 'a running instance\'s host goes offline',
  unknown: 'a running instance\'s host stops sending heartbeats (unknown)',
  'provisioning-failure': 'an instance\'s provisioning fails (ComfyUI still starts)',
  'drop-ssh': 'an instance drops its SSH connections a few seconds after a client connects',
  'refuse-ssh': 'a running instance refuses every SSH login',
  'instance-death': 'an instance dies (offline, SSH and ComfyUI gone) while ComfyUI runs a job',
  'ws-drop': 'ComfyUI cuts the job\'s WebSocket as a job starts',
  'ws-silence': 'ComfyUI sends no WebSocket message for a job (history is still written)',
  'node-failure': 'a ComfyUI job fails with execution_error (CUDA error) at its first node',
  'comfy-restart': 'ComfyUI restarts as a job starts (queue, history and the job are lost)',
} as const;

export type FaultName = keyof typeof FAULTS;

export interface FaultRule {
  name: FaultName;
  /** The next `count` chances strike. */
  count?: number;
  /** Each chance strikes with this probability (0–1). */
  rate?: number;
}

/** A bad SPEC: one sentence naming the problem and the fix. */
export class FaultSpecError extends Error {}

const NAMES = Object.keys(FAULTS) as FaultName[];

export function isFaultName(name: string): name is FaultName {
  return (NAMES as string[]).includes(name);
}

/** `api429=0.3,instance-death=1` → rules; a FaultSpecError for anything else. */
export function parseFaultSpec(spec: string): FaultRule[] {
  const parts = spec.split(',').map((part) => part.trim()).filter(Boolean);
  if (parts.length === 0) throw new FaultSpecError('The fault spec is empty: give name=value pairs such as api429=0.3,instance-death=1 (see `vastdeck sim --help`).');
  return parts.map((part) => {
    const match = /^([a-z0-9-]+)=(\S+)$/.exec(part);
    if (!match) throw new FaultSpecError(`The fault "${part}" is not name=value: write it like api429=0.3 (a rate) or instance-death=1 (a count).`);
    const [, name = '', value = ''] = match;
    if (!isFaultName(name)) throw new FaultSpecError(`There is no fault "${name}"${closest(name)}: the faults are ${NAMES.join(', ')}.`);
    if (/^\d+$/.test(value) && Number(value) >= 1) return {name, count: Number(value)};
    const rate = value.endsWith('%') ? Number(value.slice(0, -1)) / 100 : Number(value);
    if (/^(0?\.\d+|1\.0*|\d+(\.\d+)?%)$/.test(value) && rate > 0 && rate <= 1) return {name, rate};
    throw new FaultSpecError(`The value of ${name} must be a count (a whole number from 1) or a rate (0.3 or 30%), not "${value}".`);
  });
}

function closest(name: string): string {
  const near = NAMES.find((candidate) => candidate.includes(name) || name.includes(candidate.replace(/^api-?/, '')));
  return near ? ` (did you mean ${near}?)` : '';
}

/** The armed faults: counts run down, rates roll a seeded die at each chance. */
export class FaultPlan {
  private readonly rules = new Map<FaultName, FaultRule>();
  private readonly dice: Random;

  constructor(seed = 1) {
    this.dice = new Random(seed, 7);
  }

  add(rules: readonly FaultRule[]): void {
    for (const rule of rules) this.rules.set(rule.name, {...rule});
  }

  clear(): void {
    this.rules.clear();
  }

  list(): FaultRule[] {
    return [...this.rules.values()].map((rule) => ({...rule}));
  }

  /** Whether `name` strikes at this chance (and it is counted). */
  take(name: FaultName): boolean {
    const rule = this.rules.get(name);
    if (!rule) return false;
    if (rule.rate !== undefined) return this.dice.chance(rule.rate);
    rule.count = (rule.count ?? 0) - 1;
    if (rule.count <= 0) this.rules.delete(name);
    return true;
  }

  /** The SPEC that re-creates the armed faults. */
  toSpec(): string {
    return this.list()
      .map((rule) => `${rule.name}=${rule.rate !== undefined ? rule.rate : rule.count}`)
      .join(',');
  }
}
