// Watches one instance until it is READY or FAILED, for `vastdeck up` and `vastdeck watch`: the
// same InstanceWatch as the dashboard, fed by one paced instance-list call per interval, and a
// callback for every stage change and download update so the command can print a timeline.
import {toVastdeckError} from '../errors.js';
import type {KnownHosts} from '../ssh/known-hosts.js';
import type {SshIdentity} from '../ssh/keys.js';
import type {VastClient} from '../vast/client.js';
import {listInstances} from '../vast/instances-api.js';
import {InstanceWatch} from './instance-watch.js';
import type {StageState} from './stages.js';
import type {LedgerInstance} from './types.js';

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
  signal?: AbortSignal;
}

export interface WatchOutcome {
  state: StageState;
  watch: InstanceWatch;
}

export async function watchUntilSettled(options: WatchUntilOptions): Promise<WatchOutcome> {
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
    onChange: () => {
      const state = watch.stage;
      if (state.stage !== lastStage) {
        lastStage = state.stage;
        options.onStage(state);
      } else if (state.stage === 'DOWNLOADING' && state.download && Date.now() - lastProgressAt >= progressEveryMs) {
        lastProgressAt = Date.now();
        options.onProgress?.(state);
      }
      if (state.stage === 'READY' || state.stage === 'FAILED') settle?.();
    },
  });
  const poll = async (): Promise<void> => {
    try {
      const instances = await listInstances(options.client);
      const instance = instances.find(candidate => candidate.id === options.entry.instanceId);
      watch.feedInstance(instance);
      if (!instance) options.onWarning?.(`Instance ${options.entry.instanceId} is not in the account's instance list (yet).`);
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
