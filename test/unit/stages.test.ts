import {describe, expect, it} from 'vitest';
import {EVIDENCE} from '../../source/core/instances/log-patterns.js';
import {DEFAULT_STAGE_TIMEOUTS_MS, OUTCOME_GRACE_MS, type Stage, type StageState, StageTracker} from '../../source/core/instances/stages.js';
import {LineSplitter} from '../../source/core/ssh/line-splitter.js';
import {type BootChunk, PORTAL_LOGS, tailMerge, tailWrites, withTailHeaders} from '../helpers/boot-fixture.js';

const MiB = 2 ** 20;
const GiB = 2 ** 30;
const PROBE_DELAY_MS = 500;
const PROVISIONING_LOG = '/var/log/portal/provisioning.log';
const COMFYUI_LOG = '/var/log/portal/comfyui.log';

interface Replay {
  final: StageState;
  /** Every distinct snapshot, with the time it appeared. */
  samples: Array<{tMs: number; state: StageState}>;
}

/**
 * What the monitor will do: the tail -F stream chunk by chunk through a LineSplitter into a
 * StageTracker, Vast's status every 10 s, timeouts checked as time passes, failing probes
 * (502) every 5 s until ComfyUI says it listens, then one that succeeds half a second later.
 */
function replay(chunks: readonly BootChunk[], options: {feedEachLine?: number} = {}): Replay {
  const splitter = new LineSplitter();
  const tracker = new StageTracker({createdAtMs: 0});
  const samples: Replay['samples'] = [];
  let nextStatusMs = 0;
  let nextProbeMs = 5000;
  let probeOkAtMs: number | undefined;
  const record = (tMs: number): void => {
    const state = tracker.snapshot();
    if (samples.at(-1)?.state !== state) samples.push({tMs, state});
  };
  const advanceTo = (nowMs: number): void => {
    for (; nextStatusMs <= nowMs; nextStatusMs += 10_000) {
      tracker.feedStatus({actualStatus: 'running', intendedStatus: 'running', statusMsg: 'success, running vastai/comfyui/jupyter', atMs: nextStatusMs});
    }
    for (; probeOkAtMs === undefined && nextProbeMs <= nowMs; nextProbeMs += 5000) tracker.feedProbe({ok: false, status: 502, atMs: nextProbeMs});
    if (probeOkAtMs !== undefined && probeOkAtMs <= nowMs) {
      tracker.feedProbe({ok: true, status: 200, atMs: probeOkAtMs});
      probeOkAtMs = Number.POSITIVE_INFINITY;
    }
    tracker.checkTimeouts(nowMs);
    record(nowMs);
  };
  for (const chunk of chunks) {
    advanceTo(chunk.tMs);
    for (const line of splitter.push(Buffer.from(chunk.bytes))) {
      if (line.notice) continue;
      for (let n = 0; n < (options.feedEachLine ?? 1); n++) tracker.feedLine(line.file ?? '', line.text, chunk.tMs);
    }
    record(chunk.tMs);
    if (probeOkAtMs === undefined && tracker.snapshot().appListening) probeOkAtMs = chunk.tMs + PROBE_DELAY_MS;
  }
  advanceTo(chunks.at(-1)!.tMs + 60_000);
  return {final: tracker.snapshot(), samples};
}

const stagesOf = (state: StageState): Array<[Stage, number]> => state.timeline.map(entry => [entry.stage, entry.atMs]);
const firstSample = (run: Replay, test: (state: StageState) => boolean): {tMs: number; state: StageState} | undefined => run.samples.find(sample => test(sample.state));

