// vastdeck's settings file ($XDG_CONFIG_HOME/vastdeck/config.json, 0600 in a 0700 dir), stored
// with conf 15 and a JSON schema built from the table below. The file holds only what the user
// set; DEFAULT_SETTINGS fills the rest on read. Used by `vastdeck config`, the deck and offers.
import {existsSync, readFileSync, renameSync} from 'node:fs';
import {join} from 'node:path';
import Conf, {type Schema} from 'conf';
import {ensurePrivateDir, vastdeckConfigDir} from './credentials.js';
import {fileIdentity} from './file-identity.js';
import {ConfigError} from './errors.js';
import {DEFAULT_SETTINGS, type VastdeckSettings} from './settings.js';
import {editDistance, normalizeGpuName, suggestGpuNames} from './vast/gpu-names.js';

export interface SettingsStore {
  path: string;
  all(): VastdeckSettings;
  /** A dotted key such as 'filters.minInetDownMbps', or a section such as 'filters'. */
  get(key: string): unknown;
  /** Parses `raw` by the setting's type, validates it, stores it and returns the stored value. */
  set(key: string, raw: string): unknown;
  /** Back to the default (one key, or everything); returns where a broken file was kept, if it was moved aside. */
  reset(key?: string): string | undefined;
  list(): Array<{key: string; value: unknown; default: unknown; description: string}>;
  /**
   * Settings an older vastdeck stored that no longer exist, dropped from the file the first time
   * this version reads it: one sentence each, returned once (then the file no longer has them).
   */
  migrationNotes(): string[];
}

/** Settings that existed once and were removed, with what replaced them; a file holding them is cleaned, never refused. */
const RETIRED: Readonly<Record<string, string>> = {
  'cost.modelGb': "each workflow's manifest gives its model downloads now (job.workflow picks the workflow)",
  'cost.firstResultSeconds': "the job is priced to its last result now (job.generations and the workflow's seconds per generation)",
};

type Stored = Record<string, unknown>;
type InFile = {kind: 'missing'} | {kind: 'broken'; reason: string} | {kind: 'ok'; data: Stored};

const DEFAULTS = DEFAULT_SETTINGS as unknown as Stored;

export function openSettings(options: {cwd?: string} = {}): SettingsStore {
  return new ConfSettingsStore(options.cwd ?? vastdeckConfigDir());
}

class ConfSettingsStore implements SettingsStore {
  readonly path: string;
  readonly #dir: string;
  #conf: Conf<Stored> | undefined;
  #migrated = false;
  #notes: string[] = [];
  /** The file as last parsed, and which version of it that was (the settings are asked for many times a second). */
  #read: {identity: string; inFile: InFile} | undefined;

  constructor(dir: string) {
    this.#dir = dir;
    this.path = join(dir, 'config.json');
  }

  all(): VastdeckSettings {
    const stored = this.#stored();
    const settings = structuredClone(DEFAULT_SETTINGS);
    for (const key of Object.keys(SETTINGS)) {
      const value = getPath(stored, key);
      if (value !== undefined) setPath(settings as unknown as Stored, key, typeof value === 'object' ? structuredClone(value) : value);
    }
    return settings;
  }

  get(key: string): unknown {
    const value = getPath(this.all() as unknown as Stored, key);
    if (value === undefined) throw unknownKey(key);
    return value;
  }

  set(key: string, raw: string): unknown {
    const spec = SETTINGS[key];
    if (!spec) {
      const section = getPath(DEFAULTS, key);
      if (typeof section === 'object' && section !== null && !Array.isArray(section)) {
        throw new ConfigError(`${key} is a group of settings: set one of ${Object.keys(section).map(name => `${key}.${name}`).join(', ')}.`);
      }
      throw unknownKey(key);
    }
    const value = parseSettingValue(key, spec, raw);
    this.#guard(conf => conf.set(key, value));
    return value;
  }

