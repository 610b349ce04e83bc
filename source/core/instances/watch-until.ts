// Watches one instance until it is READY or FAILED, for `vastdeck up`, `watch` and `run --up`:
// the same InstanceWatch as the dashboard, fed by one paced instance-list call per interval, with a
// callback for every stage change and download update so the command can print a timeline. The
// wait always ends: READY, FAILED (the stage timeouts included), the instance gone, or the signal.
import {toVastdeckError} from '../errors.js';
import type {KnownHosts} from '../ssh/known-hosts.js';
import type {SshIdentity} from '../ssh/keys.js';
import type {VastClient} from '../vast/client.js';
import {listInstances} from '../vast/instances-api.js';
import {InstanceWatch} from './instance-watch.js';
import type {StageState, StageTimeout} from './stages.js';
import type {Instance, LedgerInstance} from './types.js';

export interface WatchUntilOptions {
  client: VastClient;
  entry: LedgerInstance;
  apiOrigin: string;
  identity?: SshIdentity;
  knownHosts: KnownHosts;
  pollMs?: number;
  onStage: (state: StageState) => void;
  /** Called at most every `progressEveryMs` while downloading. */
  onProgress?: (state: StageState) => void;
  progressEveryMs?: number;
  /** One sentence when a list call fails (the watch goes on). */
  onWarning?: (text: string) => void;
  /** Every instance list, with the bytes the watched instance's provisioning downloaded so far (the spend book's look). */
  onList?: (instances: Instance[], provisionedBytes: number) => void;
  signal?: AbortSignal;
  timeoutsMs?: Partial<Record<StageTimeout, number>>;
  now?: () => number;
  /** Between autostop heartbeats while watching (60 s live). */
  heartbeatMs?: number | (() => number);
}

export interface WatchOutcome {
  state: StageState;
  watch: InstanceWatch;
}

/** Consecutive lists without the instance (after it was seen) that mean it is gone. */
const MISSING_LISTS_FOR_GONE = 2;

export async function watchUntilSettled(options: WatchUntilOptions): Promise<WatchOutcome> {
  const now = options.now ?? Date.now;
  let lastStage = '';
  let lastProgressAt = 0;
  const progressEveryMs = options.progressEveryMs ?? 5000;
  let settle: (() => void) | undefined;
  const settled = new Promise<void>(resolve => (settle = resolve));
  const watch = new InstanceWatch({
    entry: options.entry,
    apiOrigin: options.apiOrigin,
    identity: options.identity,
    knownHosts: options.knownHosts,
    timeoutsMs: options.timeoutsMs,
    now,
    heartbeatMs: options.heartbeatMs,
    onChange: () => {
      const state = watch.stage;
      if (state.stage !== lastStage) {
        lastStage = state.stage;
        options.onStage(state);
      } else if (state.stage === 'DOWNLOADING' && state.download && now() - lastProgressAt >= progressEveryMs) {
        lastProgressAt = now();
        options.onProgress?.(state);
      }
      if (state.stage === 'READY' || state.stage === 'FAILED') settle?.();
    },
  });
  let seen = false;
  let missing = 0;
  const poll = async (): Promise<void> => {
    try {
      const instances = await listInstances(options.client);
      const instance = instances.find(candidate => candidate.id === options.entry.instanceId);
      watch.feedInstance(instance);
      options.onList?.(instances, watch.tracker.downloadedBytes);
      if (instance) {
        seen = true;
        missing = 0;
      } else if (seen && ++missing >= MISSING_LISTS_FOR_GONE) watch.tracker.feedGone(now());
      else if (!instance) options.onWarning?.(`Instance ${options.entry.instanceId} is not in the account's instance list (yet).`);
    } catch (error) {
      options.onWarning?.(toVastdeckError(error).message);
    }
    watch.tick();
  };
  await poll();
  const timer = setInterval(() => void poll(), options.pollMs ?? 5000);
  const aborted = new Promise<void>(resolve => options.signal?.addEventListener('abort', () => resolve(), {once: true}));
  try {
    await Promise.race([settled, aborted]);
  } finally {
    clearInterval(timer);
  }
  return {state: watch.stage, watch};
}
