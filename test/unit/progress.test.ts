import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {DownloadProgress, parseDurationSec, parseTransfer, STALL_NOTICE_MS} from '../../source/core/instances/progress.js';
import {BOOT_FIXTURES, readBootFixture} from '../helpers/boot-fixture.js';

const MiB = 2 ** 20;
const GiB = 2 ** 30;
// Lines as wget 1.21 draws them in the fixtures (sim-data/boot/*/var-log-provisioning.log).
const START = 'sd_xl_base_1.0.safetensors      0%[                                                  ]       0  --.-KB/s               ';
const FIRST_ETA = 'sd_xl_base_1.0.safetensors      0%[                                                  ]  51.18M  16.9MB/s    eta 6m 29s ';
const MIB_BAR = 'sd_xl_base_1.0.safetensors     12%[=====>                                            ] 813.54M  47.0MB/s    eta 2m 3s  ';
const FOUR_DIGITS = 'sd_xl_base_1.0.safetensors     15%[======>                                           ]   1016M  45.7MB/s    eta 1m 59s ';
const STALLING = 'sd_xl_base_1.0.safetensors     43%[====================>                             ]   2.81G  6.83MB/s    eta 3m 52s ';
const NO_DATA = 'sd_xl_base_1.0.safetensors     43%[====================>                             ]   2.81G  --.-KB/s    eta 3m 54s ';
const CUT_OFF = 'sd_xl_base_1.0.safetensors     43%[====================>                             ]   2.81G  --.-KB/s    in 3m 28s  ';
const RESUMED = 'sd_xl_base_1.0.safetensors     43%[+++++++++++++++++++++                             ]   2.81G  --.-KB/s               ';
const RESUMED_FLOWING = 'sd_xl_base_1.0.safetensors     43%[+++++++++++++++++++++                             ]   2.82G  16.4MB/s               ';
const DONE = 'sd_xl_base_1.0.safetensors    100%[+++++++++++++++++++++============================>]   6.46G  15.8MB/s    in 3m 47s  ';
const LORA_DONE = 'detail_tweaker_xl.safetensors 100%[=================================================>] 296.87M  13.6MB/s    in 22s     ';

describe('parseTransfer', () => {
  it('reads wget bars: binary sizes, MiB/s rates, ETA', () => {
    expect(parseTransfer(START)).toEqual({file: 'sd_xl_base_1.0.safetensors', pct: 0, bytesDone: 0, ended: false, resumed: false});
    expect(parseTransfer(FIRST_ETA)).toMatchObject({bytesDone: Math.round(51.18 * MiB), rateBytesPerSec: Math.round(16.9 * MiB), etaSec: 389});
    expect(parseTransfer(MIB_BAR)).toMatchObject({pct: 12, bytesDone: Math.round(813.54 * MiB), etaSec: 123});
    expect(parseTransfer(FOUR_DIGITS)).toMatchObject({bytesDone: 1016 * MiB, rateBytesPerSec: Math.round(45.7 * MiB)});
    expect(parseTransfer(NO_DATA)).toMatchObject({bytesDone: Math.round(2.81 * GiB), etaSec: 234});
    expect(parseTransfer(NO_DATA)!.rateBytesPerSec).toBeUndefined();
  });

  it('reads the last redraw: complete with its total, or cut off, and + cells as a resumed transfer', () => {
    expect(parseTransfer(LORA_DONE)).toEqual({
      file: 'detail_tweaker_xl.safetensors', pct: 100, bytesDone: Math.round(296.87 * MiB), bytesTotal: Math.round(296.87 * MiB),
      rateBytesPerSec: Math.round(13.6 * MiB), etaSec: 0, ended: true, resumed: false,
    });
    expect(parseTransfer(CUT_OFF)).toMatchObject({pct: 43, ended: true, resumed: false});
    expect(parseTransfer(CUT_OFF)!.bytesTotal).toBeUndefined();
    expect(parseTransfer(RESUMED)).toMatchObject({pct: 43, ended: false, resumed: true});
    expect(parseTransfer(DONE)).toMatchObject({pct: 100, bytesTotal: Math.round(6.46 * GiB), resumed: true});
  });

  it('reads tqdm bars (hf download on a terminal) in decimal units', () => {
    expect(parseTransfer('sd3.5_medium.safetensors:  43%|████▎     | 2.81G/6.46G [01:23<01:48, 33.6MB/s]')).toEqual({
      file: 'sd3.5_medium.safetensors', pct: 43, bytesDone: 2.81e9, bytesTotal: 6.46e9, rateBytesPerSec: 33.6e6, etaSec: 108, ended: false, resumed: false,
    });
    expect(parseTransfer('model.gguf: 100%|██████████| 512k/512k [00:00<00:00, 2.50MB/s]')).toMatchObject({bytesDone: 512e3, ended: true});
  });

  it('ignores lines that only look like progress', () => {
    for (const text of ['remote: Counting objects:  40% (515/1286)        ', '   ━━━━━━━━━━━━ 7.8/8.7 MB 46.5 MB/s eta 0:00:01', '100%|██████████| 20/20 [00:03<00:00,  5.81it/s]', 'Downloading: https://huggingface.co/x']) {
      expect(parseTransfer(text)).toBeUndefined();
    }
  });

  it('reads every wget bar of the recorded slow download', () => {
    const lines = readBootFixture(join(BOOT_FIXTURES, 'slow-resume', 'var-log-provisioning.log')).map(chunk => chunk.bytes.replace(/\n$/, ''));
    const bars = lines.filter(text => text.includes('safetensors') && text.includes('%['));
    expect(bars.length).toBeGreaterThan(1500);
    for (const bar of bars) expect(parseTransfer(bar), bar).toBeDefined();
  });
});