  reset(key?: string): string | undefined {
    if (key === undefined) return this.#resetAll();
    const inFile = this.#readFile();
    if (inFile.kind === 'broken') {
      throw new ConfigError(`The settings file ${this.path} is broken (${inFile.reason}), so ${key} alone cannot be reset: fix the file in an editor, or run \`vastdeck config reset\` to start over.`);
    }
    const known = getPath(DEFAULTS, key) !== undefined;
    if (!known && (inFile.kind === 'missing' || getPath(inFile.data, key) === undefined)) throw unknownKey(key);
    // A schema-less view of the same file, so a hand-broken value can be removed too.
    if (inFile.kind === 'ok' && getPath(inFile.data, key) !== undefined) this.#rawConf().delete(key);
    return undefined;
  }

  migrationNotes(): string[] {
    this.#migrate();
    const notes = this.#notes;
    this.#notes = [];
    return notes;
  }

  list(): Array<{key: string; value: unknown; default: unknown; description: string}> {
    const settings = this.all() as unknown as Stored;
    return Object.entries(SETTINGS).map(([key, spec]) => ({
      key,
      value: getPath(settings, key),
      default: getPath(DEFAULTS, key),
      description: spec.description,
    }));
  }

  #resetAll(): string | undefined {
    const inFile = this.#readFile();
    if (inFile.kind === 'missing') return undefined;
    let keptAt: string | undefined;
    if (inFile.kind === 'broken' || describeProblem(inFile.data) !== undefined) {
      keptAt = `${this.path}.bak`;
      renameSync(this.path, keptAt);
    }
    this.#rawConf().clear();
    return keptAt;
  }

  /**
   * The stored settings, read and checked without conf: compiling conf's JSON schema costs ~120 ms
   * at every start, and reading needs no more than the same checks describeProblem makes (the
   * schema-checked conf is still what writes). Any problem becomes one sentence about the file.
   */
  #stored(): Stored {
    this.#migrate();
    const inFile = this.#readFile();
    if (inFile.kind === 'missing') return {};
    if (inFile.kind === 'broken') throw this.#explain(new Error(inFile.reason));
    if (describeProblem(inFile.data)) throw this.#explain(new Error('schema'));
    return inFile.data;
  }

  /** Drops retired settings from the file once (before any check sees them), keeping a note for each. */
  #migrate(): void {
    if (this.#migrated) return;
    this.#migrated = true;
    const inFile = this.#readFile();
    if (inFile.kind !== 'ok') return;
    const retired = Object.keys(RETIRED).filter(key => getPath(inFile.data, key) !== undefined);
    if (retired.length === 0) return;
    try {
      const raw = this.#rawConf();
      for (const key of retired) {
        raw.delete(key);
        this.#notes.push(`Dropped the setting ${key} (${JSON.stringify(getPath(inFile.data, key))}) from ${this.path}: it no longer exists — ${RETIRED[key]}.`);
      }
    } catch {
      // A file that cannot be written stays as it is; the schema check then says what is wrong with it.
    }
  }

  /** Runs `use` on the schema-checked store; any failure becomes one sentence about the file. */
  #guard<T>(use: (conf: Conf<Stored>) => T): T {
    this.#migrate();
    try {
      ensurePrivateDir(this.#dir);
      this.#conf ??= new Conf<Stored>({...this.#fileOptions(), schema: settingSchema() as Schema<Stored>, rootSchema: {additionalProperties: false}});
      return use(this.#conf);
    } catch (error) {
      throw this.#explain(error);
    }
  }

  #rawConf(): Conf<Stored> {
    ensurePrivateDir(this.#dir);
    return new Conf<Stored>(this.#fileOptions());
  }

  #fileOptions(): {projectName: string; projectSuffix: string; cwd: string; configName: string; configFileMode: number} {
    return {projectName: 'vastdeck', projectSuffix: '', cwd: this.#dir, configName: 'config', configFileMode: 0o600};
  }

  #readFile(): InFile {
    let identity: string | undefined;
    try {
      identity = fileIdentity(this.path);
    } catch {
      // Cannot even be looked at: read below, which says why.
    }
    if (identity !== undefined && this.#read?.identity === identity) return this.#read.inFile;
    const inFile = this.#parseFile();
    this.#read = identity === undefined ? undefined : {identity, inFile};
    return inFile;
  }

  #parseFile(): InFile {
    if (!existsSync(this.path)) return {kind: 'missing'};
    let data: unknown;
    try {
      data = JSON.parse(readFileSync(this.path, 'utf8'));
    } catch (error) {
      return {kind: 'broken', reason: error instanceof SyntaxError ? 'it is not valid JSON' : 'it cannot be read'};
    }
    if (typeof data !== 'object' || data === null || Array.isArray(data)) return {kind: 'broken', reason: 'it does not hold a JSON object'};
    return {kind: 'ok', data: data as Stored};
  }

  #explain(error: unknown): ConfigError {
    if (error instanceof ConfigError) return error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM') {
      return new ConfigError(`vastdeck may not read or write its settings in ${this.#dir}: check the permissions of that folder and ${this.path}.`);
    }
    const inFile = this.#readFile();
    if (inFile.kind === 'broken') {
      return new ConfigError(`The settings file ${this.path} is broken (${inFile.reason}): fix it in an editor, or run \`vastdeck config reset\` to start over (the broken file is kept as config.json.bak).`);
    }
    const problem = inFile.kind === 'ok' ? describeProblem(inFile.data) : undefined;
    if (problem) {
      return new ConfigError(`The settings file ${this.path} ${problem.text}: fix it there, or run \`vastdeck config reset ${problem.key}\`.`);
    }
    const text = error instanceof Error ? error.message.split('\n', 1)[0] : String(error);
    return new ConfigError(`vastdeck cannot use its settings file ${this.path} (${text}).`);
  }
}

