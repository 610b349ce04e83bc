// The add-job form's rules on plain values: which fields a workflow shows, their defaults and
// ranges, the shape check of typed numbers, the JobSpec they make, and Tab completion outcomes.
import {describe, expect, it} from 'vitest';
import {buildJob, completePathValue, defaultValues, fieldHint, formFields, matchName} from '../../source/ui/queue/add-job-form.js';
import {IMG2IMG_FIELDS, IMG2VID_FIELDS} from './queue-fixtures.js';

describe('add-job form rules', () => {
  it('shows only the bound fields, in order, with the count and [ Queue ] last', () => {
    expect(formFields(IMG2IMG_FIELDS)).toEqual(['workflow', 'image', 'prompt', 'negative', 'seed', 'steps', 'cfg', 'denoise', 'width', 'height', 'count', 'queue']);
    expect(formFields({image: {}, prompt: {}})).toEqual(['workflow', 'image', 'prompt', 'count', 'queue']);
    expect(formFields(undefined)).toEqual(['workflow', 'image', 'count', 'queue']);
  });

  it('prefills defaults (a random seed stays blank) and shows ranges', () => {
    expect(defaultValues(IMG2VID_FIELDS)).toEqual({prompt: '', negative: 'blurry, low quality', seed: '', steps: '20', cfg: '6.5', denoise: '0.6', width: '1024', height: '1024', frames: '16'});
    expect(fieldHint('steps', IMG2IMG_FIELDS)).toBe('1–150');
    expect(fieldHint('seed', IMG2IMG_FIELDS)).toBe('blank = random');
    expect(fieldHint('prompt', IMG2IMG_FIELDS)).toBe('');
  });

  it('builds the spec: blank numbers fall back to the workflow, wrong shapes name the field', () => {
    const values = {image: ' /tmp/cat.png ', prompt: 'a cat', negative: '', seed: '', steps: '25', cfg: '.5', denoise: '', width: '512', height: '', count: '2'};
    expect(buildJob('img2img-sdxl', IMG2IMG_FIELDS, values)).toEqual({spec: {workflow: 'img2img-sdxl', imagePath: '/tmp/cat.png', prompt: 'a cat', negative: '', steps: 25, cfg: 0.5, width: 512}, count: 2});
    expect(buildJob('img2img-sdxl', IMG2IMG_FIELDS, {...values, cfg: '1e3'})).toEqual({problem: 'CFG must be a number such as 0.5, not "1e3".', field: 'cfg'});
    expect(buildJob('img2img-sdxl', IMG2IMG_FIELDS, {...values, seed: '1.5'})).toEqual({problem: 'Seed must be a whole number, not "1.5".', field: 'seed'});
    expect(buildJob('img2img-sdxl', IMG2IMG_FIELDS, {...values, count: '0'})).toEqual({problem: 'Count must be 1 or more.', field: 'count'});
    expect(buildJob('img2img-sdxl', IMG2IMG_FIELDS, {...values, image: ''})).toMatchObject({field: 'image'});
    expect(buildJob(undefined, undefined, values)).toMatchObject({field: 'workflow'});
  });

  it('completes a path: one match, a folder, several (common start), none, and a whole file', () => {
    expect(completePathValue('/tmp/ca', ['/tmp/cat.png'])).toEqual({value: '/tmp/cat.png', matches: [], advance: false});
    expect(completePathValue('/tmp/pi', ['/tmp/pics/'])).toEqual({value: '/tmp/pics/', matches: [], advance: false});
    expect(completePathValue('/tmp/c', ['/tmp/cat.png', '/tmp/cats/'])).toEqual({value: '/tmp/cat', matches: ['/tmp/cat.png', '/tmp/cats/'], advance: false});
    expect(completePathValue('/tmp/x', [])).toMatchObject({value: '/tmp/x', advance: false, note: 'No file or folder starts with "/tmp/x".'});
    expect(completePathValue('/tmp/cat.png', ['/tmp/cat.png'])).toMatchObject({advance: true});
    expect(matchName('/tmp/pics/')).toBe('pics/');
    expect(matchName('/tmp/cat.png')).toBe('cat.png');
  });
});
