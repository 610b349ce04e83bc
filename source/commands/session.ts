// What the instance subcommands (`up`, `watch`) share: the connection (demo simulator or live),
// an API client, settings, the ledger, pinned host keys and the user's SSH identity.
import {join} from 'node:path';
import {connect, type Connection} from '../connect.js';
import {openSettings} from '../core/config.js';
import {Ledger} from '../core/ledger/ledger.js';
import type {VastdeckSettings} from '../core/settings.js';
import {KnownHosts} from '../core/ssh/known-hosts.js';
import {VastClient} from '../core/vast/client.js';
import {VERSION} from '../core/version.js';

export interface Session {
  connection: Connection;
  client: VastClient;
  settings: VastdeckSettings;
  ledger: Ledger;
  knownHosts: KnownHosts;
  apiOrigin: string;
  close(): Promise<void>;
}

export async function openSession(options: {demo: boolean; live: boolean; stderr: NodeJS.WritableStream}): Promise<Session> {
  const settings = openSettings().all();
  const connection = await connect({demo: options.demo, live: options.live});
  if (connection.mode === 'demo') options.stderr.write(`vastdeck: demo mode — ${connection.detail}\n`);
  const client = new VastClient({baseUrl: connection.baseUrl, apiKey: connection.apiKey, userAgent: `vastdeck/${VERSION}`});
  const ledger = Ledger.open(connection.stateDir ? {path: join(connection.stateDir, 'ledger.json')} : {});
  for (const warning of ledger.warnings) options.stderr.write(`vastdeck: ${warning}\n`);
  return {
    connection,
    client,
    settings,
    ledger,
    knownHosts: connection.stateDir ? KnownHosts.open(join(connection.stateDir, 'known_hosts.json')) : KnownHosts.open(),
    apiOrigin: new URL(connection.baseUrl).origin,
    close: () => connection.close(),
  };
}
