// The dashboard's OnStart method (the O key): the same use case as `vastdeck run --onstart`
// (usecases/onstart.ts), started in the background. start() runs every local check first (workflow,
// fields, image URL, SSH key, provisioning) and answers with a sentence, or undefined once the run
// has begun; progress and the outcome go to the message line.
import type {MessageLevel, OnStartController, OnStartJobSpec} from '../deck-types.js';
import {toVastdeckError} from '../errors.js';
import type {RankedOffer} from '../offers/types.js';
import type {DeckContext} from '../usecases/context.js';
import {checkOnstartJob, runOnstartJob, type OnstartEvent, type OnstartSpec} from '../usecases/onstart.js';
import {checkRentReadiness, checkWritableFolder} from '../usecases/validate.js';

export interface OnStartControllerOptions {
  notify(text: string, level?: MessageLevel): void;
  /** After the instance is created, so the Instances pane shows it right away. */
  onCreated(instanceId: number): void;
  /** Between marker checks and instance-list calls (3 s and 5 s; the simulator can go faster). */
  pollMs?: {marker: number; list: number};
  /** The rent's last check before the create call (the spend cap). */
  beforeCreate?: () => void;
}

/** Events worth a line of their own; the rest (SSH retries and the like) stay quiet. */
const REPORTED: ReadonlySet<OnstartEvent['kind']> = new Set(['offer-taken', 'key-attach-failed', 'marker', 'collected']);

export class OnStartRunner implements OnStartController {
  readonly #ctx: DeckContext;
  readonly #options: OnStartControllerOptions;
  readonly #abort = new AbortController();
  readonly #running = new Set<Promise<void>>();

  constructor(ctx: DeckContext, options: OnStartControllerOptions) {
    this.#ctx = ctx;
    this.#options = options;
  }

  async start(spec: OnStartJobSpec, candidates: readonly RankedOffer[]): Promise<string | undefined> {
    const live = candidates.filter(row => row.change !== 'vanished');
    if (live.length === 0) return 'No offer is left to rent: pick one that is still on the market.';
    const {imageUrl, ...settings} = spec;
    if (!imageUrl.trim()) return 'The OnStart method needs the URL of the input image (the instance fetches it at boot): type an http(s) address.';
    if (!/^https?:\/\/\S+$/.test(imageUrl)) return `The image URL must start with http:// or https:// (the instance fetches it), not "${imageUrl}".`;
    const job: OnstartSpec = {...settings, image: {url: imageUrl}};
    try {
      await checkOnstartJob(job);
      await checkWritableFolder(this.#ctx.outputsRoot());
      await checkRentReadiness(this.#ctx.settings(), {env: this.#ctx.env});
    } catch (error) {
      return toVastdeckError(error).message;
    }
    const run = this.#run(job, live).finally(() => this.#running.delete(run));
    this.#running.add(run);
    return undefined;
  }

  /** Stops the watches in progress (the instances stay; they are in the ledger). */
  async stop(): Promise<void> {
    this.#abort.abort();
    await Promise.allSettled([...this.#running]);
  }

  async #run(spec: OnstartSpec, candidates: readonly RankedOffer[]): Promise<void> {
    const {notify, pollMs} = this.#options;
    let label = 'OnStart job';
    try {
      const result = await runOnstartJob(this.#ctx, {
        spec,
        offers: {candidates: candidates.map(row => row.offer)},
        createKey: false,
        outputsRoot: this.#ctx.outputsRoot(),
        pollMs: pollMs?.marker,
        listPollMs: pollMs?.list,
        signal: this.#abort.signal,
        beforeCreate: this.#options.beforeCreate,
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
      });
      const files = result.outputs.length === 1 ? '1 file' : `${result.outputs.length} files`;
      notify(`${label} done: ${files} in ${result.outputDir} (instance ${result.instanceId} keeps billing until destroyed).`);
    } catch (error) {
      if (this.#abort.signal.aborted) return;
      notify(`${label} failed: ${toVastdeckError(error).message}`, 'error');
    }
  }
}
