// Turns the user's filter expression into the Vast search query, laid over the config defaults
// field by field: the one place the Offers pane, `vastdeck offers` and `vastdeck up` build queries.
import type {VastdeckSettings} from '../settings.js';
import {formatClauses, parseFilterExpression, replaceFieldClauses, settingsToClauses, toVastQuery, type FilterClause} from '../vast/query.js';

export interface OfferSearch {
  query: Record<string, unknown>;
  clauses: FilterClause[];
  /** The filter in force, as canonical text. */
  filterText: string;
}

/** Throws InputError (one sentence) for a bad expression. */
export function buildOfferSearch(expression: string, settings: VastdeckSettings): OfferSearch {
  const typed = parseFilterExpression(expression);
  const clauses = replaceFieldClauses(settingsToClauses(settings.filters), typed);
  const query = toVastQuery(clauses, {limit: settings.searchLimit, allocatedStorageGb: settings.instance.diskGb});
  return {query, clauses, filterText: formatClauses(clauses)};
}
