import {existsSync, mkdirSync, readFileSync, statSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {Writable} from 'node:stream';
import {describe, expect, it} from 'vitest';
import {runConfigCommand} from '../../source/commands/config.js';
import {openSettings} from '../../source/core/config.js';
import {ConfigError} from '../../source/core/errors.js';
import {DEFAULT_SETTINGS} from '../../source/core/settings.js';

let counter = 0;
function freshDir(): string {
  return join(process.env.HOME!, `settings-${++counter}`, 'vastdeck');
}

function messageOf(action: () => unknown): string {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a ConfigError');
}

function leafKeys(object: object, prefix = ''): string[] {
  return Object.entries(object).flatMap(([name, value]) =>
    typeof value === 'object' && value !== null && !Array.isArray(value) ? leafKeys(value as object, `${prefix}${name}.`) : [`${prefix}${name}`],
  );
}

describe('openSettings', () => {
  it('lives in $XDG_CONFIG_HOME/vastdeck/config.json by default', () => {
    expect(openSettings().path).toBe(join(process.env.XDG_CONFIG_HOME!, 'vastdeck', 'config.json'));
  });

  it('returns the defaults when nothing is stored, without creating a file', () => {
    const store = openSettings({cwd: freshDir()});
    expect(store.all()).toEqual(DEFAULT_SETTINGS);
    expect(existsSync(store.path)).toBe(false);
  });

  it('lists every setting of VastdeckSettings with its default and a description', () => {
    const rows = openSettings({cwd: freshDir()}).list();
    expect(rows.map(row => row.key).sort()).toEqual(leafKeys(DEFAULT_SETTINGS).sort());
    for (const row of rows) {
      expect(row.value).toEqual(row.default);
      expect(row.description.length).toBeGreaterThan(5);
    }
  });

  it('stores a set value in a 0600 file inside a 0700 directory, and keeps only what was set', () => {
    const dir = freshDir();
    const store = openSettings({cwd: dir});
    expect(store.set('filters.minInetDownMbps', '500')).toBe(500);
    expect(statSync(store.path).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(JSON.parse(readFileSync(store.path, 'utf8'))).toEqual({filters: {minInetDownMbps: 500}});
    expect(openSettings({cwd: dir}).all().filters).toEqual({...DEFAULT_SETTINGS.filters, minInetDownMbps: 500});
  });

  it('parses values by the setting type', () => {
    const store = openSettings({cwd: freshDir()});
    expect(store.set('filters.verifiedOnly', 'no')).toBe(false);
    expect(store.set('filters.verifiedOnly', 'YES')).toBe(true);
    expect(store.set('filters.verifiedOnly', '0')).toBe(false);
    expect(store.set('searchLimit', ' 1000 ')).toBe(1000);
    expect(store.set('filters.minCuda', '12.4')).toBe(12.4);
    expect(store.set('filters.gpuNames', 'RTX_4090, rtx 5090,RTX_4090')).toEqual(['RTX 4090', 'RTX 5090']);
    expect(store.set('filters.regionsOut', 'cn, ru')).toEqual(['CN', 'RU']);
    expect(store.set('filters.regionsIn', '')).toEqual([]);
    expect(store.set('instance.image', 'vastai/comfyui:v0.8.2')).toBe('vastai/comfyui:v0.8.2');
    expect(store.set('job.workflow', ' img2vid ')).toBe('img2vid');
    expect(store.set('job.generations', '200')).toBe(200);
    expect(store.set('cost.idleTailSeconds', '30')).toBe(30);
    expect(store.get('filters.gpuNames')).toEqual(['RTX 4090', 'RTX 5090']);
    expect(store.get('filters')).toMatchObject({verifiedOnly: false, minCuda: 12.4});
  });

  it('refuses a wrong type or an out-of-range value with one sentence naming the range', () => {
    const store = openSettings({cwd: freshDir()});
    expect(messageOf(() => store.set('filters.minReliability', 'high'))).toBe("filters.minReliability needs a number between 0 and 1, got 'high'.");
    expect(messageOf(() => store.set('filters.minReliability', '1.5'))).toContain('between 0 and 1');
    expect(messageOf(() => store.set('searchLimit', '7'))).toContain('a whole number between 10 and 5000');
    expect(messageOf(() => store.set('searchLimit', '100.5'))).toContain('whole number');
    expect(messageOf(() => store.set('filters.maxDphTotal', '-1'))).toContain('a number of 0 or more');
    expect(messageOf(() => store.set('cost.windowMinutes', '0'))).toContain('between 1 and 1440');
    expect(messageOf(() => store.set('refreshSeconds', '1'))).toContain('between 3 and 3600');
    expect(messageOf(() => store.set('instance.diskGb', '4'))).toContain('between 8 and 2000');
    expect(messageOf(() => store.set('filters.numGpus', '17'))).toContain('between 0 and 16');
    expect(messageOf(() => store.set('filters.verifiedOnly', 'maybe'))).toContain('true or false');
    expect(messageOf(() => store.set('filters.regionsIn', 'USA'))).toContain('two-letter country codes');
    expect(messageOf(() => store.set('filters.gpuNames', 'RTX_4009'))).toContain('did you mean RTX_4090');
    expect(messageOf(() => store.set('instance.image', 'two words'))).toContain('without spaces');
    expect(messageOf(() => store.set('job.workflow', '../mine'))).toBe("job.workflow needs a workflow name such as img2img-sdxl (letters, digits, _ . -), got '../mine'.");
    expect(messageOf(() => store.set('job.generations', '0'))).toContain('a whole number between 1 and 1000000');
    // Model GB moved into each workflow's manifest ("requirements").
    expect(messageOf(() => store.set('cost.modelGb', '7'))).toContain("Unknown setting 'cost.modelGb'");
    expect(store.all()).toEqual(DEFAULT_SETTINGS);
  });

  it('suggests the closest keys for an unknown one', () => {
    const store = openSettings({cwd: freshDir()});
    expect(messageOf(() => store.get('minReliability'))).toContain('did you mean filters.minReliability?');
    expect(messageOf(() => store.set('filters.minReliablity', '0.9'))).toContain('did you mean filters.minReliability?');
    expect(messageOf(() => store.reset('serchLimit'))).toContain('did you mean searchLimit?');
    expect(messageOf(() => store.get('zzzzzzzz'))).toContain('vastdeck config list');
    expect(messageOf(() => store.set('filters', '1'))).toContain('is a group of settings');
  });

  it('resets one key or everything to the defaults', () => {
    const store = openSettings({cwd: freshDir()});
    store.set('filters.minReliability', '0.5');
    store.set('searchLimit', '100');
    store.reset('filters.minReliability');
    expect(store.get('filters.minReliability')).toBe(DEFAULT_SETTINGS.filters.minReliability);
    expect(store.get('searchLimit')).toBe(100);
    expect(store.reset()).toBeUndefined();
    expect(store.all()).toEqual(DEFAULT_SETTINGS);
  });

  it('explains a corrupt file, naming it and the fix, and never wipes it by itself', () => {
    const dir = freshDir();
    mkdirSync(dir, {recursive: true});
    const store = openSettings({cwd: dir});
    writeFileSync(store.path, '{"filters": {"minReliability": 0.9,}');
    const message = messageOf(() => store.all());
    expect(message).toContain(store.path);
    expect(message).toContain('vastdeck config reset');
    expect(message).not.toMatch(/\n|at .*\.js/);
    expect(messageOf(() => store.set('searchLimit', '100'))).toContain('not valid JSON');
    expect(messageOf(() => store.reset('searchLimit'))).toContain('vastdeck config reset');
    expect(readFileSync(store.path, 'utf8')).toBe('{"filters": {"minReliability": 0.9,}');

    const keptAt = store.reset();
    expect(keptAt).toBe(`${store.path}.bak`);
    expect(readFileSync(keptAt!, 'utf8')).toBe('{"filters": {"minReliability": 0.9,}');
    expect(store.all()).toEqual(DEFAULT_SETTINGS);
  });

  it('drops settings an older vastdeck stored that no longer exist, with a note once, never a failure', () => {
    const dir = freshDir();
    mkdirSync(dir, {recursive: true});
    writeFileSync(join(dir, 'config.json'), JSON.stringify({cost: {modelGb: 7, firstResultSeconds: 30, imageGb: 9}, filters: {minReliability: 0.97}}));
    const store = openSettings({cwd: dir});
    expect(store.all().cost.imageGb).toBe(9);
    expect(store.all().filters.minReliability).toBe(0.97);
    const notes = store.migrationNotes();
    expect(notes).toHaveLength(2);
    expect(notes[0]).toMatch(/^Dropped the setting cost\.modelGb \(7\) from .*config\.json: it no longer exists — each workflow's manifest gives its model downloads now/);
    expect(notes[1]).toMatch(/^Dropped the setting cost\.firstResultSeconds \(30\)/);
    expect(store.migrationNotes()).toEqual([]);
    expect(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'))).toEqual({cost: {imageGb: 9}, filters: {minReliability: 0.97}});
    expect(openSettings({cwd: dir}).migrationNotes()).toEqual([]);
  });

  it('names a hand-edited bad value or unknown key, and lets `config reset KEY` remove just that', () => {
    const dir = freshDir();
    mkdirSync(dir, {recursive: true});
    const store = openSettings({cwd: dir});
    writeFileSync(store.path, JSON.stringify({searchLimit: 100, filters: {minReliability: 5}}));
    expect(messageOf(() => store.all())).toBe(
      `The settings file ${store.path} has filters.minReliability = 5, but it needs a number between 0 and 1: fix it there, or run \`vastdeck config reset filters.minReliability\`.`,
    );
    store.reset('filters.minReliability');
    expect(store.get('searchLimit')).toBe(100);

    writeFileSync(store.path, JSON.stringify({filters: {minReliablity: 0.9}}));
    expect(messageOf(() => store.list())).toContain("unknown setting 'filters.minReliablity' (did you mean filters.minReliability?)");
    store.reset('filters.minReliablity');
    expect(store.all()).toEqual(DEFAULT_SETTINGS);
  });
});

describe('vastdeck config', () => {
  function run(argv: string[], store = openSettings({cwd: freshDir()})): {code: Promise<number>; out: () => string; err: () => string} {
    let out = '';
    let err = '';
    const io = {
      stdout: new Writable({write: (chunk, _encoding, callback) => ((out += String(chunk)), callback())}),
      stderr: new Writable({write: (chunk, _encoding, callback) => ((err += String(chunk)), callback())}),
    };
    return {code: runConfigCommand(argv, io, store), out: () => out, err: () => err};
  }

  it('lists every setting aligned as key = value, with defaults marked', async () => {
    const store = openSettings({cwd: freshDir()});
    store.set('filters.minReliability', '0.98');
    const result = run(['list'], store);
    expect(await result.code).toBe(0);
    const lines = result.out().trimEnd().split('\n');
    expect(lines[0]).toContain(store.path);
    expect(lines).toHaveLength(1 + store.list().length);
    expect(lines.find(line => line.startsWith('filters.minReliability '))).toMatch(/= 0\.98 +\(default 0\.95\) +# lowest host reliability/);
    expect(lines.find(line => line.startsWith('filters.gpuNames '))).toMatch(/= \(none\) +\(default\) +#/);
    const equalsAt = new Set(lines.slice(1).map(line => line.indexOf(' = ')));
    expect(equalsAt.size).toBe(1);
  });

  it('gets, sets, resets and prints the path', async () => {
    const store = openSettings({cwd: freshDir()});
    const set = run(['set', 'filters.gpuNames', 'RTX', '4090,RTX_5090'], store);
    expect(await set.code).toBe(0);
    expect(set.out()).toBe('filters.gpuNames = RTX 4090,RTX 5090\n');
    const get = run(['get', 'filters.gpuNames'], store);
    expect(await get.code).toBe(0);
    expect(get.out()).toBe('RTX 4090,RTX 5090\n');
    const json = run(['get', 'filters.gpuNames', '--json'], store);
    expect(await json.code).toBe(0);
    expect(JSON.parse(json.out())).toEqual(['RTX 4090', 'RTX 5090']);
    const reset = run(['reset', 'filters.gpuNames'], store);
    expect(await reset.code).toBe(0);
    expect(store.get('filters.gpuNames')).toEqual([]);
    const path = run(['path'], store);
    expect(await path.code).toBe(0);
    expect(path.out()).toBe(`${store.path}\n`);
  });

  it('prints one sentence on stderr and exits 2 for every mistake', async () => {
    for (const argv of [['set', 'filters.minReliability', 'high'], ['get', 'nope'], ['set', 'searchLimit'], ['frobnicate'], ['get'], ['path', 'extra']]) {
      const result = run(argv);
      expect(await result.code).toBe(2);
      expect(result.out()).toBe('');
      expect(result.err()).toMatch(/^vastdeck: [^\n]+\n$/);
    }
    const typo = run(['set', 'filters.minReliability', 'high']);
    await typo.code;
    expect(typo.err()).toBe("vastdeck: filters.minReliability needs a number between 0 and 1, got 'high'.\n");
  });

  it('resets a corrupt file and says where the old one was kept', async () => {
    const dir = freshDir();
    mkdirSync(dir, {recursive: true});
    const store = openSettings({cwd: dir});
    writeFileSync(store.path, 'not json');
    const list = run(['list'], store);
    expect(await list.code).toBe(2);
    expect(list.err()).toContain('vastdeck config reset');
    const reset = run(['reset'], store);
    expect(await reset.code).toBe(0);
    expect(reset.out()).toContain(`${store.path}.bak`);
    expect(await run(['list'], store).code).toBe(0);
  });
});

describe('reading the settings many times a second', () => {
  it('sees another process rewrite the file, and a caller changing what it got does not change the next answer', () => {
    const dir = freshDir();
    const settings = openSettings({cwd: dir});
    settings.set('filters.gpuNames', 'RTX_4090');
    const first = settings.all();
    expect(first.filters.gpuNames).toEqual(['RTX 4090']);
    first.filters.gpuNames.push('H100');
    expect(settings.all().filters.gpuNames).toEqual(['RTX 4090']);
    // Another vastdeck (or an editor) writes the file: the next read sees it.
    const path = join(dir, 'config.json');
    const stored = JSON.parse(readFileSync(path, 'utf8'));
    stored.filters.gpuNames = ['RTX 5090', 'RTX 3090'];
    writeFileSync(path, JSON.stringify(stored));
    expect(settings.all().filters.gpuNames).toEqual(['RTX 5090', 'RTX 3090']);
  });
});