describe('StageTracker on the recorded first boots (README §4)', () => {
  it('happy: INITIALIZING → PROVISIONING → DOWNLOADING → STARTING_APP → READY at the README times', () => {
    const run = replay(tailMerge('happy'));
    expect(stagesOf(run.final)).toEqual([
      ['INITIALIZING', 0],
      ['PROVISIONING', 8833], // the boot banner in onstart.log
      ['DOWNLOADING', 40_852], // `Downloading 1 model(s) to …/checkpoints...`
      ['STARTING_APP', 196_151], // `[INFO] Provisioning complete!`
      ['READY', 214_824 + PROBE_DELAY_MS], // the probe after `To see the GUI go to:`
    ]);
    expect(firstSample(run, state => state.evidence.startsWith('CUDA 12.9 selected'))?.tMs).toBe(1500);
    expect(run.final.timeline[1]!.evidence).toMatch(/^\* Provisioning instance with manifest from \/provisioning\.yaml/);
    expect(run.final.timeline[3]!.evidence).toBe('2026-09-14 10:05:19 [INFO] Provisioning complete!');
    expect(firstSample(run, state => state.appListening)?.tMs).toBe(214_824);
    expect(run.final).toMatchObject({stage: 'READY', warnings: [], provisioningFailed: false, appListening: true});
    expect(run.final.failure).toBeUndefined();
  });

  it('happy: download progress reaches 100 % for both files, with bytes and rate', () => {
    const run = replay(tailMerge('happy'));
    const checkpoint = firstSample(run, state => state.download?.file === 'sd_xl_base_1.0.safetensors' && state.download.pct === 100);
    expect(checkpoint?.tMs).toBe(185_189);
    expect(checkpoint!.state.download).toMatchObject({bytesDone: Math.round(6.46 * GiB), bytesTotal: Math.round(6.46 * GiB), rateBytesPerSec: Math.round(44.6 * MiB), etaSec: 0, filesDone: 1, filesTotal: 1, stalled: false});
    const midway = firstSample(run, state => state.download?.etaSec !== undefined && state.download.pct === 50);
    expect(midway!.state.download).toMatchObject({file: 'sd_xl_base_1.0.safetensors', stalled: false});
    expect(midway!.state.download!.rateBytesPerSec! / MiB).toBeGreaterThan(40);
    expect(midway!.state.download!.bytesDone / GiB).toBeCloseTo(3.23, 1);
    expect(run.final.download).toMatchObject({file: 'detail_tweaker_xl.safetensors', pct: 100, bytesDone: Math.round(296.87 * MiB), rateBytesPerSec: Math.round(31 * MiB), filesDone: 2, filesTotal: 2});
    expect(run.samples.some(sample => sample.state.download?.stalled)).toBe(false);
  });

  it('failure: FAILED with the final provisioner line and an HF_TOKEN suggestion, never READY though ComfyUI comes up', () => {
    const run = replay(tailMerge('failure'));
    expect(stagesOf(run.final)).toEqual([['INITIALIZING', 0], ['PROVISIONING', 8681], ['DOWNLOADING', 40_726], ['FAILED', 112_079]]);
    expect(run.final.failure).toEqual({
      reason: 'Provisioning failed: the provisioner gave up after 3 attempts (Hugging Face refused the download: the model repository is gated)',
      evidence: '2026-09-14 10:03:55 [ERROR] All 3 attempts exhausted',
      suggestion: expect.stringContaining('HF_TOKEN'),
    });
    expect(run.final.failure!.suggestion).toMatch(/licence/);
    expect(run.final).toMatchObject({stage: 'FAILED', provisioningFailed: true, appListening: true});
    expect(firstSample(run, state => state.appListening)?.tMs).toBe(129_709);
    expect(run.samples.some(sample => sample.state.stage === 'READY')).toBe(false);
    expect(run.final.warnings).toEqual([
      'Provisioning attempt 1/3 failed; the provisioner retries in 30 s (Hugging Face refused the download: the model repository is gated)',
      'Provisioning attempt 2/3 failed; the provisioner retries in 30 s (Hugging Face refused the download: the model repository is gated)',
    ]);
    // Between attempts the stage stays where it was: stages only move forward.
    expect(firstSample(run, state => state.warnings.length === 1)?.state.stage).toBe('DOWNLOADING');
  });

  it('failure seen only through comfyui.log (no provisioner line): FAILED when ComfyUI starts after the script failed', () => {
    const run = replay(tailMerge('failure', [PORTAL_LOGS[1]!]));
    expect(run.final.stage).toBe('FAILED');
    expect(run.final.sinceMs).toBe(118_357); // `[START] Security scan`
    expect(run.final.failure).toMatchObject({evidence: '[2026-09-14 10:03:55] [ERROR] Provisioning Script failed at line 61 with exit code 1', suggestion: expect.stringContaining('HF_TOKEN')});
    expect(run.final.provisioningFailed).toBe(true);
  });

  it('slow-resume: stalled during the stall, resumed after the range request, READY at the end', () => {
    const run = replay(tailMerge('slow-resume'));
    expect(stagesOf(run.final)).toEqual([['INITIALIZING', 0], ['PROVISIONING', 8953], ['DOWNLOADING', 41_082], ['STARTING_APP', 501_657], ['READY', 520_292 + PROBE_DELAY_MS]]);
    const stalled = run.samples.filter(sample => sample.state.download?.stalled).map(sample => sample.tMs);
    expect(stalled[0]).toBe(221_627); // the first `--.-KB/s` after progress had started
    expect(stalled.at(-1)).toBeLessThan(251_471);
    const resumed = firstSample(run, state => state.download?.resumed === true);
    expect(resumed?.tMs).toBe(251_471);
    expect(resumed!.state.download).toMatchObject({pct: 43, bytesDone: Math.round(2.81 * GiB), stalled: false});
    expect(firstSample(run, state => state.download?.pct === 100)!.state.download).toMatchObject({resumed: true, bytesDone: Math.round(6.46 * GiB), filesDone: 1});
    expect(run.final.warnings).toEqual(['The download of sd_xl_base_1.0.safetensors was cut off at 43 %; wget retries with a range request.']);
    expect(run.final.download).toMatchObject({file: 'detail_tweaker_xl.safetensors', pct: 100, filesDone: 2, filesTotal: 2, stalled: false});
  });

  it('gives the same result when every line arrives twice', () => {
    for (const scenario of ['happy', 'failure', 'slow-resume']) {
      const once = replay(tailMerge(scenario)).final;
      const twice = replay(tailMerge(scenario), {feedEachLine: 2}).final;
      expect(twice).toEqual(once);
    }
  });

  it.each([
    ['happy', 'READY', 196_151 + 30_000],
    ['failure', 'FAILED', 118_357],
  ])('%s with provisioning.log arriving 30 s late: waits for the outcome, ends %s at %d', (scenario, stage, atMs) => {
    const writes = tailWrites(scenario, PORTAL_LOGS.slice(0, 2)).map(write => (write.path === PROVISIONING_LOG ? {...write, tMs: write.tMs + 30_000} : write));
    writes.sort((a, b) => a.tMs - b.tMs);
    const run = replay(withTailHeaders(writes));
    expect(run.final.stage).toBe(stage);
    expect(run.final.sinceMs).toBe(atMs);
    expect(run.samples.some(sample => sample.state.stage === 'READY' && sample.tMs < 226_151)).toBe(false);
  });
});