type SettingKind = 'number' | 'integer' | 'boolean' | 'choice' | 'name' | 'image' | 'url' | 'path' | 'optional-path' | 'gpu-list' | 'region-list';

/** An http(s) URL without spaces, or empty for "none". */
const URL_PATTERN = /^(https?:\/\/\S+)?$/;
/** A workflow name, as workflow.ts accepts it. */
const NAME_PATTERN = /^\w[\w.-]*$/;

interface SettingSpec {
  kind: SettingKind;
  min?: number;
  max?: number;
  /** The values a 'choice' takes. */
  choices?: readonly string[];
  description: string;
}

/** Every leaf of VastdeckSettings (a unit test keeps this in step with DEFAULT_SETTINGS). */
const SETTINGS: Readonly<Record<string, SettingSpec>> = {
  'filters.gpuNames': {kind: 'gpu-list', description: 'GPU models to keep, comma-separated (RTX_4090,RTX_5090); empty = any'},
  'filters.numGpus': {kind: 'integer', min: 0, max: 16, description: 'exact number of GPUs; 0 = any'},
  'filters.maxDphTotal': {kind: 'number', min: 0, description: 'highest price in $/h; 0 = no limit'},
  'filters.minInetDownMbps': {kind: 'number', min: 0, max: 100_000, description: 'lowest download speed in Mbit/s'},
  'filters.maxInetDownCostPerGb': {kind: 'number', min: 0, description: 'highest download price in $/GB; 0 = no limit'},
  'filters.minReliability': {kind: 'number', min: 0, max: 1, description: 'lowest host reliability, 0 to 1'},
  'filters.minDiskGb': {kind: 'number', min: 0, max: 100_000, description: 'least free disk on the offer, GB'},
  'filters.minCuda': {kind: 'number', min: 0, max: 99, description: 'lowest CUDA version the driver supports, e.g. 12.4; 0 = any'},
  'filters.regionsIn': {kind: 'region-list', description: 'country codes to keep, comma-separated (US,CA,DE); empty = anywhere'},
  'filters.regionsOut': {kind: 'region-list', description: 'country codes to leave out, comma-separated'},
  'filters.verifiedOnly': {kind: 'boolean', description: 'only offers from verified hosts'},
  'job.workflow': {kind: 'name', description: 'workflow the offers are priced for (its manifest gives model GB, VRAM and seconds per generation)'},
  'job.generations': {kind: 'integer', min: 1, max: 1_000_000, description: 'generations the offers are priced for'},
  'cost.imageGb': {kind: 'number', min: 0, max: 1000, description: 'GB of Docker image each instance pulls'},
  'cost.bootSeconds': {kind: 'number', min: 0, max: 86_400, description: 'seconds from models on disk to ComfyUI answering'},
  'cost.idleTailSeconds': {kind: 'number', min: 0, max: 86_400, description: 'seconds an instance stays up after the last result until it is destroyed'},
  'cost.windowMinutes': {kind: 'number', min: 1, max: 1440, description: 'minutes of rental the 10-minute rule (sort key window) prices'},
  'instance.image': {kind: 'image', description: 'Docker image to run'},
  'instance.diskGb': {kind: 'number', min: 8, max: 2000, description: 'disk to rent with each instance, GB'},
  'instance.provisioningManifest': {kind: 'optional-path', description: 'provisioning manifest (provisioning/manifest.example.json): an http(s) URL, or a local file shipped with provision.sh in the create request; empty = none'},
  'instance.provisioningScriptFile': {kind: 'optional-path', description: 'a local provisioning script shipped in the create request in place of provision.sh when no script URL is set; empty = provisioning/provision.sh (with a manifest)'},
  'instance.provisioningScriptUrl': {kind: 'url', description: 'http(s) URL of a script each new instance runs at boot (PROVISIONING_SCRIPT); empty = none'},
  'policies.destroyWhenDrained': {kind: 'boolean', description: 'destroy instances (outputs first) once the generation queue has drained'},
  'policies.idleMinutes': {kind: 'number', min: 0, max: 10_080, description: 'destroy an instance that sat READY without a job this many minutes; 0 = off'},
  'policies.spendCapUsd': {kind: 'number', min: 0, description: 'destroy everything when this session has spent this many $; 0 = off'},
  'policies.countdownSeconds': {kind: 'integer', min: 5, max: 3600, description: 'seconds of countdown (cancel with X) before an automatic destroy'},
  'autostop.enabled': {kind: 'boolean', description: 'install the autostop watchdog on instances vastdeck creates (docs/autostop.md)'},
  'autostop.idleMinutes': {kind: 'integer', min: 1, max: 10_080, description: 'minutes without a heartbeat from vastdeck and without a ComfyUI job before an instance stops or destroys itself'},
  'autostop.maxHours': {kind: 'number', min: 0, max: 8760, description: 'hours an instance may run at most, whatever it does; 0 = no limit'},
  'autostop.action': {kind: 'choice', choices: ['destroy', 'stop'], description: 'what an idle instance does: destroy (only once every output was fetched, else it stops) or stop'},
  refreshSeconds: {kind: 'integer', min: 3, max: 3600, description: 'seconds between offer list refreshes'},
  searchLimit: {kind: 'integer', min: 10, max: 5000, description: 'offers to ask Vast.ai for in one search call (a search makes a few to cover the market)'},
  outputsDir: {kind: 'path', description: 'folder for generated outputs (relative paths start at the folder vastdeck runs in)'},
};

