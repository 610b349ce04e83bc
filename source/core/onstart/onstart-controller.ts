// The dashboard's OnStart method: the same flow as `vastdeck run --onstart` (runOnstartJob), started
// from the Deck in the background over its client, settings, ledger and pinned host keys. start()
// checks what it can locally (workflow, fields, URL, SSH key) and answers with a sentence, or
// undefined once the run has begun; progress and the outcome go to the message line.
import type {JobSpec} from '../comfy/types.js';
import {bindJob, loadWorkflow} from '../comfy/workflow.js';
import type {SettingsStore} from '../config.js';
import type {MessageLevel, OnStartController, OnStartJobSpec} from '../deck-types.js';
import {toVastdeckError} from '../errors.js';
import type {Ledger} from '../ledger/ledger.js';
import type {RankedOffer} from '../offers/types.js';
import {outputsRoot} from '../queue/paths.js';
import {findSshIdentity, NO_SSH_KEY_MESSAGE} from '../ssh/keys.js';
import type {KnownHosts} from '../ssh/known-hosts.js';
import type {VastClient} from '../vast/client.js';
import {runOnstartJob, type OnstartEvent} from './onstart-run.js';

export interface OnStartControllerOptions {
  client: VastClient;
  settings: SettingsStore;
  ledger: Ledger;
  knownHosts: KnownHosts;
  apiOrigin: string;
  notify(text: string, level?: MessageLevel): void;
  /** After the instance is created, so the Instances pane shows it right away. */
  onCreated(instanceId: number): void;
  /** Between marker checks and instance-list calls (3 s and 5 s; the simulator can go faster). */
  pollMs?: {marker: number; list: number};
}

/** Events worth a line of their own; the rest (SSH retries and the like) stay quiet. */
const REPORTED: ReadonlySet<OnstartEvent['kind']> = new Set(['offer-taken', 'key-attach-failed', 'marker', 'collected']);

export class OnStartRunner implements OnStartController {
  readonly #options: OnStartControllerOptions;
  readonly #abort = new AbortController();
  readonly #running = new Set<Promise<void>>();

  constructor(options: OnStartControllerOptions) {
    this.#options = options;
  }

  async start(spec: OnStartJobSpec, candidates: readonly RankedOffer[]): Promise<string | undefined> {
    const live = candidates.filter(row => row.change !== 'vanished');
    if (live.length === 0) return 'No offer is left to rent: pick one that is still on the market.';
    const {imageUrl, ...settings} = spec;
    const problem = await this.#check(settings, imageUrl);
    if (problem) return problem;
    const run = this.#run({...settings, image: {url: imageUrl}}, live).finally(() => this.#running.delete(run));
    this.#running.add(run);
    return undefined;
  }

  /** Stops the watches in progress (the instances stay; they are in the ledger). */
  async stop(): Promise<void> {
    this.#abort.abort();
    await Promise.allSettled([...this.#running]);
  }

  async #check(settings: Omit<JobSpec, 'imagePath'>, imageUrl: string): Promise<string | undefined> {
    if (!/^https?:\/\/\S+$/.test(imageUrl)) return `The image URL must start with http:// or https:// (the instance fetches it), not "${imageUrl}".`;
    try {
      const loaded = await loadWorkflow(settings.workflow);
      if (!loaded.fields.image) return `Workflow "${loaded.name}" binds no input image, so the OnStart method has nothing to fetch: pick an image workflow.`;
      bindJob(loaded, {...settings, imagePath: ''}, 'vastdeck-onstart-input.png');
      if (!(await findSshIdentity())) return NO_SSH_KEY_MESSAGE;
    } catch (error) {
      return toVastdeckError(error).message;
    }
    return undefined;
  }

  async #run(spec: Parameters<typeof runOnstartJob>[1]['spec'], candidates: readonly RankedOffer[]): Promise<void> {
    const {notify, settings, pollMs} = this.#options;
    let label = 'OnStart job';
    try {
      const result = await runOnstartJob(
        {client: this.#options.client, settings: settings.all(), ledger: this.#options.ledger, knownHosts: this.#options.knownHosts, apiOrigin: this.#options.apiOrigin},
        {
          spec,
          candidates: candidates.map(row => row.offer),
          createKey: false,
          outputsRoot: outputsRoot(settings.all()),
          pollMs: pollMs?.marker,
          listPollMs: pollMs?.list,
          signal: this.#abort.signal,
          onCreated: instanceId => {
            notify(`${label}: rented instance ${instanceId}, waiting for its done marker.`);
            this.#options.onCreated(instanceId);
          },
          onEvent: event => {
            if (event.kind === 'job') {
              label = `OnStart job ${event.jobId}`;
              notify(`${label}: renting ${candidates[0]!.offer.gpuName} offer ${candidates[0]!.offer.id}…`);
            } else if (REPORTED.has(event.kind)) notify(`${label}: ${event.message}`, event.kind === 'key-attach-failed' ? 'warn' : 'info');
          },
        },
      );
      const files = result.outputs.length === 1 ? '1 file' : `${result.outputs.length} files`;
      notify(`${label} done: ${files} in ${result.outputDir} (instance ${result.instanceId} keeps billing until destroyed).`);
    } catch (error) {
      if (this.#abort.signal.aborted) return;
      notify(`${label} failed: ${toVastdeckError(error).message}`, 'error');
    }
  }
}
