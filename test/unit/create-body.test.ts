// The PUT /asks/{id}/ body for a ComfyUI instance: Vast's template conventions, the env dict form,
// SageAttention only from sm_80, tokens passed through, Vast's size limits.
import {describe, expect, it} from 'vitest';
import {InputError} from '../../source/core/errors.js';
import {buildCreateBody, newLabel, newWebPassword, PORTAL_CONFIG} from '../../source/core/instances/create-body.js';
import {DEFAULT_SETTINGS, type VastdeckSettings} from '../../source/core/settings.js';
import {makeOffer} from '../helpers/offer-fixture.js';

const PASSWORD = 'pw-ABCdef0123456789_-ABCdef012345';

function envOf(body: Record<string, unknown>): Record<string, string> {
  return body.env as Record<string, string>;
}

function withScript(url: string): VastdeckSettings {
  return {...DEFAULT_SETTINGS, instance: {...DEFAULT_SETTINGS.instance, provisioningScriptUrl: url}};
}

describe('buildCreateBody', () => {
  it("follows Vast's ComfyUI template, with the env as a dict", () => {
    const body = buildCreateBody({offer: makeOffer({id: 1, computeCap: 750}), settings: DEFAULT_SETTINGS, label: 'vastdeck:abc123', webPassword: PASSWORD, env: {}});
    expect(body).toEqual({
      client_id: 'me',
      image: 'vastai/comfyui:@vastai-automatic-tag',
      disk: DEFAULT_SETTINGS.instance.diskGb,
      label: 'vastdeck:abc123',
      runtype: 'jupyter_direct',
      onstart: 'entrypoint.sh',
      jupyter_dir: '/',
      use_jupyter_lab: false,
      cancel_unavail: true,
      env: {
        '-p 1111:1111': '1',
        '-p 8080:8080': '1',
        '-p 8188:8188': '1',
        '-p 8288:8288': '1',
        OPEN_BUTTON_PORT: '1111',
        OPEN_BUTTON_TOKEN: '1',
        WEB_PASSWORD: PASSWORD,
        PORTAL_CONFIG,
        COMFYUI_ARGS: '--disable-auto-launch --port 18188 --enable-cors-header',
        DATA_DIRECTORY: '/workspace/',
      },
    });
    expect(PORTAL_CONFIG.split('|')).toContain('localhost:8188:18188:/:ComfyUI');
  });

  it('adds --use-sage-attention only from compute capability 8.0', () => {
    const args = (computeCap: number): string =>
      envOf(buildCreateBody({offer: makeOffer({id: 1, computeCap}), settings: DEFAULT_SETTINGS, label: 'vastdeck:x', webPassword: PASSWORD})).COMFYUI_ARGS!;
    expect(args(750)).not.toContain('sage');
    expect(args(799)).not.toContain('sage');
    expect(args(800)).toBe('--disable-auto-launch --port 18188 --enable-cors-header --use-sage-attention');
    expect(args(890)).toContain('--use-sage-attention');
  });

  it('passes HF_TOKEN and CIVITAI_TOKEN through only when set, and the provisioning script only when configured', () => {
    const bare = envOf(buildCreateBody({offer: makeOffer({id: 1}), settings: DEFAULT_SETTINGS, label: 'vastdeck:x', webPassword: PASSWORD, env: {HF_TOKEN: ' ', OTHER: 'x'}}));
    expect(bare).not.toHaveProperty('HF_TOKEN');
    expect(bare).not.toHaveProperty('CIVITAI_TOKEN');
    expect(bare).not.toHaveProperty('OTHER');
    expect(bare).not.toHaveProperty('PROVISIONING_SCRIPT');
    const full = envOf(
      buildCreateBody({
        offer: makeOffer({id: 1}),
        settings: withScript('https://example.org/provision.sh'),
        label: 'vastdeck:x',
        webPassword: PASSWORD,
        env: {HF_TOKEN: 'hf_secret', CIVITAI_TOKEN: 'civ_secret'},
      }),
    );
    expect(full).toMatchObject({HF_TOKEN: 'hf_secret', CIVITAI_TOKEN: 'civ_secret', PROVISIONING_SCRIPT: 'https://example.org/provision.sh'});
  });

  it('takes a custom onstart and extra variables', () => {
    const body = buildCreateBody({offer: makeOffer({id: 1}), settings: DEFAULT_SETTINGS, label: 'vastdeck:x', webPassword: PASSWORD, onstart: 'entrypoint.sh; run-job', extraEnv: {JOB: 'j1'}});
    expect(body.onstart).toBe('entrypoint.sh; run-job');
    expect(envOf(body).JOB).toBe('j1');
  });

  it("refuses a variable over Vast's 256 characters, naming it but not its value", () => {
    const url = `https://example.org/${'a'.repeat(260)}.sh`;
    const build = (): unknown => buildCreateBody({offer: makeOffer({id: 1}), settings: withScript(url), label: 'vastdeck:x', webPassword: PASSWORD});
    expect(build).toThrow(InputError);
    expect(build).toThrow(/PROVISIONING_SCRIPT is \d+ characters/);
    try {
      build();
    } catch (error) {
      expect((error as Error).message).not.toContain(url);
    }
  });

  it('refuses more than 32768 characters of variables in total', () => {
    const extraEnv = Object.fromEntries(Array.from({length: 140}, (_, index) => [`VAR_${index}`, 'x'.repeat(240)]));
    expect(() => buildCreateBody({offer: makeOffer({id: 1}), settings: DEFAULT_SETTINGS, label: 'vastdeck:x', webPassword: PASSWORD, extraEnv})).toThrow(
      /add up to \d+ characters, over Vast.ai's 32768/,
    );
  });

  it('refuses an onstart script over the documented limit', () => {
    expect(() => buildCreateBody({offer: makeOffer({id: 1}), settings: DEFAULT_SETTINGS, label: 'vastdeck:x', webPassword: PASSWORD, onstart: 'x'.repeat(5000)})).toThrow(
      /onstart script is 5000 characters/,
    );
  });

  it('keeps the secrets in env values only', () => {
    const body = buildCreateBody({
      offer: makeOffer({id: 1}),
      settings: DEFAULT_SETTINGS,
      label: 'vastdeck:x',
      webPassword: PASSWORD,
      env: {HF_TOKEN: 'hf_secret', CIVITAI_TOKEN: 'civ_secret'},
    });
    const {env, ...rest} = body;
    const outside = JSON.stringify(rest) + JSON.stringify(Object.keys(env as object));
    for (const secret of [PASSWORD, 'hf_secret', 'civ_secret']) expect(outside).not.toContain(secret);
  });
});

describe('newWebPassword and newLabel', () => {
  it('makes 32 URL-safe random characters, different each time', () => {
    const passwords = new Set(Array.from({length: 50}, () => newWebPassword()));
    expect(passwords.size).toBe(50);
    for (const password of passwords) expect(password).toMatch(/^[A-Za-z0-9_-]{32}$/);
  });

  it('labels with the vastdeck: prefix', () => {
    expect(newLabel('3fa9c1d2')).toBe('vastdeck:3fa9c1d2');
  });
});
