// Routes named commands from App's single keyboard owner to the pane or editor that handles them.
// A pane registers a handler for its scope; an editor registers a capturing scope ('filter') while
// it is open, and App then sends it every key first. Handlers are read through a ref, so a key never
// reaches a stale closure.
import {createContext, useContext, useEffect, useRef} from 'react';
import type {Command, Scope} from '../keymap.js';

/** Handles one command; `input` is the raw text (used by 'edit.insert'). */
export type CommandHandler = (command: Command, input: string) => void;

export interface CommandRouter {
  register(scope: Scope, handler: CommandHandler): () => void;
}

export const CommandRouterContext = createContext<CommandRouter | undefined>(undefined);

export function useCommandHandler(scope: Scope, handler: CommandHandler, active = true): void {
  const router = useContext(CommandRouterContext);
  if (!router) throw new Error('useCommandHandler needs a CommandRouterContext provider (App renders one).');
  const latest = useRef(handler);
  latest.current = handler;

  useEffect(() => {
    if (!active) return undefined;
    return router.register(scope, (command, input) => {
      latest.current(command, input);
    });
  }, [router, scope, active]);
}
