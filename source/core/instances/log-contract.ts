// The log contract of vastdeck's provisioning script: loads provisioning/log-contract.json (the one
// definition of every line provision.sh prints) and turns it into typed matchers for the stage
// monitor (log-patterns.ts, progress.ts) and a renderer for tests and the simulator.
import {readFileSync} from 'node:fs';
import {fileURLToPath} from 'node:url';

export const CONTRACT_KINDS = [
  'begin', 'stage-start', 'stage-done', 'gpu', 'sage-install', 'sage-fallback', 'node',
  'download-batch', 'download-start', 'download-progress', 'download-done', 'download-retry', 'download-failed',
  'workflow', 'comfyui-args', 'info', 'complete', 'failed', 'trap',
] as const;

export type ContractKind = (typeof CONTRACT_KINDS)[number];
export type ContractStage = 'PROVISIONING' | 'DOWNLOADING' | 'STARTING_APP' | 'FAILED';
export type ContractValues = Readonly<Record<string, string | number>>;

export interface ContractKindSpec {
  /** printf-style: each `%s` / `%d` is the next of `fields`. */
  template: string;
  fields: readonly string[];
  /** JavaScript source, one named group per field, in field order. */
  regex: string;
  stage: ContractStage;
  description: string;
  example: ContractValues;
}

export interface LogContract {
  version: number;
  prefix: string;
  steps: readonly string[];
  kinds: Readonly<Record<ContractKind, ContractKindSpec>>;
}

export interface ContractEvent {
  kind: ContractKind;
  stage: ContractStage;
  /** The fields by name, as printed. */
  values: Readonly<Record<string, string>>;
}

/** The package root is three levels up from both source/core/instances and dist/core/instances. */
export const LOG_CONTRACT_PATH = fileURLToPath(new URL('../../../provisioning/log-contract.json', import.meta.url));

const STAGES: readonly ContractStage[] = ['PROVISIONING', 'DOWNLOADING', 'STARTING_APP', 'FAILED'];
const PLACEHOLDER = /%[sd]/g;

export const LOG_CONTRACT: LogContract = loadContract(LOG_CONTRACT_PATH);

const COMPILED: ReadonlyArray<{kind: ContractKind; spec: ContractKindSpec; pattern: RegExp}> = CONTRACT_KINDS.map(kind => {
  const spec = LOG_CONTRACT.kinds[kind];
  return {kind, spec, pattern: new RegExp(spec.regex)};
});

/** The contract event in one line of the script's output (CR and surrounding space ignored). */
export function parseContractLine(text: string): ContractEvent | undefined {
  const line = text.trim();
  if (!line.startsWith(LOG_CONTRACT.prefix) && !line.startsWith('[ERROR] ')) return undefined;
  for (const {kind, spec, pattern} of COMPILED) {
    const found = pattern.exec(line);
    if (!found?.groups) continue;
    const values: Record<string, string> = {};
    for (const field of spec.fields) values[field] = found.groups[field] ?? '';
    return {kind, stage: spec.stage, values};
  }
  return undefined;
}

/** The line the script prints for `kind` with these values (what printf makes of the template). */
export function renderContractLine(kind: ContractKind, values: ContractValues): string {
  const spec = LOG_CONTRACT.kinds[kind];
  let index = 0;
  return spec.template.replace(PLACEHOLDER, placeholder => {
    const field = spec.fields[index++]!;
    const value = values[field];
    if (value === undefined) throw new Error(`renderContractLine(${kind}): missing value for ${field}`);
    if (placeholder === '%s') return String(value).replace(/[\r\n]+/g, ' ');
    const number = Math.trunc(Number(value));
    if (!Number.isFinite(number)) throw new Error(`renderContractLine(${kind}): ${field} must be a number, got ${String(value)}`);
    return String(number);
  });
}

/**
 * The contract regex of `kind`, optionally with some fields narrowed to an alternation, e.g.
 * `contractPattern('failed', {step: 'apt|pip'})` for a table row that only takes those steps.
 */
export function contractPattern(kind: ContractKind, narrow: Readonly<Record<string, string>> = {}): RegExp {
  let source = LOG_CONTRACT.kinds[kind].regex;
  for (const [field, alternatives] of Object.entries(narrow)) {
    const group = new RegExp(`\\(\\?<${field}>[^()]*\\)`);
    if (!group.test(source)) throw new Error(`contractPattern(${kind}): no simple group for ${field}`);
    source = source.replace(group, `(?<${field}>${alternatives})`);
  }
  return new RegExp(source);
}

function loadContract(path: string): LogContract {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`Cannot read the provisioning log contract ${path}: ${(error as Error).message}`);
  }
  const contract = raw as LogContract;
  const kinds = Object.keys(contract.kinds ?? {});
  const missing = CONTRACT_KINDS.filter(kind => !kinds.includes(kind));
  const extra = kinds.filter(kind => !(CONTRACT_KINDS as readonly string[]).includes(kind));
  if (missing.length > 0 || extra.length > 0) {
    throw new Error(`${path} does not match log-contract.ts: missing kinds [${missing.join(', ')}], unknown kinds [${extra.join(', ')}]`);
  }
  for (const kind of CONTRACT_KINDS) checkKind(path, kind, contract.kinds[kind]);
  return contract;
}

function checkKind(path: string, kind: ContractKind, spec: ContractKindSpec): void {
  const problem = (what: string): Error => new Error(`${path}: kind ${kind} ${what}`);
  if (!STAGES.includes(spec.stage)) throw problem(`has unknown stage ${String(spec.stage)}`);
  const placeholders = spec.template.match(PLACEHOLDER) ?? [];
  if (placeholders.length !== spec.fields.length) throw problem(`has ${placeholders.length} placeholders for ${spec.fields.length} fields`);
  const groups = [...spec.regex.matchAll(/\(\?<(\w+)>/g)].map(match => match[1]);
  if (groups.join(',') !== spec.fields.join(',')) throw problem(`regex groups [${groups.join(', ')}] differ from fields [${spec.fields.join(', ')}]`);
}
