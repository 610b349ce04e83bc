// `npm run bench`: runs every benchmark, prints the figures and writes them to bench/results/.
// Figures live here, never as timed assertions in tests.
import {benchInstances} from './instances.js';
import {benchOffers} from './offers.js';
import {benchQueue} from './queue.js';
import {benchSavings} from './savings.js';
import {writeResults} from './lib.js';

const suites = {offers: benchOffers, savings: benchSavings, instances: benchInstances, queue: benchQueue};
const only = process.argv.slice(2);
for (const [name, run] of Object.entries(suites)) {
  if (only.length > 0 && !only.includes(name)) continue;
  process.stdout.write(`\n== ${name} ==\n`);
  const results = await run();
  process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
  writeResults(name, results);
}
process.exit(0);
