// How provisioning reaches a new instance: a manifest URL as an env variable, a local manifest (and
// a small local script) inline in onstart, a bad manifest refused before anything is rented, and
// a script too big for Vast's onstart limit refused with the way out (host it).
import {mkdtempSync, readFileSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {provisioningDelivery} from '../../source/core/provisioning/delivery.js';
import {DEFAULT_SETTINGS, type VastdeckSettings} from '../../source/core/settings.js';

const work = mkdtempSync(join(tmpdir(), 'vastdeck-delivery-'));

function settings(instance: Partial<VastdeckSettings['instance']>): VastdeckSettings {
  return {...DEFAULT_SETTINGS, instance: {...DEFAULT_SETTINGS.instance, ...instance}};
}

describe('provisioning delivery', () => {
  it('sends nothing extra when no manifest or script file is set', async () => {
    expect(await provisioningDelivery(DEFAULT_SETTINGS)).toEqual({});
  });

  it('passes a manifest URL through the environment', async () => {
    const delivery = await provisioningDelivery(settings({provisioningManifest: 'https://example.org/manifest.json', provisioningScriptUrl: 'https://example.org/provision.sh'}));
    expect(delivery).toEqual({extraEnv: {VASTDECK_MANIFEST_URL: 'https://example.org/manifest.json'}});
  });

  it('sends a local manifest inline in onstart, still booting the image', async () => {
    const manifest = join(work, 'manifest.json');
    writeFileSync(manifest, readFileSync(new URL('../../provisioning/manifest.example.json', import.meta.url)));
    const delivery = await provisioningDelivery(settings({provisioningManifest: manifest, provisioningScriptUrl: 'https://example.org/provision.sh'}));
    expect(delivery.onstart).toContain('entrypoint.sh');
    expect(delivery.onstart!.length).toBeLessThanOrEqual(4048);
    expect(delivery.extraEnv?.VASTDECK_MANIFEST).toBeDefined();
  });

  it('refuses a bad manifest before anything is rented, naming each problem', async () => {
    const manifest = join(work, 'bad.json');
    writeFileSync(manifest, JSON.stringify({models: [{url: 'not a url', folder: 'nowhere'}]}));
    await expect(provisioningDelivery(settings({provisioningManifest: manifest}))).rejects.toThrow(/problems: .*url.*folder|problems: .*folder.*url/i);
  });

  it('sends a small local script inline and refuses one too big for onstart', async () => {
    const small = join(work, 'small.sh');
    writeFileSync(small, '#!/bin/bash\necho hello from provisioning\n');
    const delivery = await provisioningDelivery(settings({provisioningScriptFile: small}));
    expect(delivery.extraEnv?.PROVISIONING_SCRIPT).toBeDefined();
    const big = new URL('../../provisioning/provision.sh', import.meta.url).pathname;
    await expect(provisioningDelivery(settings({provisioningScriptFile: big}))).rejects.toThrow(/host provision\.sh/);
  });

  it('says which setting points at a missing file', async () => {
    await expect(provisioningDelivery(settings({provisioningManifest: join(work, 'missing.json')}))).rejects.toThrow(/instance\.provisioningManifest points at/);
  });
});
