// How provisioning reaches a new instance: a manifest URL as an env variable; a local manifest, its
// workflows and the script (vastdeck's own provision.sh unless one is hosted or given) as a bundle
// of instance variables; a bad manifest refused before anything is rented.
import {mkdirSync, mkdtempSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {unpackBundle} from '../../source/core/provisioning/bundle.js';
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

  it('ships a local manifest, its workflows and vastdeck\'s provision.sh in the create\'s variables, still booting the image', async () => {
    const dir = mkdtempSync(join(work, 'ship-'));
    mkdirSync(join(dir, 'flows'));
    writeFileSync(join(dir, 'flows', 'sd15.json'), '{"1": {"class_type": "SaveImage", "inputs": {}}}');
    const manifest = join(dir, 'manifest.json');
    writeFileSync(manifest, JSON.stringify({models: [{url: 'https://example.org/m.safetensors', folder: 'checkpoints'}], workflows: [{path: 'flows/sd15.json'}]}));
    const delivery = await provisioningDelivery(settings({provisioningManifest: manifest}));
    expect(delivery.onstart).toMatch(/^python3 -c '.*'; entrypoint\.sh$/);
    expect(delivery.onstart!.length).toBeLessThanOrEqual(4048);
    expect(delivery.extraEnv).toMatchObject({PROVISIONING_SCRIPT: '/opt/vastdeck/provision.sh', VASTDECK_MANIFEST: '/opt/vastdeck/manifest.json'});
    const files = unpackBundle(Object.entries(delivery.extraEnv!))!;
    expect(files['/opt/vastdeck/provision.sh']).toContain('[vastdeck] provisioning start version=%s manifest=%s');
    expect(JSON.parse(files['/opt/vastdeck/manifest.json']!).workflows).toEqual([{path: '/opt/vastdeck/workflows/sd15.json'}]);
    expect(files['/opt/vastdeck/workflows/sd15.json']).toContain('SaveImage');
  });

  it('leaves a hosted script to PROVISIONING_SCRIPT and ships only the manifest', async () => {
    const manifest = new URL('../../provisioning/manifest.example.json', import.meta.url).pathname;
    const delivery = await provisioningDelivery(settings({provisioningManifest: manifest, provisioningScriptUrl: 'https://example.org/provision.sh'}));
    expect(delivery.extraEnv?.PROVISIONING_SCRIPT).toBeUndefined();
    expect(Object.keys(unpackBundle(Object.entries(delivery.extraEnv!))!).sort()).toEqual(['/opt/vastdeck/manifest.json', '/opt/vastdeck/workflows/img2img-sdxl.json', '/opt/vastdeck/workflows/img2vid.json']);
  });

  it('refuses a bad manifest before anything is rented, naming each problem', async () => {
    const manifest = join(work, 'bad.json');
    writeFileSync(manifest, JSON.stringify({models: [{url: 'not a url', folder: 'nowhere'}]}));
    await expect(provisioningDelivery(settings({provisioningManifest: manifest}))).rejects.toThrow(/problems: .*url.*folder|problems: .*folder.*url/i);
  });

  it('ships a local script file in place of vastdeck\'s own', async () => {
    const small = join(work, 'small.sh');
    writeFileSync(small, '#!/bin/bash\necho hello from provisioning\n');
    const delivery = await provisioningDelivery(settings({provisioningScriptFile: small}));
    expect(unpackBundle(Object.entries(delivery.extraEnv!))).toEqual({'/opt/vastdeck/provision.sh': '#!/bin/bash\necho hello from provisioning\n'});
  });

  it('says which workflow of the manifest cannot be read', async () => {
    const manifest = join(work, 'missing-flow.json');
    writeFileSync(manifest, JSON.stringify({workflows: [{path: 'nowhere/x.json'}]}));
    await expect(provisioningDelivery(settings({provisioningManifest: manifest}))).rejects.toThrow(/^The manifest's workflow nowhere\/x\.json points at .*x\.json, which vastdeck cannot read: fix the path in the manifest/);
  });

  it('says which setting points at a missing file', async () => {
    await expect(provisioningDelivery(settings({provisioningManifest: join(work, 'missing.json')}))).rejects.toThrow(/instance\.provisioningManifest points at/);
  });
});
