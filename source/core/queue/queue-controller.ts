// The dashboard's face of the generation queue: the queue model plus what the Queue pane's add
// dialog needs (workflow list and defaults, image path completion, opening an output folder).
// Adding goes through the run-jobs use case (addJobs), the same checks `vastdeck run` makes.
import {readdir} from 'node:fs/promises';
import {basename, dirname, join, resolve} from 'node:path';
import {homedir} from 'node:os';
import type {JobSpec} from '../comfy/types.js';
import {listWorkflows, loadWorkflow} from '../comfy/workflow.js';
import type {QueueController, QueueSnapshot} from '../deck-types.js';
import {toVastdeckError} from '../errors.js';
import {addJobs} from '../usecases/run-jobs.js';
import {GenerationQueue} from './generation-queue.js';

export class QueueFacade implements QueueController {
  constructor(
    readonly queue: GenerationQueue,
    /** Opens a folder with the desktop's opener; false when there is no desktop. */
    readonly open: (target: string) => boolean = () => false,
  ) {}

  subscribe = (listener: () => void): (() => void) => this.queue.subscribe(listener);
  getSnapshot = (): QueueSnapshot => this.queue.getSnapshot();

  async add(spec: JobSpec, options: {count?: number} = {}): Promise<string | undefined> {
    try {
      await addJobs(this.queue, spec, options.count ?? 1);
      return undefined;
    } catch (error) {
      return toVastdeckError(error).message;
    }
  }

  cancel(id: string): void {
    this.queue.cancel(id);
  }

  retry(id: string): void {
    this.queue.retry(id);
  }

  clearFinished(): void {
    this.queue.clearFinished();
  }

  workflows(): ReturnType<QueueController['workflows']> {
    return listWorkflows();
  }

  async workflowFields(name: string): ReturnType<QueueController['workflowFields']> {
    try {
      const loaded = await loadWorkflow(name);
      return {fields: loaded.fields};
    } catch (error) {
      return {error: toVastdeckError(error).message};
    }
  }

  async completePath(partial: string): Promise<string[]> {
    const expanded = partial.startsWith('~/') ? join(homedir(), partial.slice(2)) : partial;
    const folder = expanded.endsWith('/') ? expanded : dirname(expanded);
    const prefix = expanded.endsWith('/') ? '' : basename(expanded);
    const entries = await readdir(resolve(folder || '.'), {withFileTypes: true}).catch(() => []);
    const shownFolder = partial.endsWith('/') ? partial : partial.slice(0, partial.length - prefix.length);
    return entries
      .filter(entry => entry.name.startsWith(prefix) && !entry.name.startsWith('.'))
      .map(entry => `${shownFolder}${entry.name}${entry.isDirectory() ? '/' : ''}`)
      .sort()
      .slice(0, 50);
  }

  async openOutputs(id: string): Promise<string> {
    const job = this.queue.getSnapshot().jobs.find(candidate => candidate.id === id);
    const folder = job?.outputDir ?? '';
    if (folder) this.open(folder);
    return folder;
  }
}
