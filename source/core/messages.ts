// The dashboard's message line: the latest thing vastdeck wants the user to read (an error
// sentence, a confirmation). Any part of the service layer can post; the status bar shows it, and
// the message log view lists every message of the session (kept here, at post time, because
// notifications are batched and two posts in one batch would otherwise show only the second).
import type {MessageLevel, MessageSnapshot} from './deck-types.js';
import {Model} from './model.js';

/** The message log keeps this many of the newest messages. */
export const MESSAGE_LOG_LIMIT = 1000;

export class MessageModel extends Model<MessageSnapshot> {
  constructor() {
    super({log: []});
  }

  post(text: string, level: MessageLevel = 'info', atMs = Date.now()): void {
    const message = {text, level, atMs};
    this.update(previous => ({current: message, log: [...previous.log.slice(-(MESSAGE_LOG_LIMIT - 1)), message]}));
  }

  /** Clears the message line; the log keeps every message. */
  clear(): void {
    this.update(previous => ({log: previous.log}));
  }
}
