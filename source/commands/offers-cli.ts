// `vastdeck offers` from the shell: runs the same ranking the dashboard's Offers pane uses. The
// session (demo simulator or live API) is opened on the first search, so bad flags and filters are
// reported before anything starts.
import {openSession, type Session} from '../compose.js';
import {openSettings} from '../core/config.js';
import {reportFailure, type Io} from './command-io.js';
import {runOffersCommand} from './offers.js';

export async function runOffersFromCli(argv: readonly string[], io: Io): Promise<number> {
  const demo = argv.includes('--demo');
  const live = argv.includes('--live');
  const rest = argv.filter(token => token !== '--demo' && token !== '--live');
  let session: Session | undefined;
  const search = async (query: Record<string, unknown>) => {
    session ??= await openSession({demo, live, warn: text => io.stderr.write(`vastdeck: ${text}\n`)});
    return session.ctx.client.searchOffers(query);
  };
  try {
    return await runOffersCommand(rest, {search, settings: openSettings().all(), stdout: io.stdout, stderr: io.stderr});
  } catch (error) {
    return reportFailure(error, io.stderr);
  } finally {
    await session?.close();
  }
}
