// The provisioning manifest: validation sentences (source/core/provisioning/manifest.ts), the
// example and schema in provisioning/, and the bundle that carries script + manifest in instance
// variables (gzip+base64, Vast's limits) — its onstart is run by a real bash to prove it works.
import {spawnSync} from 'node:child_process';
import {mkdtempSync, readFileSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, describe, expect, it} from 'vitest';
import {bundleOnstart, envChars, packBundle, unpackBundle, withoutShellComments} from '../../source/core/provisioning/bundle.js';
import {MODEL_FOLDERS, modelTarget, parseManifest, validateManifest} from '../../source/core/provisioning/manifest.js';

const ROOT = join(import.meta.dirname, '..', '..');
const readJson = (name: string): unknown => JSON.parse(readFileSync(join(ROOT, 'provisioning', name), 'utf8'));
const problemsOf = (value: unknown): string[] => validateManifest(value).problems;
const HF = 'https://huggingface.co/stabilityai/stable-diffusion-xl-base-1.0/resolve/main/sd_xl_base_1.0.safetensors';

describe('validateManifest', () => {
  it('accepts the example manifest and an empty one', () => {
    const example = validateManifest(readJson('manifest.example.json'));
    expect(example).toMatchObject({ok: true, problems: []});
    expect(validateManifest({})).toMatchObject({ok: true});
  });

  it('says which folders exist when a model folder is unknown', () => {
    expect(problemsOf({models: [{url: HF, folder: 'lora'}]})).toEqual([
      'models[0].folder "lora" is not a ComfyUI model folder; use one of checkpoints, loras, vae, unet, diffusion_models, clip, text_encoders, clip_vision, controlnet, upscale_models and embeddings.',
    ]);
  });

  it('names bad URLs without their query, which may hold a token', () => {
    expect(problemsOf({nodes: [{url: 'git@github.com:kijai/ComfyUI-KJNodes.git'}], models: [{url: 'ftp://example.org/x.safetensors?token=secret', folder: 'vae'}]})).toEqual([
      'nodes[0].url git@github.com:kijai/ComfyUI-KJNodes.git is not an http(s) URL.',
      'models[0].url ftp://example.org/x.safetensors is not an http(s) URL.',
    ]);
    expect(problemsOf({workflows: [{url: 'https://example.org/a flow.json'}]})).toEqual(['workflows[0].url https://example.org/a flow.json is not an http(s) URL.']);
  });

  it('reports missing fields, one sentence each', () => {
    expect(problemsOf({nodes: [{ref: 'main'}], models: [{folder: 'loras', filename: 'x.safetensors'}, {url: HF}], workflows: [{}]})).toEqual([
      'nodes[0] is missing its "url".',
      'models[0] is missing its "url".',
      'models[1] is missing its "folder" (one of checkpoints, loras, vae, unet, diffusion_models, clip, text_encoders, clip_vision, controlnet, upscale_models and embeddings).',
      'workflows[0] needs exactly one of "url" or "path".',
    ]);
  });

  it('asks for a filename when the URL does not end in one (CivitAI)', () => {
    const civitai = 'https://civitai.com/api/download/models/135867?type=Model&format=SafeTensor';
    expect(problemsOf({models: [{url: civitai, folder: 'loras'}]})).toEqual([
      'models[0] (https://civitai.com/api/download/models/135867) needs a "filename": its URL does not end in a file name.',
    ]);
    expect(problemsOf({models: [{url: civitai, folder: 'loras', filename: 'detail_tweaker_xl.safetensors'}]})).toEqual([]);
    expect(problemsOf({models: [{url: civitai, folder: 'loras', filename: '../escape.safetensors'}]})).toEqual([
      'models[0].filename must be a plain file name (letters, digits and ._+-, no folders or spaces).',
    ]);
  });

  it('finds duplicate target files across models, workflows and nodes', () => {
    const manifest = {
      nodes: [{url: 'https://github.com/kijai/ComfyUI-KJNodes'}, {url: 'https://gitlab.com/fork/ComfyUI-KJNodes.git'}],
      models: [
        {url: HF, folder: 'checkpoints'},
        {url: 'https://example.org/mirror/sd_xl_base_1.0.safetensors', folder: 'checkpoints'},
        {url: 'https://example.org/other.safetensors', folder: 'checkpoints', filename: 'sd_xl_base_1.0.safetensors'},
        {url: 'https://example.org/mirror/sd_xl_base_1.0.safetensors', folder: 'diffusion_models'},
      ],
      workflows: [{path: 'flows/txt2img.json'}, {url: 'https://example.org/txt2img.json'}],
    };
    expect(problemsOf(manifest)).toEqual([
      'nodes[1] and nodes[0] both write custom_nodes/ComfyUI-KJNodes; give one of them another name.',
      'models[1] and models[0] both write models/checkpoints/sd_xl_base_1.0.safetensors; give one of them another name.',
      'models[2] and models[0] both write models/checkpoints/sd_xl_base_1.0.safetensors; give one of them another name.',
      'workflows[1] and workflows[0] both write user/default/workflows/txt2img.json; give one of them another name.',
    ]);
    expect(modelTarget({url: HF, folder: 'checkpoints'})).toBe('checkpoints/sd_xl_base_1.0.safetensors');
  });

  it('rejects unknown fields, wrong types and shell characters', () => {
    expect(problemsOf({modles: [], nodes: {}, pip: ['torch==2.6', '--index-url=https://x', 'a; rm -rf /'], apt: ['FFmpeg'], comfyuiArgs: '--listen "0.0.0.0"', autoUpdateNodes: 'yes'})).toEqual([
      'The manifest has an unknown field "modles"; the fields are nodes, models, workflows, pip, apt, comfyuiArgs and autoUpdateNodes.',
      '"nodes" must be a list.',
      'pip[1] "--index-url=https://x" must be a pip requirement without spaces or shell characters, not an option.',
      'pip[2] "a; rm -rf /" must be a pip requirement without spaces or shell characters, not an option.',
      'apt[0] "FFmpeg" must be an apt package name.',
      '"comfyuiArgs" must be a string of ComfyUI options using only letters, digits, spaces and ._:/=,+- (no quotes or shell characters).',
      '"autoUpdateNodes" must be true or false.',
    ]);
    expect(problemsOf({models: [{url: HF, folder: 'vae', sha256: 'abc', size: 1}]})).toEqual([
      'models[0] has an unknown field "size"; the fields are url, folder, filename and sha256.',
      'models[0].sha256 must be 64 hexadecimal digits.',
    ]);
    expect(problemsOf([])).toEqual(['The manifest must be a JSON object with any of nodes, models, workflows, pip, apt, comfyuiArgs and autoUpdateNodes.']);
    expect(problemsOf({workflows: [{path: 'notes.txt'}]})).toEqual(['workflows[0] must name a .json file (letters, digits and ._+-), not "notes.txt".']);
  });

  it('parses manifest text, with one sentence for broken JSON', () => {
    expect(parseManifest('{"pip": ["gguf==0.17.1"]}')).toMatchObject({ok: true, manifest: {pip: ['gguf==0.17.1']}});
    const broken = parseManifest('{"pip": [');
    expect(broken.ok).toBe(false);
    expect(broken.problems).toHaveLength(1);
    expect(broken.problems[0]).toMatch(/^The manifest is not valid JSON: .+\.$/);
  });

  it('keeps the model folder list, the schema and the example in step', () => {
    const schema = readJson('manifest.schema.json') as {properties: Record<string, {items?: {properties: Record<string, {enum?: string[]}>; required?: string[]}}>};
    expect(schema.properties.models!.items!.properties.folder!.enum).toEqual([...MODEL_FOLDERS]);
    expect(schema.properties.models!.items!.required).toEqual(['url', 'folder']);
    expect(Object.keys(schema.properties).filter(key => !key.startsWith('$'))).toEqual(['nodes', 'models', 'workflows', 'pip', 'apt', 'comfyuiArgs', 'autoUpdateNodes']);
    const example = readJson('manifest.example.json') as {nodes: Array<{url: string}>; models: Array<{url: string}>};
    expect(example.nodes.map(node => node.url)).toEqual(['https://github.com/kijai/ComfyUI-KJNodes', 'https://github.com/rgthree/rgthree-comfy']);
    expect(example.models.map(model => new URL(model.url).hostname)).toEqual(['huggingface.co', 'civitai.com']);
  });
});

