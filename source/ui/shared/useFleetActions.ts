// The fleet actions the panes start from a key or a dialog button. None is awaited in a render:
// each runs in the background and reports through the message line (the fleet model posts its own
// progress and errors; a rejection that still gets here is posted too, so nothing fails silently).
import {useStdout} from 'ink';
import {useMemo, useRef} from 'react';
import type {DeckView, MessageLevel} from '../../core/deck-types.js';
import {toVastdeckError} from '../../core/errors.js';
import type {RankedOffer} from '../../core/offers/types.js';

export interface FleetActions {
  /** Rent the first candidate still available (the fleet falls through the rest in order). */
  rent(candidates: readonly RankedOffer[]): void;
  createSshKey(): void;
  saveLog(key: string, label: string): void;
  /** Bring the instance's outputs and logs home (unless forced), destroy it and confirm it is gone. */
  destroy(key: string, options?: {force?: boolean}): void;
  /** A sentence for the message line (e.g. why a key did nothing). */
  notify(text: string, level?: MessageLevel): void;
  /** Copies the portal token to the terminal's clipboard (OSC 52); the token is never shown by this. */
  copyToken(key: string): void;
  /** Opens ComfyUI in the desktop's browser (URL only, never the token). */
  openPortal(key: string): void;
}

export function useFleetActions(deck: DeckView, onRentStarted: () => void): FleetActions {
  const {stdout} = useStdout();
  const latest = useRef({deck, onRentStarted, stdout});
  latest.current = {deck, onRentStarted, stdout};

  return useMemo<FleetActions>(() => {
    const report = (error: unknown) => {
      latest.current.deck.notify(toVastdeckError(error).message, 'error');
    };
    return {
      rent(candidates) {
        const {deck: current, onRentStarted: started} = latest.current;
        current.fleet.create(candidates).catch(report);
        started();
      },
      createSshKey() {
        latest.current.deck.fleet.createSshKey().catch(report);
      },
      saveLog(key, label) {
        const current = latest.current.deck;
        current.fleet.saveLog(key).then(path => {
          current.notify(`Saved the log of ${label} to ${path}`);
        }, report);
      },
      destroy(key, options) {
        latest.current.deck.fleet.destroy(key, options?.force ? {force: true} : undefined).catch(report);
      },
      notify(text, level) {
        latest.current.deck.notify(text, level);
      },
      copyToken(key) {
        const {deck: current, stdout: out} = latest.current;
        const secret = current.fleet.portalSecret(key);
        if (!secret) {
          current.notify('No portal token yet: it appears once the instance runs and reports its ports.');
          return;
        }
        // OSC 52: the terminal puts the text on the clipboard; nothing is drawn on the screen.
        out.write(`\u001B]52;c;${Buffer.from(secret.token).toString('base64')}\u0007`);
        current.notify('Copied the portal token to the clipboard (if your terminal allows OSC 52): paste it as the password for user vastai.');
      },
      openPortal(key) {
        const current = latest.current.deck;
        current.fleet.openPortal(key).then(text => current.notify(text), report);
      },
    };
  }, []);
}
