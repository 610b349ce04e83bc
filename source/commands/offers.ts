// `vastdeck offers [filter expr...] [--sort KEY] [--limit N] [--json] [--explain ID] [--excluded]`:
// the original workflow's search_offers script. Lays the typed filter over the config defaults,
// searches the whole market for the sort key (a few paced calls, market-search.ts), ranks by the
// whole-job cost with the same code as the Offers pane, and prints a table or JSON. `--explain ID`
// breaks one offer's cost down; `--excluded` lists what the filter matched that the job cannot use.
// No React/Ink here.
import {exitCodeFor, toVastdeckError} from '../core/errors.js';
import {formatDuration, formatMbps, formatPercent, formatUsd} from '../core/format.js';
import {exclusionReason, jobCost, jobText, minVramMb} from '../core/offers/cost.js';
import {jobCostInputs} from '../core/offers/job-inputs.js';
import {keyPlan, searchMarket} from '../core/offers/market-search.js';
import {parseSortKey, SORT_KEYS} from '../core/offers/rank.js';
import {buildOfferSearch} from '../core/offers/search.js';
import type {CostInputs, JobCost, RankedOffer, SortKey} from '../core/offers/types.js';
import type {VastdeckSettings} from '../core/settings.js';
import {withBound} from '../core/vast/query.js';
import type {Offer} from '../core/vast/types.js';
import {parseArgs} from './args.js';
import {formatTextTable, type TextColumn} from './text-table.js';

export interface OffersCommandDeps {
  search: (query: Record<string, unknown>) => Promise<Offer[]>;
  settings: VastdeckSettings;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** One sentence for a failed search; defaults to toVastdeckError(error).message. */
  describeError?: (error: unknown) => string;
  /** The job to price; defaults to config job.* with its workflow's manifest. */
  costInputs?: (settings: VastdeckSettings) => Promise<CostInputs>;
}

const DEFAULT_ROWS = 20;

/** Exit codes: 0 done (even with no offers), 1 the search failed or the offer is not there, 2 bad flags, filter, setup or manifest. */
export async function runOffersCommand(argv: string[], deps: OffersCommandDeps): Promise<number> {
  let request: OffersRequest;
  let inputs: CostInputs;
  try {
    request = readRequest(argv, deps.settings);
    inputs = await (deps.costInputs ?? jobCostInputs)(deps.settings);
  } catch (error) {
    deps.stderr.write(`${toVastdeckError(error).message}\n`);
    return 2;
  }
  try {
    if (request.explainId !== undefined) return await explain(request, inputs, request.explainId, deps);
    if (request.excluded) return await listExcluded(request, inputs, deps);
    return await listBest(request, inputs, deps);
  } catch (error) {
    deps.stderr.write(`${(deps.describeError ?? (caught => toVastdeckError(caught).message))(error)}\n`);
    return exitCodeFor(error);
  }
}

interface OffersRequest {
  sortKey: SortKey;
  query: Record<string, unknown>;
  /** The filter in force (typed clauses over config defaults), canonical text. */
  filterText: string;
  /** Table/JSON rows to print. */
  rows: number;
  json: boolean;
  explainId?: number;
  excluded: boolean;
}

/** Flags and filter → what to search and how to show it; throws InputError on bad input. */
function readRequest(argv: readonly string[], settings: VastdeckSettings): OffersRequest {
  const {flags, positionals} = parseArgs('offers', argv, {
    sort: {kind: 'string', short: 's'},
    limit: {kind: 'integer', short: 'n', min: 1, max: 10_000},
    json: {kind: 'boolean'},
    explain: {kind: 'integer', min: 1},
    excluded: {kind: 'boolean'},
  });
  const sortKey = parseSortKey(typeof flags.sort === 'string' ? flags.sort : 'cost');
  const {query, filterText} = buildOfferSearch(positionals.join(' '), settings);
  return {
    sortKey,
    query,
    filterText,
    rows: typeof flags.limit === 'number' ? flags.limit : DEFAULT_ROWS,
    json: flags.json === true,
    explainId: typeof flags.explain === 'number' ? flags.explain : undefined,
    excluded: flags.excluded === true,
  };
}

