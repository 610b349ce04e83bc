// `vastdeck offers [filter expr...] [--sort KEY] [--limit N] [--json]`: the original workflow's
// search_offers script. Lays the typed filter over the config defaults, searches once, ranks by
// job cost with the same code as the Offers pane, and prints a table or JSON. No React/Ink here.
import {exitCodeFor, toVastdeckError} from '../core/errors.js';
import {formatDuration, formatMbps, formatPercent, formatUsd} from '../core/format.js';
import {costInputsFromSettings} from '../core/offers/cost.js';
import {parseSortKey, rankOffers, SORT_KEYS} from '../core/offers/rank.js';
import {buildOfferSearch} from '../core/offers/search.js';
import type {CostInputs, RankedOffer, SortKey} from '../core/offers/types.js';
import type {VastdeckSettings} from '../core/settings.js';
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
}

const DEFAULT_ROWS = 20;

/** Exit codes: 0 done (even with no offers), 1 the search failed, 2 bad flags, filter or setup. */
export async function runOffersCommand(argv: string[], deps: OffersCommandDeps): Promise<number> {
  let request: OffersRequest;
  try {
    request = readRequest(argv, deps.settings);
  } catch (error) {
    deps.stderr.write(`${toVastdeckError(error).message}\n`);
    return 2;
  }

  let offers: Offer[];
  try {
    offers = await deps.search(request.query);
  } catch (error) {
    deps.stderr.write(`${(deps.describeError ?? (caught => toVastdeckError(caught).message))(error)}\n`);
    return exitCodeFor(error);
  }

  const inputs = costInputsFromSettings(deps.settings.cost);
  const ranked = rankOffers(offers, inputs, request.sortKey);
  const shown = ranked.slice(0, request.rows);
  if (request.json) {
    deps.stdout.write(`${JSON.stringify(shown.map(jsonRow), null, 2)}\n`);
    return 0;
  }
  const lines = shown.length > 0 ? formatTextTable(tableColumns(inputs), shown) : [];
  const matched = offers.length >= deps.settings.searchLimit ? `${offers.length}+ offers matched (the search limit)` : `${offers.length} ${offers.length === 1 ? 'offer' : 'offers'} matched`;
  const label = SORT_KEYS.find(entry => entry.key === request.sortKey)?.label ?? request.sortKey;
  lines.push(
    `${matched}, showing ${shown.length}, sorted by ${label}; filter: ${request.filterText || '(none)'}; ` +
      `cost inputs: ${inputs.modelGb} GB models, ${inputs.imageGb} GB image, ${inputs.windowMinutes}-min window, ` +
      `${inputs.bootSeconds}s boot, ${inputs.firstResultSeconds}s per result.`,
  );
  deps.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

interface OffersRequest {
  sortKey: SortKey;
  query: Record<string, unknown>;
  /** The filter in force (typed clauses over config defaults), canonical text. */
  filterText: string;
  /** Table/JSON rows to print. */
  rows: number;
  json: boolean;
}

/** Flags and filter → what to search and how to show it; throws InputError on bad input. */
function readRequest(argv: readonly string[], settings: VastdeckSettings): OffersRequest {
  const {flags, positionals} = parseArgs('offers', argv, {
    sort: {kind: 'string', short: 's'},
    limit: {kind: 'integer', short: 'n', min: 1, max: 10_000},
    json: {kind: 'boolean'},
  });
  const sortKey = parseSortKey(typeof flags.sort === 'string' ? flags.sort : 'cost');
  const {query, filterText} = buildOfferSearch(positionals.join(' '), settings);
  return {
    sortKey,
    query,
    filterText,
    rows: typeof flags.limit === 'number' ? flags.limit : DEFAULT_ROWS,
    json: flags.json === true,
  };
}

function tableColumns(inputs: CostInputs): TextColumn<RankedOffer>[] {
  return [
    {header: '#', align: 'right', value: row => String(row.rank)},
    {header: 'GPU', maxWidth: 18, value: row => `${row.offer.gpuName} ×${row.offer.numGpus}`},
    {header: '$/h', align: 'right', value: row => formatUsd(row.offer.dphTotal)},
    {header: '$/GB down', align: 'right', value: row => formatUsd(row.offer.inetDownCostPerGb)},
    {header: 'down', align: 'right', value: row => formatMbps(row.offer.inetDownMbps)},
    {header: 'reliab.', align: 'right', value: row => formatPercent(row.offer.reliability)},
    {header: 'location', maxWidth: 16, value: row => row.offer.geolocation.trim().replace(/^,\s*/, '') || '?'},
    {header: 'ETA ready', align: 'right', value: row => formatDuration(row.cost.etaReadySec)},
    {header: `${inputs.windowMinutes}-min cost`, align: 'right', value: row => formatUsd(row.cost.windowCostUsd)},
    {header: 'first result', align: 'right', value: row => formatUsd(row.cost.firstResultUsd)},
  ];
}

/** One `--json` row; Infinity (no bandwidth) becomes null, as JSON has no Infinity. */
function jsonRow(row: RankedOffer): Record<string, unknown> {
  const {offer, cost} = row;
  return {
    rank: row.rank,
    id: offer.id,
    machineId: offer.machineId,
    gpuName: offer.gpuName,
    numGpus: offer.numGpus,
    dphTotal: offer.dphTotal,
    inetDownMbps: offer.inetDownMbps,
    inetDownCostPerGb: offer.inetDownCostPerGb,
    reliability: offer.reliability,
    geolocation: offer.geolocation,
    etaReadySec: cost.etaReadySec,
    windowCostUsd: cost.windowCostUsd,
    windowComputeUsd: cost.windowComputeUsd,
    windowDownloadUsd: cost.windowDownloadUsd,
    firstResultUsd: cost.firstResultUsd,
  };
}
