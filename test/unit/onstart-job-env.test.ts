// The OnStart contract on vastdeck's side: the job cut into VASTDECK_JOB_n variables within Vast.ai's
// env limits and read back, the too-big sentence, the onstart line (length, shellcheck, and what it
// does when bash runs it: unpack the runner byte for byte, start it, boot the image), and done.json.
import {spawnSync} from 'node:child_process';
import {randomBytes} from 'node:crypto';
import {chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, describe, expect, it} from 'vitest';
import type {ApiWorkflow} from '../../source/core/comfy/types.js';
import {InputError} from '../../source/core/errors.js';
import {
  decodeOnstartJob,
  encodeOnstartJob,
  JOB_ENV_BUDGET_CHARS,
  onstartCommand,
  parseMarker,
  RUNNER_PATH,
  shippedOnstartCommand,
  type OnstartJob,
} from '../../source/core/onstart/job-env.js';

const WORKFLOW = JSON.parse(readFileSync(new URL('../../workflows/img2img-sdxl.json', import.meta.url), 'utf8')) as ApiWorkflow;
const sandbox = mkdtempSync(join(tmpdir(), 'vastdeck-onstart-env-'));

afterAll(() => rmSync(sandbox, {recursive: true, force: true}));

function job(workflow: ApiWorkflow = WORKFLOW): OnstartJob {
  return {version: 1, id: '20260101120000-1a2b3c', workflow, imageNode: '2', imageInput: 'image', image: {url: 'https://example.org/fox.png'}, outputsDir: '/workspace/vastdeck/outputs/20260101120000-1a2b3c'};
}

/** Vast's rules: each KEY=value ≤ 256 characters. */
function entryChars([name, value]: [string, string]): number {
  return name.length + 1 + value.length;
}

/** A workflow of `nodes` text nodes holding `bytesEach` random (incompressible) bytes. */
function noisyWorkflow(nodes: number, bytesEach: number): ApiWorkflow {
  const workflow = structuredClone(WORKFLOW);
  for (let index = 0; index < nodes; index++) workflow[`n${index}`] = {class_type: 'Note', inputs: {text: randomBytes(bytesEach).toString('base64')}};
  return workflow;
}

describe('encodeOnstartJob / decodeOnstartJob', () => {
  it('cuts the job into numbered chunks within the per-entry and total limits, and reads it back', () => {
    for (const workflow of [WORKFLOW, noisyWorkflow(20, 600)]) {
      const env = encodeOnstartJob(job(workflow));
      const names = Object.keys(env);
      expect(names).toEqual(names.map((_, index) => `VASTDECK_JOB_${index}`));
      for (const entry of Object.entries(env)) expect(entryChars(entry)).toBeLessThanOrEqual(256);
      expect(Object.entries(env).reduce((total, entry) => total + entryChars(entry), 0)).toBeLessThanOrEqual(JOB_ENV_BUDGET_CHARS);
      expect(decodeOnstartJob(env)).toEqual(job(workflow));
    }
    expect(Object.keys(encodeOnstartJob(job()))).toHaveLength(4);
  });

  it('says in one sentence when a workflow is too big to travel in the instance variables', () => {
    const big = job(noisyWorkflow(40, 1000));
    expect(() => encodeOnstartJob(big)).toThrow(InputError);
    expect(() => encodeOnstartJob(big)).toThrow(
      /^The workflow of job 20260101120000-1a2b3c is too big for the OnStart method: packed \(gzip and base64\) it takes \d+ characters of instance variables, over the 22528 left of Vast\.ai's 32768; run it with the API method \(without --onstart\), or trim the workflow\.$/,
    );
    expect(() => encodeOnstartJob(job(noisyWorkflow(1, 3_000_000)))).toThrow(/too big for the OnStart method/);
  });

  it('refuses variables that hold no job', () => {
    expect(() => decodeOnstartJob({})).toThrow(/do not hold a packed job \(0 chunks\)/);
    expect(() => decodeOnstartJob({VASTDECK_JOB_0: Buffer.from('{"version": 2}').toString('base64')})).toThrow(InputError);
  });
});