/** The conf schema: the table above as nested JSON schema objects with ranges, no extra keys. */
function settingSchema(): Record<string, object> {
  const root: Record<string, object> = {};
  for (const [key, spec] of Object.entries(SETTINGS)) {
    const parts = key.split('.');
    const leaf = parts.pop()!;
    let properties = root;
    for (const part of parts) {
      const section = (properties[part] ??= {type: 'object', additionalProperties: false, properties: {}}) as {properties: Record<string, object>};
      properties = section.properties;
    }
    properties[leaf] = leafSchema(spec);
  }
  return root;
}

function leafSchema(spec: SettingSpec): object {
  const range = {...(spec.min === undefined ? {} : {minimum: spec.min}), ...(spec.max === undefined ? {} : {maximum: spec.max})};
  switch (spec.kind) {
    case 'number':
    case 'integer':
      return {type: spec.kind, ...range};
    case 'boolean':
      return {type: 'boolean'};
    case 'choice':
      return {type: 'string', enum: [...(spec.choices ?? [])]};
    case 'name':
      return {type: 'string', pattern: NAME_PATTERN.source};
    case 'image':
      return {type: 'string', pattern: '^\\S+$'};
    case 'url':
      return {type: 'string', pattern: URL_PATTERN.source};
    case 'path':
      return {type: 'string', minLength: 1, pattern: '^[^\\n\\u0000]+$'};
    case 'optional-path':
      return {type: 'string', pattern: '^[^\\n\\u0000]*$'};
    case 'gpu-list':
      return {type: 'array', items: {type: 'string', minLength: 1}};
    case 'region-list':
      return {type: 'array', items: {type: 'string', pattern: '^[A-Z]{2}$'}};
  }
}

