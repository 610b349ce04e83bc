// Reads the job the offers are priced for: config `job.workflow` names a workflow whose manifest
// declares what one generation needs; with `job.generations` and `cost.*` that becomes CostInputs.
// The one place that touches the disk for the cost model (cost.ts stays pure).
import {tildePath} from '../credentials.js';
import {InputError} from '../errors.js';
import {loadWorkflow} from '../comfy/workflow.js';
import type {VastdeckSettings} from '../settings.js';
import {costInputs} from './cost.js';
import type {CostInputs} from './types.js';

/** Throws InputError (one sentence) for an unknown workflow or a manifest without requirements. */
export async function jobCostInputs(settings: Pick<VastdeckSettings, 'job' | 'cost'>): Promise<CostInputs> {
  const loaded = await loadWorkflow(settings.job.workflow);
  if (!loaded.requirements) {
    throw new InputError(
      `The manifest ${tildePath(loaded.manifestPath)} has no "requirements", so vastdeck cannot price a job of ${loaded.name}: ` +
        'add e.g. "requirements": {"modelGb": 6.94, "minVramGb": 10, "secondsPerGeneration": 3.5, "referenceGpu": "RTX 4090"} (workflows/README.md), or set job.workflow to another workflow.',
    );
  }
  return costInputs(settings, loaded.requirements);
}