const PROVISIONER_START = '2026-09-14 10:02:12 [INFO] Provisioner starting (version 1)';
const COMPLETE = '2026-09-14 10:05:19 [INFO] Provisioning complete!';
const GUI = 'To see the GUI go to: http://127.0.0.1:18188';
const BAR = 'sd_xl_base_1.0.safetensors     43%[====================>                             ]   2.81G  16.6MB/s    eta 3m 48s ';
const MINUTE = 60_000;

function trackerAt(stage: Stage, options: ConstructorParameters<typeof StageTracker>[0] = {createdAtMs: 0}): StageTracker {
  const tracker = new StageTracker(options);
  tracker.feedStatus({actualStatus: 'running', intendedStatus: 'running', atMs: 1000});
  if (stage === 'INITIALIZING') return tracker;
  tracker.feedLine(PROVISIONING_LOG, PROVISIONER_START, 9000);
  if (stage === 'PROVISIONING') return tracker;
  tracker.feedLine(PROVISIONING_LOG, 'Downloading 1 model(s) to /workspace/ComfyUI/models/checkpoints...', 40_000);
  tracker.feedLine(PROVISIONING_LOG, BAR, 41_000);
  if (stage === 'DOWNLOADING') return tracker;
  tracker.feedLine(PROVISIONING_LOG, COMPLETE, 200_000);
  return tracker;
}

