// Validate before spending: every check that can be made on this machine runs before any create
// call, in every front end (dashboard keys, `up`, `run`, the OnStart method). Bad input costs
// nothing: each problem is one InputError sentence naming the thing and the fix.
import {randomBytes} from 'node:crypto';
import {mkdir, rm, writeFile} from 'node:fs/promises';
import {join, resolve} from 'node:path';
import {inspectInputImage, type ImageInfo} from '../comfy/image-file.js';
import type {JobSpec} from '../comfy/types.js';
import {loadWorkflow, validateJobSpec} from '../comfy/workflow.js';
import {InputError} from '../errors.js';
import {provisioningDelivery, type ProvisioningDelivery} from '../provisioning/delivery.js';
import type {VastdeckSettings} from '../settings.js';
import {requireSshIdentity, type SshIdentity} from '../ssh/keys.js';
import {tildePath} from '../credentials.js';

export const MAX_JOB_COUNT = 1000;

export interface ValidJob {
  /** The spec with its image path made absolute. */
  spec: JobSpec;
  image: ImageInfo;
}

/**
 * The job as the queue will run it: workflow found and in API format, the manifest's bindings
 * present, the fields within the manifest's ranges, the image a whole PNG/JPEG/WebP under the size
 * limit, and the outputs folder writable.
 */
export async function validateJob(spec: JobSpec, options: {outputsRoot: string; count?: number}): Promise<ValidJob> {
  const count = options.count ?? 1;
  if (!Number.isInteger(count) || count < 1 || count > MAX_JOB_COUNT) throw new InputError(`The job count must be a whole number from 1 to ${MAX_JOB_COUNT}, got ${count}.`);
  if (spec.imagePath.trim() === '') throw new InputError('The job needs an input image: give the path of a PNG, JPEG or WebP file.');
  const loaded = await loadWorkflow(spec.workflow);
  const absolute = {...spec, imagePath: resolve(spec.imagePath)};
  const image = await inspectInputImage(absolute.imagePath);
  validateJobSpec(loaded, absolute);
  await checkWritableFolder(options.outputsRoot);
  return {spec: absolute, image};
}

/** Creates the folder if needed and writes (then removes) a probe file in it. */
export async function checkWritableFolder(folder: string): Promise<void> {
  const probe = join(folder, `.vastdeck-write-check-${randomBytes(4).toString('hex')}`);
  try {
    await mkdir(folder, {recursive: true});
    await writeFile(probe, '');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unknown error';
    throw new InputError(
      `The outputs folder ${tildePath(folder)} cannot be written (${code}): fix its permissions or free some space, or choose another with \`vastdeck config set outputsDir <folder>\`.`,
    );
  } finally {
    await rm(probe, {force: true}).catch(() => {});
  }
}

export interface RentReadiness {
  identity: SshIdentity;
  provisioning: ProvisioningDelivery;
}

/**
 * What a create needs that can be checked here: an SSH key (ours is created on request), the
 * provisioning manifest and script valid and deliverable (with the autostop watchdog, which calls
 * `apiBase`), and the instance settings sane.
 */
export async function checkRentReadiness(settings: VastdeckSettings, options: {createKey?: boolean; env?: NodeJS.ProcessEnv; apiBase?: string}): Promise<RentReadiness> {
  if (!settings.instance.image.trim()) throw new InputError('instance.image is empty: set the Docker image with `vastdeck config set instance.image vastai/comfyui:@vastai-automatic-tag`.');
  const provisioning = await provisioningDelivery(settings, {apiBase: options.apiBase});
  const identity = await requireSshIdentity({createKey: options.createKey === true, env: options.env});
  return {identity, provisioning};
}
