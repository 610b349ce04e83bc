// The status line's message while it is fresh: info and warnings for 8 s, errors for 15 s, then
// undefined (the status bar shows the connection line again). A timer re-renders at the expiry.
import {useEffect, useState} from 'react';
import type {MessageLevel, MessageSnapshot, ModelView} from '../../core/deck-types.js';
import {useModel} from './useModel.js';

export const MESSAGE_LIFETIME_MS: Readonly<Record<MessageLevel, number>> = {info: 8000, warn: 8000, error: 15_000};

export function useFreshMessage(messages: ModelView<MessageSnapshot>): MessageSnapshot['current'] {
  const message = useModel(messages).current;
  const [, setExpired] = useState(0);
  const expiresAtMs = message ? message.atMs + MESSAGE_LIFETIME_MS[message.level] : 0;

  useEffect(() => {
    if (!message) return undefined;
    const timer = setTimeout(() => {
      setExpired(count => count + 1);
    }, Math.max(0, expiresAtMs - Date.now()) + 5);
    return () => {
      clearTimeout(timer);
    };
  }, [message, expiresAtMs]);

  return message && Date.now() < expiresAtMs ? message : undefined;
}
