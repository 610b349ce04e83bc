// The add-job form's OnStart variant (O in the Offers pane): an image URL the instance fetches instead
// of a local path, no count (one job per instance), and a confirm line before it rents the offer.
// Pure: the spec from the typed values and the sentences the form shows.
import type {OnStartJobSpec} from '../../core/deck-types.js';

import type {RankedOffer} from '../../core/offers/types.js';
import {buildJob, type FieldRanges, type FormField, type TextField} from './add-job-form.js';
import {usd} from '../shared/money.js';

/** What differs between the queue's form and the OnStart one. */
export interface FormVariant {
  title: string;
  imageLabel: string;
  imageHint: string;
  imagePlaceholder: string;
  button: string;
  busyButton: string;
  /** Whether the form has a Count field. */
  count: boolean;
}

export const QUEUE_VARIANT: FormVariant = {
  title: 'Add a generation job',
  imageLabel: 'Image path',
  imageHint: 'Tab completes',
  imagePlaceholder: 'e.g. ~/pictures/cat.png',
  button: '[ Queue ]',
  busyButton: '[ Queueing… ]',
  count: true,
};

export const ONSTART_VARIANT: FormVariant = {
  title: 'OnStart job — it runs inside the instance at boot',
  imageLabel: 'Image URL',
  imageHint: 'the instance fetches it',
  imagePlaceholder: 'e.g. https://example.org/cat.png',
  button: '[ Rent & run ]',
  busyButton: '[ Starting… ]',
  count: false,
};

export type BuiltOnstartJob = {spec: OnStartJobSpec} | {problem: string; field: FormField};

/** The OnStart spec from the typed values, or the first problem (the URL is checked here, locally). */
export function buildOnstartJob(workflow: string | undefined, bound: FieldRanges | undefined, values: Partial<Record<TextField, string>>): BuiltOnstartJob {
  const imageUrl = (values.image ?? '').trim();
  if (workflow && bound && imageUrl === '') return {problem: 'Type the URL the instance fetches the input image from (http:// or https://).', field: 'image'};
  if (workflow && bound && !/^https?:\/\/\S+$/i.test(imageUrl)) return {problem: `The image URL must start with http:// or https:// (the instance fetches it), not "${imageUrl}".`, field: 'image'};
  const built = buildJob(workflow, bound, {...values, count: '1'});
  if ('problem' in built) return built;
  const {imagePath: _local, ...settings} = built.spec;
  return {spec: {...settings, imageUrl}};
}

/** The confirm line shown on the first Enter on [ Rent & run ]. */
export function rentConfirmText(candidates: readonly RankedOffer[], live: boolean): string {
  const offer = candidates[0]?.offer;
  if (!offer) return 'No offer is left to rent.';
  const fallThrough = candidates.length > 1 ? ', falling through the next ranked offers if it is taken' : '';
  return `This rents offer ${offer.id} (${offer.gpuName} ×${offer.numGpus}, ${usd(offer.dphTotal)}/h${live ? ', LIVE: real money' : ', demo'})${fallThrough}; it bills until destroyed. Enter again to rent, Esc to cancel.`;
}
