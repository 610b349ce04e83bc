// The composition root: the one place that turns "where do we talk to" (connect.ts: the real API or
// the embedded simulated cloud) into the objects everything else uses — the use cases' DeckContext
// (client, settings, ledger, pinned host keys, install id, clock) for every subcommand, and the
// dashboard's Deck (the live models) on top of it. Nothing else builds these.
import {connect, type Connection, type ConnectOptions} from './connect.js';
import type {Deck, DeckOptions} from './core/deck.js';
import {buildContext, type DeckContext} from './core/usecases/context.js';
import {desktopOpener} from './os/desktop.js';

export interface Session {
  connection: Connection;
  ctx: DeckContext;
  /** One-time notes about the settings file (retired settings dropped), for the dashboard's message line. */
  notes: string[];
  close(): Promise<void>;
}

export interface SessionOptions extends ConnectOptions {
  /** Where notes about the connection go (demo mode, a loosely protected key file). */
  warn?: (text: string) => void;
}

export async function openSession(options: SessionOptions = {}): Promise<Session> {
  const connection = await connect(options);
  for (const warning of connection.warnings) options.warn?.(warning);
  try {
    const ctx = buildContext({
      mode: connection.mode,
      baseUrl: connection.baseUrl,
      apiKey: connection.apiKey,
      detail: connection.detail,
      speed: connection.speed,
      ...(connection.stateDir ? {stateDir: connection.stateDir} : {}),
      ...(options.env ? {env: options.env} : {}),
    });
    for (const warning of ctx.ledger.warnings) options.warn?.(warning);
    const notes = ctx.settingsStore.migrationNotes();
    for (const note of notes) options.warn?.(note);
    return {connection, ctx, notes, close: () => connection.close()};
  } catch (error) {
    await connection.close();
    throw error;
  }
}

/** The dashboard's models over a session (the desktop opener injected here, not in core); loaded only by the dashboard. */
export async function openDeck(session: Session, options: DeckOptions = {}): Promise<Deck> {
  const {Deck} = await import('./core/deck.js');
  return new Deck(session.ctx, {open: desktopOpener(session.ctx.env), ...options}).start();
}
