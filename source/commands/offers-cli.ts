// `vastdeck offers` from the shell: connects (demo or live), then runs the same ranking the
// dashboard's Offers pane uses. Kept apart from offers.ts so that one stays testable with any
// search function.
import {connect} from '../connect.js';
import {openSettings} from '../core/config.js';
import {VastClient} from '../core/vast/client.js';
import {VERSION} from '../core/version.js';
import {runOffersCommand} from './offers.js';

export async function runOffersFromCli(argv: readonly string[], io: {stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream}): Promise<number> {
  const demo = argv.includes('--demo');
  const live = argv.includes('--live');
  const rest = argv.filter(token => token !== '--demo' && token !== '--live');
  const settings = openSettings().all();
  const connection = await connect({demo, live});
  try {
    const client = new VastClient({baseUrl: connection.baseUrl, apiKey: connection.apiKey, userAgent: `vastdeck/${VERSION}`});
    if (connection.mode === 'demo') io.stderr.write(`vastdeck: demo mode — ${connection.detail}\n`);
    return await runOffersCommand(rest, {search: query => client.searchOffers(query), settings, stdout: io.stdout, stderr: io.stderr});
  } finally {
    await connection.close();
  }
}
