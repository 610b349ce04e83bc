// Workflows as a user meets them: the shipped ones load and bind, a workflow dropped into
// ~/.config/vastdeck/workflows works (and replaces a shipped one of the same name), and every
// mistake in a workflow, a manifest or a job reads as one sentence naming the file and the fix.
import {mkdirSync, rmSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {afterEach, describe, expect, it} from 'vitest';
import {jsonErrorPosition} from '../../source/core/comfy/json-position.js';
import type {ApiWorkflow, JobSpec} from '../../source/core/comfy/types.js';
import {bindJob, listWorkflows, loadWorkflow, userWorkflowsDir, validateJobSpec} from '../../source/core/comfy/workflow.js';
import {InputError} from '../../source/core/errors.js';

const IMG2IMG: ApiWorkflow = {
  '1': {class_type: 'CheckpointLoaderSimple', _meta: {title: 'Checkpoint'}, inputs: {ckpt_name: 'sd15-base.safetensors'}},
  '2': {class_type: 'LoadImage', _meta: {title: 'Input Image'}, inputs: {image: 'example.png'}},
  '3': {class_type: 'VAEEncode', inputs: {pixels: ['2', 0], vae: ['1', 2]}},
  '4': {class_type: 'CLIPTextEncode', _meta: {title: 'Positive Prompt'}, inputs: {text: 'a fox', clip: ['1', 1]}},
  '5': {class_type: 'CLIPTextEncode', _meta: {title: 'Negative Prompt'}, inputs: {text: 'blurry', clip: ['1', 1]}},
  '6': {
    class_type: 'KSampler',
    inputs: {seed: 1, steps: 20, cfg: 7, sampler_name: 'euler', scheduler: 'normal', denoise: 0.6, model: ['1', 0], positive: ['4', 0], negative: ['5', 0], latent_image: ['3', 0]},
  },
  '7': {class_type: 'VAEDecode', inputs: {samples: ['6', 0], vae: ['1', 2]}},
  '8': {class_type: 'SaveImage', inputs: {images: ['7', 0], filename_prefix: 'img2img/run'}},
};

const FIELDS = {
  image: {node: '2', input: 'image'},
  prompt: {node: '4', input: 'text'},
  negative: {node: '5', input: 'text'},
  seed: {node: '6', input: 'seed', default: 'random', min: 0, max: Number.MAX_SAFE_INTEGER},
  steps: {node: '6', input: 'steps', default: 20, min: 1, max: 150},
  cfg: {node: '6', input: 'cfg', min: 0, max: 30},
  denoise: {node: '6', input: 'denoise', default: 0.6, min: 0, max: 1},
};

const userDir = userWorkflowsDir();

function addUserWorkflow(name: string, options: {workflow?: unknown; workflowText?: string; manifest?: Record<string, unknown>} = {}): void {
  mkdirSync(userDir, {recursive: true});
  writeFileSync(join(userDir, `${name}.json`), options.workflowText ?? JSON.stringify(options.workflow ?? IMG2IMG, null, 2));
  const manifest = {name, description: `${name} test workflow`, kind: 'image', workflow: `${name}.json`, fields: FIELDS, ...options.manifest};
  writeFileSync(join(userDir, `${name}.manifest.json`), JSON.stringify(manifest, null, 2));
}

function spec(overrides: Partial<JobSpec> = {}): JobSpec {
  return {workflow: 'mine', imagePath: '/tmp/in.png', prompt: 'a watercolor fox in snow', ...overrides};
}

async function loadError(name: string): Promise<string> {
  const error = await loadWorkflow(name).then(() => undefined, (caught: unknown) => caught);
  expect(error).toBeInstanceOf(InputError);
  return (error as InputError).message;
}

afterEach(() => {
  rmSync(userDir, {recursive: true, force: true});
});

describe('shipped workflows', () => {
  it('lists every shipped workflow as usable, and each one loads with image and prompt bound', async () => {
    const shipped = (await listWorkflows()).filter(info => info.source === 'shipped');
    expect(shipped.length).toBeGreaterThan(0);
    for (const info of shipped) {
      expect(info, info.ok ? info.name : info.problem).toMatchObject({ok: true});
      const loaded = await loadWorkflow(info.name);
      expect(loaded.fields.image).toBeDefined();
      expect(loaded.fields.prompt).toBeDefined();
      const bound = bindJob(loaded, {workflow: info.name, imagePath: '/tmp/in.png', prompt: 'a lighthouse at dusk'}, 'abc-in.png');
      expect(bound.workflow[loaded.fields.image!.node]!.inputs[loaded.fields.image!.input]).toBe('abc-in.png');
      expect(bound.workflow[loaded.fields.prompt!.node]!.inputs[loaded.fields.prompt!.input]).toBe('a lighthouse at dusk');
    }
  });
});

describe('user workflows', () => {
  it('loads a workflow dropped into the user folder and lists it with its description', async () => {
    addUserWorkflow('mine');
    const loaded = await loadWorkflow('mine');
    expect(loaded).toMatchObject({name: 'mine', kind: 'image', source: 'user', description: 'mine test workflow'});
    expect(loaded.fields.steps).toEqual({node: '6', input: 'steps', default: 20, min: 1, max: 150});
    expect(await listWorkflows()).toContainEqual(expect.objectContaining({ok: true, name: 'mine', source: 'user'}));
  });

  it('lets a user workflow replace a shipped one of the same name', async () => {
    const shipped = (await listWorkflows()).find(info => info.source === 'shipped');
    expect(shipped).toBeDefined();
    addUserWorkflow(shipped!.name);
    expect((await loadWorkflow(shipped!.name)).source).toBe('user');
    expect((await listWorkflows()).filter(info => info.name === shipped!.name)).toHaveLength(1);
  });

  it('lists a broken workflow with its problem instead of hiding it', async () => {
    addUserWorkflow('broken', {workflowText: '{"1": {'});
    const broken = (await listWorkflows()).find(info => info.name === 'broken');
    expect(broken).toMatchObject({ok: false, problem: expect.stringContaining('is not valid JSON')});
  });
});

describe('workflow problems', () => {
  it('names the available workflows when the name is unknown', async () => {
    addUserWorkflow('mine');
    const message = await loadError('nope');
    expect(message).toMatch(/^Unknown workflow "nope": the available workflows are .*mine/);
    expect(message).toContain('.config/vastdeck/workflows');
    expect(await loadError('../mine')).toMatch(/^Unknown workflow/);
  });

  it('points at the line and column of invalid JSON', async () => {
    addUserWorkflow('mine', {workflowText: '{\n  "1": {"class_type": "LoadImage", "inputs": {}},\n}\n'});
    expect(await loadError('mine')).toMatch(/mine\.json is not valid JSON \(line 3, column 1\): fix the file/);
  });

  it('explains that a UI-format workflow must be exported in API format', async () => {
    addUserWorkflow('mine', {workflow: {last_node_id: 2, last_link_id: 1, nodes: [{id: 1, type: 'LoadImage'}], links: [[1, 1, 0, 2, 0, 'IMAGE']], version: 0.4}});
    expect(await loadError('mine')).toMatch(
      /mine\.json is a ComfyUI UI workflow \(it has nodes and links\); vastdeck needs the API format: in ComfyUI enable Dev mode options and use Workflow → Export \(API\)\.$/,
    );
  });

  it('names each binding that points at a missing node, a missing input or a link', async () => {
    const fields = {...FIELDS, prompt: {node: '44', input: 'text'}, steps: {node: '6', input: 'stepz'}, image: {node: '3', input: 'pixels'}};
    addUserWorkflow('mine', {manifest: {fields}});
    const message = await loadError('mine');
    expect(message).toContain('fields.prompt points at node 44, which mine.json does not have');
    expect(message).toContain('fields.steps points at input "stepz" of node 6 (KSampler), which does not exist (the node has: seed, steps, cfg');
    expect(message).toContain('fields.image points at input "pixels" of node 3 (VAEEncode), which is a link from node 2');
  });

  it('lists what a manifest is missing or gets wrong', async () => {
    addUserWorkflow('mine', {manifest: {description: undefined, kind: 'audio', fields: {prompt: FIELDS.prompt, steps: {node: '6', input: 'steps', default: 500, min: 1, max: 150}, colour: {}}}});
    const message = await loadError('mine');
    expect(message).toMatch(/^The manifest .*mine\.manifest\.json has problems: /);
    expect(message).toContain('"description" is missing');
    expect(message).toContain('"kind" must be "image" or "video"');
    expect(message).toContain('"fields" does not bind "image"');
    expect(message).toContain('unknown field "colour"');
    expect(message).toContain('fields.steps.default: steps must be between 1 and 150, got 500');
  });

  it('refuses an API workflow whose links point at missing nodes', async () => {
    addUserWorkflow('mine', {workflow: {...IMG2IMG, '7': {class_type: 'VAEDecode', inputs: {samples: ['66', 0], vae: ['1', 2]}}}});
    expect(await loadError('mine')).toContain('node 7 input "samples" links to node 66, which does not exist');
  });
});

describe('binding a job', () => {
  it('sets every bound input on a deep copy and fills the defaults', async () => {
    addUserWorkflow('mine');
    const loaded = await loadWorkflow('mine');
    const bound = bindJob(loaded, spec({seed: 42, cfg: 5.5}), 'uploads/0f1e-in.png');
    expect(bound.seed).toBe(42);
    expect(bound.settings).toEqual({image: 'uploads/0f1e-in.png', prompt: 'a watercolor fox in snow', negative: 'blurry', seed: 42, steps: 20, cfg: 5.5, denoise: 0.6});
    expect(bound.workflow['2']!.inputs.image).toBe('uploads/0f1e-in.png');
    expect(bound.workflow['4']!.inputs.text).toBe('a watercolor fox in snow');
    expect(bound.workflow['6']!.inputs).toMatchObject({seed: 42, steps: 20, cfg: 5.5, denoise: 0.6, model: ['1', 0]});
    expect(loaded.workflow['6']!.inputs.seed).toBe(1);
    expect(loaded.workflow['2']!.inputs.image).toBe('example.png');
  });

  it('draws a random whole seed within the safe range when the default is "random"', async () => {
    addUserWorkflow('mine');
    const loaded = await loadWorkflow('mine');
    const seeds = Array.from({length: 20}, () => bindJob(loaded, spec(), 'in.png').seed!);
    for (const seed of seeds) {
      expect(Number.isSafeInteger(seed)).toBe(true);
      expect(seed).toBeGreaterThanOrEqual(0);
    }
    expect(new Set(seeds).size).toBeGreaterThan(1);
  });

  it('keeps random seeds inside a narrow manifest range', async () => {
    addUserWorkflow('mine', {manifest: {fields: {...FIELDS, seed: {node: '6', input: 'seed', default: 'random', min: 5, max: 7}}}});
    const loaded = await loadWorkflow('mine');
    for (let i = 0; i < 30; i++) expect([5, 6, 7]).toContain(bindJob(loaded, spec(), 'in.png').seed);
  });

  it('names every out-of-range or misplaced setting in one sentence', async () => {
    addUserWorkflow('mine');
    const loaded = await loadWorkflow('mine');
    expect(() => validateJobSpec(loaded, spec({steps: 30, denoise: 0.5}))).not.toThrow();
    const attempt = (): unknown => validateJobSpec(loaded, spec({steps: 500, denoise: 2.5, seed: 1.5, frames: 81}));
    expect(attempt).toThrow(InputError);
    expect(attempt).toThrow(
      'The job does not fit workflow "mine": frames is not a setting of workflow "mine" (its settings: prompt, negative, seed, steps, cfg, denoise); ' +
        'seed must be a whole number, got 1.5; steps must be between 1 and 150, got 500; denoise must be between 0 and 1, got 2.5.',
    );
    expect(() => bindJob(loaded, spec({steps: 0}), 'in.png')).toThrow('steps must be between 1 and 150, got 0');
    expect(() => bindJob(loaded, spec(), '')).toThrow(InputError);
  });
});

describe('JSON error positions', () => {
  it('finds the first syntax error by line and column', () => {
    expect(jsonErrorPosition('{"a": 1}')).toBeUndefined();
    expect(jsonErrorPosition('{"a": 1,\n "b" }')).toEqual({line: 2, column: 6});
    expect(jsonErrorPosition('[1, 2,]')).toEqual({line: 1, column: 7});
    expect(jsonErrorPosition('{"a": tru}')).toEqual({line: 1, column: 7});
    expect(jsonErrorPosition('{"a": "x\ny"}')).toEqual({line: 1, column: 9});
    expect(jsonErrorPosition('{"a": 1} x')).toEqual({line: 1, column: 10});
    expect(jsonErrorPosition('{"a": ')).toEqual({line: 1, column: 7});
  });
});