describe('onstartCommand', () => {
  const command = shippedOnstartCommand();

  it('fits Vast.ai\'s 4048 characters and carries the runner in 256-character variables', () => {
    expect(command.onstart.length).toBeLessThanOrEqual(4048);
    expect(command.onstart).toMatch(/; exec entrypoint\.sh$/);
    for (const entry of Object.entries(command.env)) expect(entryChars(entry)).toBeLessThanOrEqual(256);
    expect(Object.keys(command.env)[0]).toBe('VASTDECK_RUNNER_B64_0');
    expect(() => onstartCommand(randomBytes(20_000).toString('base64'))).toThrow(/The OnStart runner takes \d+ characters of instance variables packed, over the 8192/);
  });

  it('is shellcheck-clean', () => {
    const result = spawnSync('shellcheck', ['-s', 'bash', '-'], {input: `#!/bin/bash\n${command.onstart}\n`, encoding: 'utf8'});
    if (result.error) throw new Error(`shellcheck is not installed (${result.error.message}); install it (apt-get install shellcheck)`);
    expect(result.stdout + result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it('unpacks the runner byte for byte, starts it in the background and then boots the image', () => {
    const root = join(sandbox, 'instance');
    const bin = join(root, 'bin');
    mkdirSync(bin, {recursive: true});
    // entrypoint.sh stands in for Vast's boot: it records that it ran, after the runner had started.
    writeFileSync(join(bin, 'entrypoint.sh'), `#!/bin/bash\ntouch "${root}/booted"\nfor _ in $(seq 100); do [[ -f "${root}/done.json" ]] && break; sleep 0.05; done\n`);
    chmodSync(join(bin, 'entrypoint.sh'), 0o755);
    const line = command.onstart.replaceAll('/opt/vastdeck', join(root, 'opt')).replaceAll('/var/log/', `${root}/`);
    const result = spawnSync('bash', ['-c', line], {
      encoding: 'utf8',
      env: {...command.env, PATH: `${bin}:${process.env.PATH}`, VASTDECK_DONE_FILE: join(root, 'done.json'), VASTDECK_ONSTART_LOG: join(root, 'vastdeck-onstart.log')},
    });
    expect(result.status, result.stderr).toBe(0);
    expect(readFileSync(join(root, 'opt', 'onstart-runner.py'))).toEqual(readFileSync(RUNNER_PATH));
    expect(existsSync(join(root, 'booted'))).toBe(true);
    // Without VASTDECK_JOB_* the runner still ends in a marker instead of hanging.
    expect(parseMarker(readFileSync(join(root, 'done.json'), 'utf8')).error).toContain('cannot be read (no VASTDECK_JOB_0 variable)');
  });
});

describe('parseMarker', () => {
  const sha = 'a'.repeat(64);

  it('reads done.json as the runner writes it', () => {
    const text = JSON.stringify({id: 'j', status: 'success', outputs: [{file: 'img_00001_.png', bytes: 12, sha256: sha}], finishedAt: '2026-01-01T12:00:00.000Z'});
    expect(parseMarker(text)).toEqual({id: 'j', status: 'success', outputs: [{file: 'img_00001_.png', bytes: 12, sha256: sha}], finishedAt: '2026-01-01T12:00:00.000Z'});
    expect(parseMarker(JSON.stringify({id: 'j', status: 'error', outputs: [], error: 'Boom: fix it.', finishedAt: 'x'})).error).toBe('Boom: fix it.');
  });

  it('refuses anything else, including an output name that would leave the job folder', () => {
    expect(() => parseMarker('{')).toThrow(/done\.json cannot be read \(it is not JSON\)/);
    expect(() => parseMarker(JSON.stringify({id: 'j', status: 'maybe', outputs: []}))).toThrow(/lacks id, status or outputs/);
    for (const file of ['../evil.png', 'a/b.png', '..']) {
      expect(() => parseMarker(JSON.stringify({id: 'j', status: 'success', outputs: [{file, bytes: 1, sha256: sha}]}))).toThrow(/not a plain file name/);
    }
  });
});
