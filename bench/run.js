// `npm run bench`: runs every benchmark, prints the figures and writes them to bench/results/.
// Figures live here, never as timed assertions in tests.
import {benchDashboard, summaryLines} from './dashboard.js';
import {benchInstances} from './instances.js';
import {benchOffers, offersSummaryLines} from './offers.js';
import {benchQueue} from './queue.js';
import {benchSavings} from './savings.js';
import {benchSpend} from './spend.js';
import {writeResults} from './lib.js';

const suites = {offers: benchOffers, savings: benchSavings, instances: benchInstances, queue: benchQueue, dashboard: benchDashboard, spend: benchSpend};
const summaries = {dashboard: summaryLines, offers: offersSummaryLines};
const only = process.argv.slice(2);
for (const [name, run] of Object.entries(suites)) {
  if (only.length > 0 && !only.includes(name)) continue;
  process.stdout.write(`\n== ${name} ==\n`);
  const results = await run();
  process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
  if (summaries[name]) process.stdout.write(`\n${summaries[name](results).join('\n')}\n`);
  writeResults(name, results);
}
process.exit(0);
