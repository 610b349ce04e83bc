// `vastdeck config list | get KEY | set KEY VALUE | reset [KEY] | path`: a thin shell over the
// settings store (core/config.ts). Values print plainly for scripts (or as JSON with --json);
// every problem is one sentence on stderr and exit code 2.
import type {Io} from './command-io.js';
import {openSettings, type SettingsStore} from '../core/config.js';
import {InputError, toVastdeckError} from '../core/errors.js';
import {parseArgs} from './args.js';

const USAGE = 'use `vastdeck config list`, `get KEY`, `set KEY VALUE`, `reset [KEY]` or `path`';

export async function runConfigCommand(argv: string[], io: Io, store?: SettingsStore): Promise<number> {
  try {
    const {flags, positionals} = parseArgs('config', argv, {json: {kind: 'boolean'}});
    const [action = 'list', key, ...values] = positionals;
    const settings = store ?? openSettings();
    for (const note of settings.migrationNotes()) io.stderr.write(`vastdeck: ${note}\n`);
    const json = flags.json === true;
    const print = (text: string): void => void io.stdout.write(`${text}\n`);
    switch (action) {
      case 'list':
        expectArguments(action, positionals, 1);
        print(json ? JSON.stringify(settings.all(), undefined, 2) : listing(settings));
        return 0;
      case 'get':
        expectArguments(action, positionals, 2, 'KEY');
        print(showValue(settings.get(key!), json));
        return 0;
      case 'set': {
        if (key === undefined || values.length === 0) throw new InputError('`vastdeck config set` needs a key and a value, e.g. `vastdeck config set filters.minReliability 0.98`.');
        // Unquoted GPU names arrive as several words: "RTX 4090" is one value.
        const stored = settings.set(key, values.join(' '));
        print(json ? JSON.stringify(stored) : `${key} = ${showValue(stored, false)}`);
        return 0;
      }
      case 'reset': {
        expectArguments(action, positionals, key === undefined ? 1 : 2);
        const keptAt = settings.reset(key);
        if (keptAt) print(`The broken settings file was kept as ${keptAt}.`);
        print(key === undefined ? 'All settings are back to their defaults.' : `${key} is back to its default.`);
        return 0;
      }
      case 'path':
        expectArguments(action, positionals, 1);
        print(settings.path);
        return 0;
      default:
        throw new InputError(`Unknown config action '${action}': ${USAGE}.`);
    }
  } catch (error) {
    io.stderr.write(`vastdeck: ${toVastdeckError(error).message}\n`);
    return 2;
  }
}

function expectArguments(action: string, positionals: string[], count: number, name?: string): void {
  if (positionals.length === count) return;
  if (positionals.length < count) throw new InputError(`\`vastdeck config ${action}\` needs a ${name ?? 'value'}: ${USAGE}.`);
  throw new InputError(`\`vastdeck config ${action}\` takes ${count === 1 ? 'no more words' : `one ${name ?? 'value'}`}: ${USAGE}.`);
}

/** `key = value  (default …)  # description`, aligned. */
function listing(settings: SettingsStore): string {
  const rows = settings.list().map(row => {
    const isDefault = JSON.stringify(row.value) === JSON.stringify(row.default);
    return {
      key: row.key,
      value: showValue(row.value, false, '(none)'),
      mark: isDefault ? '(default)' : `(default ${showValue(row.default, false, 'none')})`,
      description: row.description,
    };
  });
  const keyWidth = Math.max(...rows.map(row => row.key.length));
  const valueWidth = Math.max(...rows.map(row => row.value.length));
  const markWidth = Math.max(...rows.map(row => row.mark.length));
  const lines = rows.map(row => `${row.key.padEnd(keyWidth)} = ${row.value.padEnd(valueWidth)}  ${row.mark.padEnd(markWidth)}  # ${row.description}`);
  return [`# ${settings.path} — change one with \`vastdeck config set KEY VALUE\``, ...lines].join('\n');
}

function showValue(value: unknown, json: boolean, empty = ''): string {
  if (json || (typeof value === 'object' && value !== null && !Array.isArray(value))) return JSON.stringify(value, undefined, json ? undefined : 2);
  if (Array.isArray(value)) return value.length === 0 ? empty : value.join(',');
  return String(value);
}
