// The job the offers are priced for: config job.* and cost.* plus the workflow manifest's
// "requirements" (model GB, VRAM, seconds per generation on a reference GPU), with one sentence
// per mistake. Real files: the shipped manifests, and a user workflow in the test's own XDG dir.
import {mkdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {Writable} from 'node:stream';
import {afterEach, describe, expect, it} from 'vitest';
import {runOffersCommand} from '../../source/commands/offers.js';
import {parseManifest} from '../../source/core/comfy/manifest.js';
import {shippedWorkflowsDir, userWorkflowsDir} from '../../source/core/comfy/workflow.js';
import {InputError} from '../../source/core/errors.js';
import {jobCostInputs} from '../../source/core/offers/job-inputs.js';
import {DEFAULT_SETTINGS} from '../../source/core/settings.js';

const userDir = userWorkflowsDir();

afterEach(() => {
  rmSync(userDir, {recursive: true, force: true});
});

/** A copy of the shipped img2img-sdxl under another name, with `requirements` replaced (undefined: removed). */
function addUserWorkflow(name: string, requirements: unknown): void {
  mkdirSync(userDir, {recursive: true});
  const shipped = shippedWorkflowsDir();
  writeFileSync(join(userDir, `${name}.json`), readFileSync(join(shipped, 'img2img-sdxl.json')));
  const manifest = JSON.parse(readFileSync(join(shipped, 'img2img-sdxl.manifest.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(userDir, `${name}.manifest.json`), JSON.stringify({...manifest, name, workflow: `${name}.json`, requirements}));
}

const manifest = (requirements: unknown) => ({name: 'x', description: 'x', kind: 'image', workflow: 'x.json', fields: {image: {node: '1', input: 'image'}, prompt: {node: '2', input: 'text'}}, requirements});

describe('jobCostInputs', () => {
  it('prices the default job, 50 generations of the shipped img2img-sdxl', async () => {
    expect(await jobCostInputs(DEFAULT_SETTINGS)).toEqual({
      workflow: 'img2img-sdxl',
      generations: 50,
      modelGb: 6.94,
      imageGb: 12,
      minVramGb: 10,
      referenceSecondsPerGeneration: 3.5,
      referenceGpu: 'RTX 4090',
      bootSeconds: 60,
      idleTailSeconds: 120,
      windowMinutes: 10,
    });
    const video = await jobCostInputs({...DEFAULT_SETTINGS, job: {workflow: 'img2vid', generations: 8}});
    expect(video).toMatchObject({workflow: 'img2vid', generations: 8, minVramGb: 16, referenceSecondsPerGeneration: 11});
  });

  it('names the available workflows when job.workflow is unknown', async () => {
    const error = await jobCostInputs({...DEFAULT_SETTINGS, job: {workflow: 'img2img-sdlx', generations: 50}}).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InputError);
    expect((error as Error).message).toMatch(/^Unknown workflow "img2img-sdlx": the available workflows are img2img-sdxl, img2vid /);
  });

  it('asks for requirements in a manifest written before the cost model', async () => {
    addUserWorkflow('older', undefined);
    const error = await jobCostInputs({...DEFAULT_SETTINGS, job: {workflow: 'older', generations: 5}}).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InputError);
    expect((error as Error).message).toMatch(/^The manifest .*older\.manifest\.json has no "requirements", so vastdeck cannot price a job of older: add e\.g\. "requirements": \{/);
  });

  it('uses a user manifest measured on another GPU', async () => {
    addUserWorkflow('mine', {modelGb: 2, minVramGb: 6, secondsPerGeneration: 9, referenceGpu: 'RTX 3090'});
    expect(await jobCostInputs({...DEFAULT_SETTINGS, job: {workflow: 'mine', generations: 3}})).toMatchObject({modelGb: 2, minVramGb: 6, referenceSecondsPerGeneration: 9, referenceGpu: 'RTX 3090', generations: 3});
  });

  it('makes `vastdeck offers` exit 2 with that one sentence, before any search', async () => {
    let stderr = '';
    let searched = 0;
    const sink = new Writable({write: (_chunk, _encoding, done) => done()});
    const code = await runOffersCommand([], {
      search: async () => {
        searched++;
        return [];
      },
      settings: {...DEFAULT_SETTINGS, job: {workflow: 'nope', generations: 50}},
      stdout: sink,
      stderr: new Writable({
        write(chunk, _encoding, done) {
          stderr += String(chunk);
          done();
        },
      }),
    });
    expect(code).toBe(2);
    expect(searched).toBe(0);
    expect(stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(stderr).toMatch(/^Unknown workflow "nope"/);
  });
});

describe('manifest requirements', () => {
  it('reads them, with RTX 4090 as the default reference GPU', () => {
    expect(parseManifest(manifest({modelGb: 6.94, minVramGb: 10, secondsPerGeneration: 3.5}))).toMatchObject({
      manifest: {requirements: {modelGb: 6.94, minVramGb: 10, secondsPerGeneration: 3.5, referenceGpu: 'RTX 4090'}},
    });
    expect(parseManifest({...manifest(undefined), requirements: undefined})).not.toHaveProperty('manifest.requirements');
  });

  it('says what is wrong with each figure', () => {
    expect(parseManifest(manifest('fast'))).toEqual({problems: ['"requirements" must be an object like {"modelGb": 6.94, "minVramGb": 10, "secondsPerGeneration": 3.5, "referenceGpu": "RTX 4090"}']});
    expect(parseManifest(manifest({modelGb: -1, minVramGb: '10', secondsPerGeneration: 0, referenceGpu: 'GTX 9090', vram: 3}))).toEqual({
      problems: [
        '"requirements" has an unknown key "vram" (known: modelGb, minVramGb, secondsPerGeneration, referenceGpu)',
        'requirements.modelGb must be a number of 0 or more (GB of models the instance downloads for this workflow)',
        'requirements.minVramGb must be a number of 0 or more (GB of GPU memory one generation needs)',
        'requirements.secondsPerGeneration must be a number above 0 (seconds one generation takes on referenceGpu)',
        'requirements.referenceGpu "GTX 9090" is not in the GPU speed table: use a Vast GPU name such as "RTX 4090" or "A100 SXM4"',
      ],
    });
  });
});
