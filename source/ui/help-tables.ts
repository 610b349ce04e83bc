// Every key table, in the order the `?` help lists them: the help is generated from the same
// tables that dispatch the keys, so it cannot drift from what the keys do.
import {APP_KEYS} from './app-keys.js';
import {CONFIRM_KEYS} from './instances/DestroyAllDialog.js';
import {INSTANCES_KEYS} from './instances/InstancesPane.js';
import {LOG_FILTER_KEYS, LOG_KEYS} from './instances/InstanceDetail.js';
import type {KeyTable} from './keys/key-table.js';
import {FILTER_KEYS, OFFERS_KEYS} from './offers/OffersPane.js';
import {JOB_FORM_KEYS} from './queue/AddJobDialog.js';
import {JOB_KEYS} from './queue/JobDetail.js';
import {QUEUE_KEYS} from './queue/QueuePane.js';
import {DIALOG_KEYS} from './shared/Dialog.js';
import {EDITOR_TABLE, HELP_KEYS} from './shared/HelpOverlay.js';
import {MESSAGE_KEYS} from './shared/MessageLog.js';

export const HELP_TABLES: ReadonlyArray<KeyTable<never>> = [
  APP_KEYS,
  OFFERS_KEYS,
  FILTER_KEYS,
  INSTANCES_KEYS,
  LOG_KEYS,
  LOG_FILTER_KEYS,
  QUEUE_KEYS,
  JOB_KEYS,
  JOB_FORM_KEYS,
  CONFIRM_KEYS,
  EDITOR_TABLE,
  DIALOG_KEYS,
  MESSAGE_KEYS,
  HELP_KEYS,
];
