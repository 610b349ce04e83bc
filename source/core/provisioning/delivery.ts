// How a new instance gets its provisioning, decided once before the create: the manifest is read
// and validated (one sentence per problem) before anything is rented; a manifest URL travels as
// VASTDECK_MANIFEST_URL; a local manifest (and a local script, when no script URL is set) travels
// inline in onstart when it fits Vast's limit, else the user is told to host it.
import {readFile} from 'node:fs/promises';
import {InputError} from '../errors.js';
import type {VastdeckSettings} from '../settings.js';
import {inlineProvisioning, parseManifest} from './manifest.js';

export interface ProvisioningDelivery {
  onstart?: string;
  extraEnv?: Record<string, string>;
}

const URL_PATTERN = /^https?:\/\//;

export async function provisioningDelivery(settings: VastdeckSettings): Promise<ProvisioningDelivery> {
  const {provisioningManifest, provisioningScriptFile, provisioningScriptUrl} = settings.instance;
  if (!provisioningManifest && !provisioningScriptFile) return {};
  if (provisioningManifest && URL_PATTERN.test(provisioningManifest)) {
    if (provisioningScriptFile && !provisioningScriptUrl) {
      throw new InputError('instance.provisioningScriptFile is sent inline only with a local manifest: host the script (instance.provisioningScriptUrl) or use a local instance.provisioningManifest.');
    }
    return {extraEnv: {VASTDECK_MANIFEST_URL: provisioningManifest}};
  }
  const manifestText = provisioningManifest ? await readText(provisioningManifest, 'instance.provisioningManifest') : '{}';
  const check = parseManifest(manifestText);
  if (!check.ok) {
    throw new InputError(`The provisioning manifest ${provisioningManifest || '(none)'} has problems: ${check.problems.join('; ')}`);
  }
  const scriptText = provisioningScriptFile && !provisioningScriptUrl ? await readText(provisioningScriptFile, 'instance.provisioningScriptFile') : null;
  const inline = inlineProvisioning(scriptText, check.manifest);
  if (!inline.fits) throw new InputError(inline.reason);
  return {onstart: inline.onstart, extraEnv: inline.env};
}

async function readText(path: string, setting: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    throw new InputError(`${setting} points at ${path}, which vastdeck cannot read: fix the path with \`vastdeck config set ${setting} <file>\`.`);
  }
}