describe('parseDurationSec', () => {
  it.each([['2m 19s', 139], ['1s', 1], ['1h 5m', 3900], ['2d 3h', 183_600], ['9.6s', 9.6], ['01:48', 108], ['1:02:03', 3723]])('%s → %d s', (text, seconds) => {
    expect(parseDurationSec(text)).toBeCloseTo(seconds, 6);
  });
});

describe('DownloadProgress', () => {
  it('counts files from the batch announcements and completed bars, ignoring repeated lines', () => {
    const downloads = new DownloadProgress();
    downloads.announceBatch('/workspace/ComfyUI/models/checkpoints', 1, 0);
    downloads.announceBatch('/workspace/ComfyUI/models/checkpoints', 1, 0);
    expect(downloads.announceFile('https://huggingface.co/x/resolve/main/sd_xl_base_1.0.safetensors', 1, true)).toBeUndefined();
    expect(downloads.snapshot()).toEqual({file: 'sd_xl_base_1.0.safetensors', pct: 0, bytesDone: 0, stalled: false, resumed: false, filesDone: 0, filesTotal: 1});
    downloads.update(parseTransfer(MIB_BAR)!, 2);
    downloads.update(parseTransfer(MIB_BAR)!, 2);
    downloads.update(parseTransfer(DONE)!, 3);
    downloads.update(parseTransfer(DONE)!, 3);
    downloads.announceBatch('/workspace/ComfyUI/models/lora', 1, 4);
    expect(downloads.snapshot()).toMatchObject({pct: 100, filesDone: 1, filesTotal: 2, bytesTotal: Math.round(6.46 * GiB)});
    expect(downloads.transferring).toBe(false);
  });

  it('ignores a stale copy of an earlier bar (the onstart.log copy arriving late)', () => {
    const downloads = new DownloadProgress();
    downloads.update(parseTransfer(FOUR_DIGITS)!, 1000);
    downloads.update(parseTransfer(MIB_BAR)!, 1001);
    expect(downloads.snapshot()).toMatchObject({pct: 15, bytesDone: 1016 * MiB});
  });

  it('marks a stall when wget shows no rate any more, and a resume when it comes back with a range request', () => {
    const downloads = new DownloadProgress();
    downloads.update(parseTransfer(STALLING)!, 220_000);
    expect(downloads.snapshot()!.stalled).toBe(false);
    downloads.update(parseTransfer(NO_DATA)!, 221_600);
    expect(downloads.snapshot()!.stalled).toBe(true);
    expect(downloads.update(parseTransfer(CUT_OFF)!, 249_900)).toMatch(/cut off at 43 %/);
    expect(downloads.snapshot()).toMatchObject({stalled: true, resumed: false});
    expect(downloads.transferring).toBe(true);
    downloads.update(parseTransfer(RESUMED)!, 251_500);
    expect(downloads.snapshot()).toMatchObject({stalled: false, resumed: true});
    expect(downloads.lastGrowthAtMs).toBe(251_500);
    downloads.update(parseTransfer(RESUMED_FLOWING)!, 252_300);
    expect(downloads.lastGrowthAtMs).toBe(252_300);
  });

  it('marks a stall when the bar stops being redrawn at all', () => {
    const downloads = new DownloadProgress();
    downloads.update(parseTransfer(MIB_BAR)!, 0);
    expect(downloads.refresh(STALL_NOTICE_MS - 1)).toBe(false);
    expect(downloads.refresh(STALL_NOTICE_MS)).toBe(true);
    expect(downloads.snapshot()!.stalled).toBe(true);
  });

  it('warns when a wget download announced by URL never drew a bar (wget -q is silent on HTTP 401)', () => {
    const downloads = new DownloadProgress();
    downloads.announceFile('https://civitai.com/api/download/models/1765432', 0, true);
    expect(downloads.settle()).toMatch(/No download progress was shown for https:\/\/civitai\.com\/api\/download\/models\/1765432: .*401/);
    expect(downloads.settle()).toBeUndefined();
    downloads.announceFile('stabilityai/stable-diffusion-3.5-medium/sd3.5_medium.safetensors', 1, false);
    expect(downloads.settle()).toBeUndefined();
  });
});