/** What a setting needs, as the end of "filters.minReliability needs …". */
function needs(spec: SettingSpec): string {
  const range = spec.max === undefined ? `of ${spec.min ?? 0} or more` : `between ${spec.min ?? 0} and ${spec.max}`;
  switch (spec.kind) {
    case 'number':
      return `a number ${range}`;
    case 'integer':
      return `a whole number ${range}`;
    case 'boolean':
      return 'true or false (yes/no and 1/0 work too)';
    case 'choice':
      return `one of ${(spec.choices ?? []).join(', ')}`;
    case 'name':
      return 'a workflow name such as img2img-sdxl (letters, digits, _ . -)';
    case 'image':
      return 'a Docker image name without spaces, e.g. vastai/comfyui:@vastai-automatic-tag';
    case 'url':
      return "an http(s) URL without spaces, or '' for none";
    case 'path':
      return 'a folder path, e.g. outputs or ~/vastdeck-outputs';
    case 'optional-path':
      return "a file path or an http(s) URL, or '' for none";
    case 'gpu-list':
      return 'GPU names separated by commas, e.g. RTX_4090,RTX_5090';
    case 'region-list':
      return 'two-letter country codes separated by commas, e.g. US,CA,DE';
  }
}

function parseSettingValue(key: string, spec: SettingSpec, raw: string): unknown {
  const text = raw.trim();
  const refuse = (): never => {
    throw new ConfigError(`${key} needs ${needs(spec)}, got '${raw.length > 60 ? `${raw.slice(0, 59)}…` : raw}'.`);
  };
  switch (spec.kind) {
    case 'number':
    case 'integer': {
      if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(text)) return refuse();
      const number = Number(text);
      return isValidValue(spec, number) ? number : refuse();
    }
    case 'boolean': {
      const lower = text.toLowerCase();
      if (['true', 'yes', '1', 'on'].includes(lower)) return true;
      if (['false', 'no', '0', 'off'].includes(lower)) return false;
      return refuse();
    }
    case 'choice': {
      const lower = text.toLowerCase();
      return isValidValue(spec, lower) ? lower : refuse();
    }
    case 'name':
    case 'image':
    case 'url':
    case 'path':
    case 'optional-path':
      return isValidValue(spec, text) ? text : refuse();
    case 'gpu-list':
    case 'region-list': {
      const items = ['', 'any', 'none'].includes(text.toLowerCase()) ? [] : text.split(',').map(item => item.trim()).filter(Boolean);
      if (spec.kind === 'region-list') {
        const codes = items.map(item => item.toUpperCase());
        return isValidValue(spec, codes) ? [...new Set(codes)] : refuse();
      }
      return [...new Set(items.map(item => gpuName(key, item)))];
    }
  }
}

function gpuName(key: string, typed: string): string {
  const name = normalizeGpuName(typed);
  if (name !== undefined) return name;
  const suggestions = suggestGpuNames(typed).map(known => known.replaceAll(' ', '_'));
  const hint = suggestions.length > 0 ? `did you mean ${suggestions.join(' or ')}?` : 'use the Vast spelling with _ for spaces, e.g. RTX_4090 or H100_SXM.';
  throw new ConfigError(`${key}: unknown GPU '${typed}', ${hint}`);
}

