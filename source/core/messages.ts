// The dashboard's messages: the latest thing vastdeck wants the user to read (an error sentence, a
// confirmation) for the status line, and every message of the session in order (bounded) for the
// message log view — several posted in one tick are all kept, none overwritten unseen.
import type {MessageLevel, MessageSnapshot} from './deck-types.js';
import {Model} from './model.js';

/** Messages kept for the log view; the oldest go first. */
const HISTORY = 500;

export class MessageModel extends Model<MessageSnapshot> {
  constructor() {
    super({history: []});
  }

  post(text: string, level: MessageLevel = 'info', atMs = Date.now()): void {
    const message = {text, level, atMs};
    this.update(previous => ({current: message, history: [...previous.history.slice(-(HISTORY - 1)), message]}));
  }

  clear(): void {
    this.update(previous => ({history: previous.history}));
  }
}