async function listBest(request: OffersRequest, inputs: CostInputs, deps: OffersCommandDeps): Promise<number> {
  const found = await searchMarket({search: deps.search, query: request.query, inputs, sortKey: request.sortKey, limit: deps.settings.searchLimit, top: request.rows});
  const shown = found.rows.slice(0, request.rows);
  if (request.json) {
    deps.stdout.write(`${JSON.stringify(shown.map(row => jsonRow(row.rank, row.offer, row.cost, null)), null, 2)}\n`);
    return 0;
  }
  const lines = shown.length > 0 ? formatTextTable(tableColumns(), shown) : [];
  const label = SORT_KEYS.find(entry => entry.key === request.sortKey)?.label ?? request.sortKey;
  const searches = `${found.calls} ${found.calls === 1 ? 'search' : 'searches'}`;
  const exactness =
    found.exactRows >= shown.length
      ? `${found.rows.length} ${found.rows.length === 1 ? 'offer' : 'offers'} seen in ${searches}, showing ${shown.length}: the best on the whole market`
      : `${found.rows.length} offers seen in ${searches}, showing ${shown.length}: rows 1–${found.exactRows} are the best on the whole market, later rows the best seen`;
  lines.push(`${exactness}, sorted by ${label}; filter: ${request.filterText || '(none)'}; job: ${describeJob(inputs, deps.settings)}.`);
  deps.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

/** `--excluded`: offers the filter matches whose VRAM is below the workflow's need, one call. */
async function listExcluded(request: OffersRequest, inputs: CostInputs, deps: OffersCommandDeps): Promise<number> {
  if (inputs.minVramGb <= 0) {
    deps.stdout.write(request.json ? '[]\n' : `Nothing is excluded: ${inputs.workflow} declares no minimum VRAM.\n`);
    return 0;
  }
  const plan = keyPlan(request.sortKey, inputs, []);
  const query = {...withBound(request.query, 'gpu_ram', 'lt', minVramMb(inputs)), order: [[plan.field, plan.descending ? 'desc' : 'asc']], limit: request.rows};
  const offers = await deps.search(query);
  const rows = offers.map((offer, index) => ({rank: index + 1, offer, reason: exclusionReason(offer, inputs) ?? 'matched the VRAM query but has enough VRAM'}));
  if (request.json) {
    deps.stdout.write(`${JSON.stringify(rows.map(row => jsonRow(row.rank, row.offer, jobCost(row.offer, inputs), row.reason)), null, 2)}\n`);
    return 0;
  }
  const columns: TextColumn<(typeof rows)[number]>[] = [
    {header: '#', align: 'right', value: row => String(row.rank)},
    {header: 'id', align: 'right', value: row => String(row.offer.id)},
    {header: 'GPU', maxWidth: 18, value: row => `${row.offer.gpuName} ×${row.offer.numGpus}`},
    {header: '$/h', align: 'right', value: row => formatUsd(row.offer.dphTotal)},
    {header: 'location', maxWidth: 16, value: row => locationOf(row.offer)},
    {header: 'excluded because', value: row => row.reason},
  ];
  const lines = rows.length > 0 ? formatTextTable(columns, rows) : [];
  lines.push(`${rows.length} ${rows.length === 1 ? 'offer' : 'offers'} the filter matches but ${jobText(inputs)} cannot use, by ${plan.field}; filter: ${request.filterText || '(none)'}.`);
  deps.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

/** `--explain ID`: the offer's cost broken down, or why the job cannot use it, or why it is not listed. */
async function explain(request: OffersRequest, inputs: CostInputs, id: number, deps: OffersCommandDeps): Promise<number> {
  const [offer] = await deps.search({...request.query, id: {eq: id}, limit: 1});
  if (!offer) {
    const [elsewhere] = await deps.search({rentable: {eq: true}, rented: {eq: false}, id: {eq: id}, type: 'on-demand', allocated_storage: request.query.allocated_storage, limit: 1});
    deps.stderr.write(
      elsewhere
        ? `Offer ${id} is on the market but does not match the filter ${request.filterText}: loosen it (e.g. field=any) to see it.\n`
        : `Offer ${id} is not on the market (rented by someone else, or no such offer): pick one from \`vastdeck offers\`.\n`,
    );
    return 1;
  }
  const cost = jobCost(offer, inputs);
  const reason = exclusionReason(offer, inputs) ?? null;
  if (request.json) {
    deps.stdout.write(`${JSON.stringify(jsonRow(null, offer, cost, reason), null, 2)}\n`);
    return 0;
  }
  deps.stdout.write(`${explainLines(offer, cost, inputs, reason).join('\n')}\n`);
  return 0;
}

function explainLines(offer: Offer, cost: JobCost, inputs: CostInputs, reason: string | null): string[] {
  const storageDph = Math.max(0, offer.dphTotal - offer.dphBase);
  const speedFrom = {table: 'speed table', dlperf: 'estimated from its dlperf', flops: 'estimated from its TFLOPS', default: 'unknown GPU, a guess'}[cost.speed.source];
  const downloadGb = inputs.imageGb + inputs.modelGb;
  const generations = `${inputs.generations} × ${round(cost.secondsPerGeneration)} s`;
  return [
    `Offer ${offer.id} on machine ${offer.machineId}: ${offer.gpuName} ×${offer.numGpus}, ${Math.round(offer.gpuRamMb / 1024)} GB VRAM, ` +
      `${formatUsd(offer.dphTotal)}/h (${formatUsd(offer.dphBase)} GPU + ${formatUsd(storageDph)} our disk), ` +
      `${formatMbps(offer.inetDownMbps)} down at ${formatUsd(offer.inetDownCostPerGb)}/GB, reliability ${formatPercent(offer.reliability)}, ${locationOf(offer)}.`,
    ...(reason ? [`Excluded: ${reason}.`] : []),
    `Job: ${jobText(inputs)}; one generation takes ${inputs.referenceSecondsPerGeneration} s on an ${inputs.referenceGpu}, ` +
      `this GPU runs at ${cost.speed.factor.toFixed(2)}× (${speedFrom}), so ${round(cost.secondsPerGeneration)} s.`,
    `  image pull      ${inputs.imageGb} GB at ${formatMbps(offer.inetDownMbps)} = ${formatDuration(cost.pullSec)}, loading bills storage only (${formatUsd(storageDph)}/h): ${formatUsd(cost.pullStorageUsd)}`,
    `  GPU time        models ${formatDuration(cost.modelSec)} + boot ${formatDuration(inputs.bootSeconds)} + ${generations} + idle ${formatDuration(inputs.idleTailSeconds)} ` +
      `= ${formatDuration(cost.gpuSec)} at ${formatUsd(offer.dphTotal)}/h: ${formatUsd(cost.gpuUsd)}`,
    `  downloads       ${round(downloadGb)} GB (image + models) × ${formatUsd(offer.inetDownCostPerGb)}/GB: ${formatUsd(cost.downloadUsd)}`,
    `  job cost        ${formatUsd(cost.jobCostUsd)} · last result after ${formatDuration(cost.lastResultSec)} · ${formatUsd(cost.perGenerationUsd)} per generation`,
    `  10-minute rule  ${formatUsd(cost.windowComputeUsd)} compute + ${formatUsd(cost.windowDownloadUsd)} downloads = ${formatUsd(cost.windowCostUsd)}; ready after ${formatDuration(cost.etaReadySec)}`,
  ];
}

function describeJob(inputs: CostInputs, settings: VastdeckSettings): string {
  return (
    `${jobText(inputs)} (${inputs.modelGb} GB models, ≥ ${inputs.minVramGb} GB VRAM, ${inputs.referenceSecondsPerGeneration} s per generation on an ${inputs.referenceGpu}), ` +
    `${inputs.imageGb} GB image, ${inputs.bootSeconds}s boot, ${inputs.idleTailSeconds}s idle until destroyed (config job.* and cost.*, searchLimit ${settings.searchLimit})`
  );
}

function tableColumns(): TextColumn<RankedOffer>[] {
  return [
    {header: '#', align: 'right', value: row => String(row.rank)},
    {header: 'GPU', maxWidth: 16, value: row => `${row.offer.gpuName} ×${row.offer.numGpus}`},
    {header: '$/h', align: 'right', value: row => formatUsd(row.offer.dphTotal)},
    {header: '$/GB', align: 'right', value: row => formatUsd(row.offer.inetDownCostPerGb)},
    {header: 'down', align: 'right', value: row => formatMbps(row.offer.inetDownMbps)},
    {header: 'reliab.', align: 'right', value: row => formatPercent(row.offer.reliability)},
    {header: 'location', maxWidth: 12, value: row => locationOf(row.offer)},
    {header: 'job $', align: 'right', value: row => formatUsd(row.cost.jobCostUsd)},
    {header: '$/gen', align: 'right', value: row => formatUsd(row.cost.perGenerationUsd)},
    {header: 'last result', align: 'right', value: row => formatDuration(row.cost.lastResultSec)},
    {header: 'ready', align: 'right', value: row => formatDuration(row.cost.etaReadySec)},
    {header: '10-min', align: 'right', value: row => formatUsd(row.cost.windowCostUsd)},
  ];
}

function locationOf(offer: Offer): string {
  return offer.geolocation.trim().replace(/^,\s*/, '') || '?';
}

function round(value: number): number {
  return Number.isFinite(value) ? Math.round(value * 100) / 100 : value;
}

/** One `--json` row; Infinity (no bandwidth) becomes null, as JSON has no Infinity. */
function jsonRow(rank: number | null, offer: Offer, cost: JobCost, excludedBecause: string | null): Record<string, unknown> {
  return {
    ...(rank === null ? {} : {rank}),
    id: offer.id,
    machineId: offer.machineId,
    gpuName: offer.gpuName,
    numGpus: offer.numGpus,
    gpuRamMb: offer.gpuRamMb,
    dphTotal: offer.dphTotal,
    inetDownMbps: offer.inetDownMbps,
    inetDownCostPerGb: offer.inetDownCostPerGb,
    reliability: offer.reliability,
    geolocation: offer.geolocation,
    excludedBecause,
    jobCostUsd: cost.jobCostUsd,
    lastResultSec: cost.lastResultSec,
    perGenerationUsd: cost.perGenerationUsd,
    secondsPerGeneration: cost.secondsPerGeneration,
    gpuSpeed: cost.speed.factor,
    gpuSpeedSource: cost.speed.source,
    pullStorageUsd: cost.pullStorageUsd,
    gpuUsd: cost.gpuUsd,
    gpuSec: cost.gpuSec,
    downloadUsd: cost.downloadUsd,
    etaReadySec: cost.etaReadySec,
    windowCostUsd: cost.windowCostUsd,
    windowComputeUsd: cost.windowComputeUsd,
    windowDownloadUsd: cost.windowDownloadUsd,
  };
}