describe('StageTracker rules', () => {
  it('never goes READY on a successful probe alone: without a log line it waits, then fails with the reason', () => {
    const tracker = new StageTracker({createdAtMs: 0});
    tracker.feedStatus({actualStatus: 'running', intendedStatus: 'running', atMs: 30_000});
    tracker.feedProbe({ok: false, status: 502, atMs: 60_000});
    expect(tracker.snapshot().stage).toBe('INITIALIZING');
    tracker.feedProbe({ok: true, status: 200, atMs: 90_000});
    expect(tracker.snapshot()).toMatchObject({stage: 'STARTING_APP', appListening: true});
    tracker.checkTimeouts(90_000 + OUTCOME_GRACE_MS + 1000);
    expect(tracker.snapshot().stage).toBe('STARTING_APP');
    tracker.checkTimeouts(90_000 + DEFAULT_STAGE_TIMEOUTS_MS.STARTING_APP);
    expect(tracker.snapshot()).toMatchObject({stage: 'FAILED', failure: {reason: expect.stringMatching(/no line of the instance logs arrived over SSH/)}});
  });

  it('ends FAILED, not READY, when ComfyUI answers but the logs cannot be read (a changed host key)', () => {
    const tracker = new StageTracker({createdAtMs: 0});
    tracker.feedStatus({actualStatus: 'running', intendedStatus: 'running', atMs: 30_000});
    tracker.feedLogAccess("The SSH host key of instance 7 changed since vastdeck first connected: run `vastdeck ssh-forget 7` if it was recreated.", 40_000);
    tracker.feedProbe({ok: true, status: 200, atMs: 90_000});
    const snapshot = tracker.snapshot();
    expect(snapshot.stage).toBe('FAILED');
    expect(snapshot.failure?.reason).toMatch(/cannot read the instance's logs \(The SSH host key of instance 7 changed/);
    expect(snapshot.failure?.suggestion).toMatch(/watch ID` again/);
    expect(snapshot.timeline.map(step => step.stage)).not.toContain('READY');
  });

  it('fails an instance that answers and then loses log access before provisioning is confirmed', () => {
    const tracker = trackerAt('PROVISIONING');
    tracker.feedProbe({ok: true, status: 200, atMs: 300_000});
    expect(tracker.snapshot().stage).toBe('STARTING_APP');
    tracker.feedLogAccess('the instance refused your SSH key', 301_000);
    expect(tracker.snapshot().stage).toBe('FAILED');
  });

  it('ends FAILED when the instance leaves the account during the boot', () => {
    const tracker = trackerAt('PROVISIONING');
    tracker.feedGone(310_000);
    expect(tracker.snapshot()).toMatchObject({stage: 'FAILED', failure: {reason: expect.stringMatching(/no longer on the account/)}});
  });

  it('takes the GUI line as "listening", not READY', () => {
    const tracker = trackerAt('STARTING_APP');
    tracker.feedLine(COMFYUI_LOG, GUI, 214_000);
    expect(tracker.snapshot()).toMatchObject({stage: 'STARTING_APP', appListening: true});
  });

  it('goes READY after a grace period when the logs never say how provisioning ended, and FAILED if they say it late', () => {
    const tracker = trackerAt('PROVISIONING');
    tracker.feedLine(COMFYUI_LOG, GUI, 100_000);
    tracker.feedProbe({ok: true, status: 200, atMs: 100_500});
    tracker.checkTimeouts(100_500 + OUTCOME_GRACE_MS - 1);
    expect(tracker.snapshot().stage).toBe('STARTING_APP');
    tracker.checkTimeouts(100_500 + OUTCOME_GRACE_MS);
    expect(tracker.snapshot()).toMatchObject({stage: 'READY', warnings: [expect.stringMatching(/never said how provisioning ended/)]});
    tracker.feedLine(PROVISIONING_LOG, '2026-09-14 10:03:55 [ERROR] All 3 attempts exhausted', 140_000);
    expect(tracker.snapshot()).toMatchObject({stage: 'FAILED', provisioningFailed: true});
  });

  it('fails at once on a truncated model file, even when READY', () => {
    const tracker = trackerAt('STARTING_APP');
    tracker.feedProbe({ok: true, status: 200, atMs: 215_000});
    tracker.feedLine(COMFYUI_LOG, 'safetensors_rust.SafetensorError: Error while deserializing header: MetadataIncompleteBuffer', 300_000);
    expect(tracker.snapshot().failure).toMatchObject({reason: expect.stringMatching(/truncated/), suggestion: expect.stringMatching(/download it again/)});
  });

  it('warns when a wget download printed nothing (wget -q on HTTP 401)', () => {
    const tracker = trackerAt('PROVISIONING');
    tracker.feedLine(PROVISIONING_LOG, 'Downloading 1 model(s) to /workspace/ComfyUI/models/lora...', 40_000);
    tracker.feedLine(PROVISIONING_LOG, 'Downloading: https://civitai.com/api/download/models/1765432?type=Model&format=SafeTensor', 40_001);
    tracker.feedLine(PROVISIONING_LOG, COMPLETE, 41_000);
    expect(tracker.snapshot()).toMatchObject({stage: 'STARTING_APP', warnings: [expect.stringMatching(/^No download progress was shown for https:\/\/civitai\.com/)]});
  });

  it('warns when the portal refuses the probe token', () => {
    const tracker = trackerAt('STARTING_APP');
    tracker.feedProbe({ok: false, status: 401, atMs: 215_000});
    expect(tracker.snapshot().warnings).toEqual([expect.stringMatching(/refused the ComfyUI probe \(HTTP 401\)/)]);
  });

  it('ignores evidence from files it does not know, and matches every log row when the file is not named', () => {
    const tracker = new StageTracker({createdAtMs: 0});
    tracker.feedLine('/var/log/portal/ssh-keys.log', PROVISIONER_START, 5000);
    expect(tracker.snapshot().stage).toBe('INITIALIZING');
    tracker.feedLine('', PROVISIONER_START, 6000);
    expect(tracker.snapshot().stage).toBe('PROVISIONING');
  });
});

describe('StageTracker and Vast\'s instance status', () => {
  it('shows the latest status while INITIALIZING, until the first boot line proves more', () => {
    const tracker = new StageTracker({createdAtMs: 0});
    tracker.feedStatus({actualStatus: null, intendedStatus: 'running', statusMsg: null, atMs: 10_000});
    tracker.feedStatus({actualStatus: 'loading', intendedStatus: 'running', statusMsg: 'Pulling image vastai/comfyui', atMs: 20_000});
    expect(tracker.snapshot()).toMatchObject({stage: 'INITIALIZING', sinceMs: 0, evidence: 'Vast reports actual_status loading: Pulling image vastai/comfyui'});
    tracker.feedLine('/var/log/onstart.log', 'CUDA 12.9 selected (GPU: NVIDIA GeForce RTX 4090, CC: 8.9)', 90_000);
    tracker.feedStatus({actualStatus: 'running', intendedStatus: 'running', statusMsg: 'success, running vastai/comfyui/jupyter', atMs: 95_000});
    expect(tracker.snapshot().evidence).toBe('CUDA 12.9 selected (GPU: NVIDIA GeForce RTX 4090, CC: 8.9)');
  });

  it.each(['exited', 'unknown', 'offline'])('fails on the poll-trap state %s', actualStatus => {
    const tracker = trackerAt('DOWNLOADING');
    tracker.feedStatus({actualStatus, intendedStatus: 'running', atMs: 100_000});
    expect(tracker.snapshot()).toMatchObject({stage: 'FAILED', failure: {evidence: `Vast reports actual_status ${actualStatus}`, reason: expect.stringMatching(/never comes back/), suggestion: expect.stringMatching(/^Destroy it/)}});
  });

  it('fails when the instance stops while we want it running, and says storage still bills', () => {
    const tracker = trackerAt('PROVISIONING');
    tracker.feedStatus({actualStatus: 'stopped', intendedStatus: 'stopped', atMs: 50_000});
    expect(tracker.snapshot().stage).toBe('PROVISIONING');
    tracker.feedStatus({actualStatus: 'stopped', intendedStatus: 'running', atMs: 60_000});
    expect(tracker.snapshot().failure).toMatchObject({reason: expect.stringMatching(/stopped/), suggestion: expect.stringMatching(/still bills for storage/)});
  });

  it.each([
    ['created', 'Error: container failed to start: OCI runtime create failed', /failed to start on this host/],
    ['loading', 'Error response from daemon: manifest for vastai/test:self-test-cuda-99 not found', /image tag does not exist/],
    ['loading', 'pull access denied for private/image, repository does not exist or may require authorization', /refused to pull/],
    ['loading', 'unauthorized: authentication required', /refused to pull/],
    ['loading', 'write /var/lib/docker/tmp/layer: no space left on device', /disk space/],
    ['loading', 'failed to pull image: unexpected EOF', /could not pull/],
  ])('fails on actual_status %s with status_msg "%s"', (actualStatus, statusMsg, reason) => {
    const tracker = new StageTracker({createdAtMs: 0});
    tracker.feedStatus({actualStatus, intendedStatus: 'running', statusMsg, atMs: 30_000});
    expect(tracker.snapshot()).toMatchObject({stage: 'FAILED', sinceMs: 30_000, failure: {reason: expect.stringMatching(reason), evidence: `Vast reports actual_status ${actualStatus}: ${statusMsg}`}});
  });
});

describe('StageTracker timeouts', () => {
  it('fails INITIALIZING when Vast has not started the container in 20 min', () => {
    const tracker = new StageTracker({createdAtMs: 0});
    tracker.feedStatus({actualStatus: 'loading', intendedStatus: 'running', statusMsg: 'Pulling image', atMs: 60_000});
    tracker.checkTimeouts(20 * MINUTE - 1);
    expect(tracker.snapshot().stage).toBe('INITIALIZING');
    tracker.checkTimeouts(20 * MINUTE);
    expect(tracker.snapshot().failure).toMatchObject({
      reason: 'INITIALIZING timed out after 20m00s: Vast has not started the container (Vast reports actual_status loading: Pulling image)',
      suggestion: expect.stringMatching(/pick another offer, ideally one with faster internet/),
    });
  });

  it('takes the timeouts it is given', () => {
    const tracker = new StageTracker({createdAtMs: 0, timeoutsMs: {INITIALIZING: MINUTE}});
    tracker.checkTimeouts(MINUTE);
    expect(tracker.snapshot().failure?.reason).toMatch(/^INITIALIZING timed out after 1m00s/);
  });

  it('fails a running container that shows no log or probe evidence for 30 min', () => {
    const tracker = trackerAt('INITIALIZING');
    tracker.checkTimeouts(1000 + 30 * MINUTE);
    expect(tracker.snapshot().failure).toMatchObject({reason: expect.stringMatching(/^INITIALIZING timed out after 30m00s: the container runs/), suggestion: expect.stringMatching(/SSH/)});
  });

  it('fails PROVISIONING after 30 min without reaching the downloads', () => {
    const tracker = trackerAt('PROVISIONING');
    tracker.checkTimeouts(9000 + 30 * MINUTE - 1);
    expect(tracker.snapshot().stage).toBe('PROVISIONING');
    tracker.checkTimeouts(9000 + 30 * MINUTE);
    expect(tracker.snapshot().failure).toMatchObject({reason: 'PROVISIONING timed out after 30m00s: provisioning has not moved on', evidence: `Last evidence: ${PROVISIONER_START}`});
  });

  it('fails a download that gets no new byte for 5 min, naming the file and the way out', () => {
    const tracker = trackerAt('DOWNLOADING');
    tracker.feedLine(PROVISIONING_LOG, BAR.replace('16.6MB/s', '--.-KB/s'), 200_000);
    tracker.checkTimeouts(41_000 + 5 * MINUTE - 1);
    expect(tracker.snapshot()).toMatchObject({stage: 'DOWNLOADING', download: {stalled: true}});
    tracker.checkTimeouts(41_000 + 5 * MINUTE);
    expect(tracker.snapshot().failure).toMatchObject({
      reason: 'DOWNLOADING timed out after 5m00s: no new bytes of sd_xl_base_1.0.safetensors arrived (stuck at 43 %)',
      suggestion: expect.stringMatching(/pick an offer with faster internet/),
    });
  });

  it('between downloads, gives provisioning its usual 30 min', () => {
    const tracker = trackerAt('DOWNLOADING');
    tracker.feedLine(PROVISIONING_LOG, 'sd_xl_base_1.0.safetensors    100%[=================================================>]   6.46G  44.6MB/s    in 2m 24s  ', 185_000);
    tracker.checkTimeouts(185_000 + 29 * MINUTE);
    expect(tracker.snapshot().stage).toBe('DOWNLOADING');
    tracker.checkTimeouts(185_000 + 30 * MINUTE);
    expect(tracker.snapshot().failure?.reason).toBe('DOWNLOADING timed out after 30m00s: provisioning has not moved on');
  });

  it('fails STARTING_APP after 5 min, quoting ComfyUI\'s last error', () => {
    const tracker = trackerAt('STARTING_APP');
    tracker.feedLine(COMFYUI_LOG, "ModuleNotFoundError: No module named 'sageattention'", 210_000);
    tracker.checkTimeouts(200_000 + 5 * MINUTE);
    expect(tracker.snapshot().failure).toMatchObject({reason: "STARTING_APP timed out after 5m00s: ComfyUI did not start (last error: ModuleNotFoundError: No module named 'sageattention')", suggestion: expect.stringMatching(/comfyui\.log/)});
  });

  it('fails STARTING_APP when ComfyUI says it listens but the probe never succeeds', () => {
    const tracker = trackerAt('STARTING_APP');
    tracker.feedLine(COMFYUI_LOG, GUI, 214_000);
    tracker.checkTimeouts(200_000 + 5 * MINUTE);
    expect(tracker.snapshot().failure).toMatchObject({reason: expect.stringMatching(/says it listens, but \/system_stats does not answer/), suggestion: expect.stringMatching(/portal token/)});
  });
});

describe('the evidence table', () => {
  it('gives every failure, cause and warning row a reason, and every fatal row a suggestion', () => {
    for (const row of EVIDENCE) {
      if (['fatal', 'provisioning-failed', 'step-failed', 'attempt-failed', 'cause', 'warning'].includes(row.effect)) expect(row.reason, String(row.pattern)).toBeDefined();
      if (row.effect === 'fatal') expect(row.suggestion, String(row.pattern)).toBeDefined();
    }
  });
});
