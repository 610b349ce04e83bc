// The dashboard's message line: the latest thing vastdeck wants the user to read (an error
// sentence, a confirmation). Any part of the service layer can post; the status bar shows it.
import type {MessageLevel, MessageSnapshot} from './deck-types.js';
import {Model} from './model.js';

export class MessageModel extends Model<MessageSnapshot> {
  constructor() {
    super({});
  }

  post(text: string, level: MessageLevel = 'info', atMs = Date.now()): void {
    this.update({current: {text, level, atMs}});
  }

  clear(): void {
    this.update({});
  }
}