function isValidValue(spec: SettingSpec, value: unknown): boolean {
  switch (spec.kind) {
    case 'number':
    case 'integer':
      return (
        typeof value === 'number' && Number.isFinite(value) && (spec.kind === 'number' || Number.isInteger(value)) &&
        (spec.min === undefined || value >= spec.min) && (spec.max === undefined || value <= spec.max)
      );
    case 'boolean':
      return typeof value === 'boolean';
    case 'choice':
      return typeof value === 'string' && (spec.choices ?? []).includes(value);
    case 'name':
      return typeof value === 'string' && NAME_PATTERN.test(value);
    case 'image':
      return typeof value === 'string' && /^\S+$/.test(value);
    case 'url':
      return typeof value === 'string' && URL_PATTERN.test(value);
    case 'path':
      return typeof value === 'string' && value.trim() !== '' && !/[\n\0]/.test(value);
    case 'optional-path':
      return typeof value === 'string' && !/[\n\0]/.test(value);
    case 'gpu-list':
      return Array.isArray(value) && value.every(item => typeof item === 'string' && item.trim() !== '');
    case 'region-list':
      return Array.isArray(value) && value.every(item => typeof item === 'string' && /^[A-Z]{2}$/.test(item));
  }
}

/** The first thing wrong with a stored settings object (unknown key or bad value), for messages. */
function describeProblem(data: Stored, prefix = ''): {key: string; text: string} | undefined {
  for (const [name, value] of Object.entries(data)) {
    const key = prefix + name;
    const spec = SETTINGS[key];
    if (spec) {
      if (!isValidValue(spec, value)) return {key, text: `has ${key} = ${JSON.stringify(value)}, but it needs ${needs(spec)}`};
      continue;
    }
    const isSection = Object.keys(SETTINGS).some(known => known.startsWith(`${key}.`));
    if (isSection && typeof value === 'object' && value !== null && !Array.isArray(value)) {
      const inner = describeProblem(value as Stored, `${key}.`);
      if (inner) return inner;
      continue;
    }
    const suggestions = suggestKeys(key);
    return {key, text: `has an unknown setting '${key}'${suggestions.length > 0 ? ` (did you mean ${suggestions.join(' or ')}?)` : ''}`};
  }
  return undefined;
}

/** Known keys close to what was typed: by whole key or by last segment, so 'minReliability' finds filters.minReliability. */
function suggestKeys(typed: string): string[] {
  const lower = typed.toLowerCase();
  const typedLeaf = lower.split('.').pop() ?? lower;
  const scored = Object.keys(SETTINGS).map(key => {
    const leaf = key.split('.').pop()!.toLowerCase();
    return {key, distance: Math.min(editDistance(lower, key.toLowerCase()), editDistance(typedLeaf, leaf))};
  });
  const best = Math.min(...scored.map(entry => entry.distance));
  if (best <= Math.max(2, Math.floor(typedLeaf.length / 4))) return scored.filter(entry => entry.distance === best).slice(0, 3).map(entry => entry.key);
  return typedLeaf.length >= 3 ? Object.keys(SETTINGS).filter(key => key.toLowerCase().includes(typedLeaf)).slice(0, 3) : [];
}

function unknownKey(key: string): ConfigError {
  const suggestions = suggestKeys(key);
  return new ConfigError(
    suggestions.length > 0
      ? `Unknown setting '${key}': did you mean ${suggestions.join(' or ')}? (\`vastdeck config list\` shows them all)`
      : `Unknown setting '${key}': run \`vastdeck config list\` to see the settings.`,
  );
}

function getPath(object: Stored, key: string): unknown {
  let current: unknown = object;
  for (const part of key.split('.')) {
    if (typeof current !== 'object' || current === null || Array.isArray(current) || !Object.hasOwn(current, part)) return undefined;
    current = (current as Stored)[part];
  }
  return current;
}

function setPath(object: Stored, key: string, value: unknown): void {
  const parts = key.split('.');
  const last = parts.pop()!;
  let current = object;
  for (const part of parts) current = current[part] as Stored;
  current[last] = value;
}
