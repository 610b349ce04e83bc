// `vastdeck offers` from the shell: runs the same ranking the dashboard's Offers pane uses.
// The connection (demo simulator or live API) is opened on the first search, so bad flags and
// filters are reported before anything starts.
import {connect, type Connection} from '../connect.js';
import {openSettings} from '../core/config.js';
import {VastClient} from '../core/vast/client.js';
import {VERSION} from '../core/version.js';
import {runOffersCommand} from './offers.js';

export async function runOffersFromCli(argv: readonly string[], io: {stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream}): Promise<number> {
  const demo = argv.includes('--demo');
  const live = argv.includes('--live');
  const rest = argv.filter(token => token !== '--demo' && token !== '--live');
  const settings = openSettings().all();
  let connection: Connection | undefined;
  let client: VastClient | undefined;
  const search = async (query: Record<string, unknown>) => {
    if (!client) {
      connection = await connect({demo, live});
      if (connection.mode === 'demo') io.stderr.write(`vastdeck: demo mode — ${connection.detail}\n`);
      client = new VastClient({baseUrl: connection.baseUrl, apiKey: connection.apiKey, userAgent: `vastdeck/${VERSION}`});
    }
    return client.searchOffers(query);
  };
  try {
    return await runOffersCommand(rest, {search, settings, stdout: io.stdout, stderr: io.stderr});
  } finally {
    await connection?.close();
  }
}
