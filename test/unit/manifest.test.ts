// The provisioning manifest: validation sentences (source/core/provisioning/manifest.ts), the
// example and schema in provisioning/, and the decision to deliver script + manifest inline in
// onstart (gzip+base64, Vast's limit) — the onstart is unpacked by a real sh to prove it works.
import {spawnSync} from 'node:child_process';
import {createHash} from 'node:crypto';
import {mkdtempSync, readFileSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, describe, expect, it} from 'vitest';
import {INLINE_DIR, MODEL_FOLDERS, ONSTART_LIMIT, inlineProvisioning, modelTarget, parseManifest, validateManifest} from '../../source/core/provisioning/manifest.js';

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

describe('inlineProvisioning', () => {
  const example = readJson('manifest.example.json') as Record<string, unknown>;
  const script = readFileSync(join(ROOT, 'provisioning', 'provision.sh'), 'utf8');

  it('says provision.sh does not fit onstart and must be hosted', () => {
    const decision = inlineProvisioning(script, example);
    expect(decision.fits).toBe(false);
    if (decision.fits) return;
    expect(decision.limit).toBe(ONSTART_LIMIT);
    expect(decision.chars).toBeGreaterThan(ONSTART_LIMIT);
    expect(decision.reason).toBe(`The provisioning script and manifest take ${decision.chars} characters of onstart even gzipped and base64-encoded, over Vast.ai's 4048: host provision.sh (a raw GitHub URL in instance.provisioningScriptUrl) and let vastdeck send only the manifest inline.`);
  });

  it('sends the manifest alone inline next to a hosted script, unpacked by sh before the image boots', () => {
    const decision = inlineProvisioning(null, example);
    expect(decision).toMatchObject({fits: true, scriptInline: false, env: {VASTDECK_MANIFEST: `${INLINE_DIR}/manifest.json`}});
    if (!decision.fits) return;
    expect(decision.env.PROVISIONING_SCRIPT).toBeUndefined();
    expect(decision.chars).toBe(decision.onstart.length);
    expect(decision.onstart).toMatch(/; entrypoint\.sh$/);
    const out = unpack(decision.onstart);
    expect(JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'))).toEqual(example);
  });

  it('inlines a script and manifest that fit, and the unpacked files are byte-identical', () => {
    const small = '#!/usr/bin/env bash\nset -euo pipefail\necho "[vastdeck] info hello"\n';
    const decision = inlineProvisioning(small, JSON.stringify(example));
    expect(decision).toMatchObject({fits: true, scriptInline: true, limit: 4048});
    if (!decision.fits) return;
    expect(decision.env).toEqual({PROVISIONING_SCRIPT: `${INLINE_DIR}/provision.sh`, VASTDECK_MANIFEST: `${INLINE_DIR}/manifest.json`});
    expect(decision.onstart).toMatch(/^mkdir -p \/opt\/vastdeck && printf %s '[A-Za-z0-9+/=]+' \| base64 -d \| gunzip > \/opt\/vastdeck\/provision\.sh && chmod 755 /);
    const out = unpack(decision.onstart);
    expect(readFileSync(join(out, 'provision.sh'), 'utf8')).toBe(small);
    expect(JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'))).toEqual(example);
  });

  it('says when even the manifest is too big to send inline', () => {
    // Hash-named files do not compress: 80 of them are far over the limit.
    const models = Array.from({length: 80}, (_, index) => ({url: `https://example.org/${createHash('sha256').update(String(index)).digest('hex')}.safetensors`, folder: 'loras' as const}));
    const decision = inlineProvisioning(null, {models});
    expect(decision.fits).toBe(false);
    if (decision.fits) return;
    expect(decision.reason).toMatch(/^The manifest takes \d+ characters of onstart even gzipped and base64-encoded, over Vast\.ai's 4048: host manifest\.json .* VASTDECK_MANIFEST_URL\.$/);
  });
});

const unpacked: string[] = [];
afterAll(() => {
  for (const dir of unpacked) rmSync(dir, {recursive: true, force: true});
});

/** Runs the onstart with sh, /opt/vastdeck redirected to a temp dir and entrypoint.sh stubbed. */
function unpack(onstart: string): string {
  const out = mkdtempSync(join(tmpdir(), 'vastdeck-inline-'));
  unpacked.push(out);
  const command = onstart.replaceAll(INLINE_DIR, out).replace(/; entrypoint\.sh$/, '; echo booted');
  const result = spawnSync('sh', ['-c', command], {encoding: 'utf8'});
  expect(result.stderr).toBe('');
  expect(result.stdout).toBe('booted\n');
  return out;
}
