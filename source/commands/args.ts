// A small, strict flag parser shared by the subcommands. Unknown flags and missing or malformed
// values become one InputError sentence; there is no implicit coercion beyond what a spec asks for.
import {InputError} from '../core/errors.js';
import type {AutostopOverrides} from '../core/provisioning/autostop.js';

export type FlagKind = 'boolean' | 'string' | 'number' | 'integer';

export interface FlagSpec {
  kind: FlagKind;
  /** One-letter alias, without the dash. */
  short?: string;
  /** Allowed range for number/integer flags. */
  min?: number;
  max?: number;
}

export interface ParsedArgs {
  flags: Record<string, string | number | boolean | undefined>;
  positionals: string[];
}

export function parseArgs(command: string, argv: readonly string[], specs: Record<string, FlagSpec>): ParsedArgs {
  const flags: ParsedArgs['flags'] = {};
  const positionals: string[] = [];
  const byShort = new Map(Object.entries(specs).flatMap(([name, spec]) => (spec.short ? [[spec.short, name] as const] : [])));

  for (let index = 0; index < argv.length; index++) {
    const token = argv[index]!;
    if (token === '--') {
      positionals.push(...argv.slice(index + 1));
      break;
    }
    if (!token.startsWith('-') || token === '-' || /^-\d/.test(token)) {
      positionals.push(token);
      continue;
    }
    const [rawName, inlineValue] = token.startsWith('--') ? splitOnce(token.slice(2)) : [byShort.get(token.slice(1)) ?? token.slice(1), undefined];
    const name = rawName;
    const spec = specs[name];
    if (!spec) {
      const known = Object.keys(specs).map(flag => `--${flag}`).join(', ');
      throw new InputError(`Unknown option ${token} for \`vastdeck ${command}\`: the options are ${known || 'none'}.`);
    }
    if (spec.kind === 'boolean') {
      if (inlineValue !== undefined) throw new InputError(`The option --${name} takes no value: write just --${name}.`);
      flags[name] = true;
      continue;
    }
    const value = inlineValue ?? argv[++index];
    if (value === undefined || (inlineValue === undefined && value.startsWith('--'))) {
      throw new InputError(`The option --${name} needs a value, e.g. --${name} ${example(spec)}.`);
    }
    flags[name] = convert(name, value, spec);
  }
  return {flags, positionals};
}

function splitOnce(text: string): [string, string | undefined] {
  const at = text.indexOf('=');
  return at === -1 ? [text, undefined] : [text.slice(0, at), text.slice(at + 1)];
}

function convert(name: string, value: string, spec: FlagSpec): string | number {
  if (spec.kind === 'string') return value;
  const number = Number(value);
  const integerWanted = spec.kind === 'integer';
  if (value.trim() === '' || !Number.isFinite(number) || (integerWanted && !Number.isInteger(number))) {
    throw new InputError(`The option --${name} needs ${integerWanted ? 'a whole number' : 'a number'}, got '${value}'.`);
  }
  if ((spec.min !== undefined && number < spec.min) || (spec.max !== undefined && number > spec.max)) {
    throw new InputError(`The option --${name} must be between ${spec.min ?? '-∞'} and ${spec.max ?? '∞'}, got ${value}.`);
  }
  return number;
}

function example(spec: FlagSpec): string {
  if (spec.kind === 'string') return 'VALUE';
  return String(spec.min ?? 1);
}

/** `--no-autostop` and `--autostop-idle MIN` of the commands that rent (`up`, `run`). */
export const AUTOSTOP_FLAGS = {
  'no-autostop': {kind: 'boolean'},
  'autostop-idle': {kind: 'integer', min: 1, max: 10_080},
} as const satisfies Record<string, FlagSpec>;

/** The rent's autostop overrides from those flags; both at once is one InputError. */
export function autostopFromFlags(flags: ParsedArgs['flags']): AutostopOverrides | undefined {
  const idle = flags['autostop-idle'];
  if (flags['no-autostop'] === true && idle !== undefined) throw new InputError('Use either --no-autostop or --autostop-idle MIN, not both.');
  if (flags['no-autostop'] === true) return {enabled: false};
  return typeof idle === 'number' ? {enabled: true, idleMinutes: idle} : undefined;
}