describe('provisioning bundle', () => {
  const script = readFileSync(join(ROOT, 'provisioning', 'provision.sh'), 'utf8');
  const example = readFileSync(join(ROOT, 'provisioning', 'manifest.example.json'), 'utf8');

  it('packs provision.sh and a manifest into variables within Vast\'s limits, and the real onstart unpacks them byte for byte', () => {
    const out = mkdtempSync(join(tmpdir(), 'vastdeck-bundle-'));
    unpacked.push(out);
    const shipped = withoutShellComments(script);
    const files = {[`${out}/provision.sh`]: shipped, [`${out}/manifest.json`]: example};
    const env = packBundle(files);
    for (const [name, value] of Object.entries(env)) expect(name.length + 1 + value.length).toBeLessThanOrEqual(256);
    expect(envChars(env)).toBeLessThan(16_384);
    const result = spawnSync('bash', ['-c', bundleOnstart('echo booted')], {encoding: 'utf8', env: {...process.env, ...env}});
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe('booted\n');
    expect(readFileSync(join(out, 'provision.sh'), 'utf8')).toBe(shipped);
    expect(readFileSync(join(out, 'manifest.json'), 'utf8')).toBe(example);
    expect(unpackBundle(Object.entries(env))).toEqual(files);
  });

  it('ships provision.sh without its comments and still as valid bash', () => {
    const shipped = withoutShellComments(script);
    expect(shipped.startsWith('#!/usr/bin/env bash\n')).toBe(true);
    expect(shipped).not.toMatch(/^\s*#(?!!)/m);
    expect(spawnSync('bash', ['-n'], {input: shipped, encoding: 'utf8'}).status).toBe(0);
  });

  it('reads no bundle from variables that hold none or a damaged one', () => {
    expect(unpackBundle([['HF_TOKEN', 'x']])).toBeUndefined();
    expect(unpackBundle([['VASTDECK_BUNDLE_B64_0', 'not-base64-gzip']])).toBeUndefined();
  });
});

const unpacked: string[] = [];
afterAll(() => {
  for (const dir of unpacked) rmSync(dir, {recursive: true, force: true});
});
