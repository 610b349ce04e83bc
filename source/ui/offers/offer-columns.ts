// What the Offers pane shows of a ranked offer: the table columns (keys match the sort keys, so
// the sorted column's header can be highlighted; priorities decide what goes first on a narrow
// screen) and the detail lines under the table that break the selected offer's cost down. Times to
// ready are on the wall clock (clock-speed.ts); a location without a city is just its country.
import {formatDuration, formatMbps, formatPercent} from '../../core/format.js';
import type {RankedOffer} from '../../core/offers/types.js';
import type {Column} from '../shared/Table.js';
import {usd} from '../shared/money.js';

const CHANGE_MARK = {new: '+', changed: '*', same: ' '} as const;

function rankText(row: RankedOffer): string {
  if (row.change === 'vanished') return '✗ gone';
  return `${CHANGE_MARK[row.change]}${row.rank}`;
}

function gpuText(row: RankedOffer): string {
  return `${row.offer.gpuName} ×${row.offer.numGpus}`;
}

/** 'Oregon, US'; Vast sends ', US' when it knows no city: that is 'US'. */
export function placeText(geolocation: string | undefined): string {
  const place = (geolocation ?? '').split(',').map(part => part.trim()).filter(Boolean).join(', ');
  return place || '?';
}

function vramGb(row: RankedOffer): number {
  return Math.round(row.offer.gpuRamMb / 1024);
}

export const offerColumns = (clockSpeed = 1): ReadonlyArray<Column<RankedOffer>> => [
  {key: 'rank', header: ' #', width: 6, format: rankText, priority: 0},
  {key: 'gpu', header: 'GPU', width: 13, format: gpuText, priority: 0, grow: true},
  {key: 'vram', header: 'VRAM', width: 4, align: 'right', format: row => `${vramGb(row)}G`, priority: 5},
  {key: 'dph', header: '$/h', width: 7, align: 'right', format: row => usd(row.offer.dphTotal), priority: 1},
  {key: 'downcost', header: '$/GB↓', width: 8, align: 'right', format: row => usd(row.offer.inetDownCostPerGb), priority: 4},
  {key: 'inet', header: 'Mbps↓', width: 5, align: 'right', format: row => String(Math.round(row.offer.inetDownMbps)), priority: 3},
  {key: 'reliability', header: 'Rel', width: 6, align: 'right', format: row => formatPercent(row.offer.reliability), priority: 5},
  {key: 'location', header: 'Location', width: 10, format: row => placeText(row.offer.geolocation), priority: 6, grow: true},
  {key: 'eta', header: 'ETA', width: 6, align: 'right', format: row => formatDuration(row.cost.etaReadySec / clockSpeed), priority: 4},
  {key: 'window', header: '10-min $', width: 8, align: 'right', format: row => usd(row.cost.windowCostUsd), priority: 3},
  {key: 'time', header: 'Done in', width: 7, align: 'right', format: row => formatDuration(row.cost.lastResultSec / clockSpeed), priority: 2},
  {key: 'pergen', header: '$/gen', width: 8, align: 'right', format: row => usd(row.cost.perGenerationUsd), priority: 1},
  {key: 'cost', header: 'Job $', width: 7, align: 'right', format: row => usd(row.cost.jobCostUsd), priority: 0},
];

/**
 * One or two lines about the selected offer: who and what it is, then where its cost comes from.
 * With one line only the id and the cost split are kept, as those are what the table cannot show.
 */
export function offerDetailLines(row: RankedOffer, lines: number, clockSpeed = 1): string[] {
  const {offer, cost} = row;
  const gone = row.change === 'vanished' ? 'gone from the market · ' : '';
  const identity = [
    `Offer ${offer.id}`,
    `machine ${offer.machineId}`,
    `${gpuText(row)} ${vramGb(row)} GB`,
    `CUDA ${offer.cudaMaxGood}`,
    `${Math.round(offer.diskSpaceGb)} GB disk`,
    offer.verified ? 'verified' : 'unverified',
    `up ${formatMbps(offer.inetUpMbps)}`,
    placeText(offer.geolocation),
  ].filter(Boolean).join(' · ');
  const breakdown = [
    `job ${usd(cost.jobCostUsd)} = ${usd(cost.pullStorageUsd)} disk while pulling + ${usd(cost.gpuUsd)} GPU ${formatDuration(cost.gpuSec / clockSpeed)} + ${usd(cost.downloadUsd)} download`,
    `${(cost.secondsPerGeneration / clockSpeed).toFixed(1)} s/gen (${cost.speed.factor.toFixed(2)}× a 4090)`,
    `ready in ${formatDuration(cost.etaReadySec / clockSpeed)}`,
  ].join(' · ');
  if (lines >= 2) return [gone + identity, breakdown];
  return [`${gone}Offer ${offer.id} · CUDA ${offer.cudaMaxGood} · ${Math.round(offer.diskSpaceGb)} GB disk · ${breakdown}`];
}
