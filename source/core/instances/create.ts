// The create action: rents the best offer that is still there, falling through the ranking when an
// offer was taken (like Vast's QA tool, skipping a machine once it failed). Every attempt is in the
// ledger before the API call. Called by the dashboard's create command and `vastdeck up`.
import {OfferGoneError, VastBadAnswerError, VastUnreachableError, VastdeckError, InputError} from '../errors.js';
import type {Ledger} from '../ledger/ledger.js';
import type {VastdeckSettings} from '../settings.js';
import {ensureKeyRegistered, type SshIdentity} from '../ssh/keys.js';
import type {VastClient} from '../vast/client.js';
import {attachSshKeyToInstance, createInstance} from '../vast/instances-api.js';
import type {Offer} from '../vast/types.js';
import {envChars, VAST_ENV_TOTAL_CHARS} from '../provisioning/bundle.js';
import type {ProvisioningDelivery} from '../provisioning/delivery.js';
import {buildCreateBody, newWebPassword} from './create-body.js';
import type {LedgerInstance} from './types.js';

export interface CreateEvent {
  kind: 'trying' | 'offer-taken' | 'created' | 'key-attach-failed';
  offerId: number;
  machineId: number;
  /** Set on 'created' (and later events). */
  instanceId?: number;
  /** One sentence for the message line. */
  message: string;
}

/** What buildCreateBody's own variables (ports, portal, tokens, PROVISIONING_SCRIPT) may take. */
const CREATE_ENV_RESERVE_CHARS = 2048;

export interface CreateDeps {
  client: VastClient;
  ledger: Ledger;
  settings: VastdeckSettings;
  /** scheme://host:port of the API, recorded with each ledger entry. */
  apiOrigin: string;
  identity: SshIdentity;
  /** Where HF_TOKEN and CIVITAI_TOKEN are read from (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** How provisioning travels (checked before anything is rented: usecases/validate.ts). */
  provisioning: ProvisioningDelivery;
  /** buildCreateBody's onstart and extraEnv (the OnStart method's job and runner). */
  body?: {onstart?: string; extraEnv?: Record<string, string>};
  /** Checked before each create call: an interrupt stops the fall-through before the next offer. */
  signal?: AbortSignal;
  onEvent?: (event: CreateEvent) => void;
}

export interface CreatedFromRanking {
  ledgerEntry: LedgerInstance;
  instanceId: number;
  offer: Offer;
  /** The instance portal's password (also in the 0600 ledger). */
  webPassword: string;
}

const DEFAULT_MAX_ATTEMPTS = 8;

/**
 * Tries `candidates` (ranked best first) until one is rented. A taken offer falls through to the
 * next; any other refusal (key, credit, a bad setting) would fail on every offer, so it is thrown.
 * A create whose answer was lost leaves its entry 'creating': reconcile finds it by label.
 */
export async function createFromRanking(deps: CreateDeps, candidates: readonly Offer[], options: {maxAttempts?: number} = {}): Promise<CreatedFromRanking> {
  if (candidates.length === 0) throw new InputError('There is no offer to rent: loosen the filters (/ in the Offers pane, or `vastdeck config set filters.…`) and try again.');
  const {client, ledger, identity} = deps;
  const emit = (event: CreateEvent): void => deps.onEvent?.(event);
  const {provisioning} = deps;
  // An OnStart job and a shipped provisioning bundle share Vast's env limit; say so before renting.
  const shipped = envChars({...provisioning.extraEnv, ...deps.body?.extraEnv});
  if (deps.body?.extraEnv && provisioning.onstartPrefix && shipped > VAST_ENV_TOTAL_CHARS - CREATE_ENV_RESERVE_CHARS) {
    throw new InputError(
      `The OnStart job and the shipped provisioning (script, manifest, workflows) take ${shipped} characters of instance variables together, over what Vast.ai's ${VAST_ENV_TOTAL_CHARS} leave: host the provisioning script or manifest (instance.provisioningScriptUrl, an http(s) instance.provisioningManifest), or trim the workflow.`,
    );
  }
  await ensureKeyRegistered(client, identity);
  // The OnStart method brings its own onstart: the provisioning bundle is unpacked first.
  const ownOnstart = deps.body?.onstart;
  const onstart = ownOnstart && provisioning.onstartPrefix ? `${provisioning.onstartPrefix}; ${ownOnstart}` : (ownOnstart ?? provisioning.onstart);
  const body = {onstart, extraEnv: {...provisioning.extraEnv, ...deps.body?.extraEnv}};
  const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  const failedMachines = new Set<number>();
  const triedOffers = new Set<number>();
  let attempts = 0;
  for (const offer of candidates) {
    if (attempts >= maxAttempts) break;
    if (triedOffers.has(offer.id) || failedMachines.has(offer.machineId)) continue;
    if (deps.signal?.aborted) throw new VastdeckError('interrupted', 'Interrupted before renting: nothing was created.');
    triedOffers.add(offer.id);
    attempts++;
    const webPassword = newWebPassword();
    const entry = ledger.begin({
      apiOrigin: deps.apiOrigin,
      offerId: offer.id,
      machineId: offer.machineId,
      gpuName: offer.gpuName,
      numGpus: offer.numGpus,
      dphTotal: offer.dphTotal,
      webPassword,
    });
    emit({kind: 'trying', offerId: offer.id, machineId: offer.machineId, message: `Renting offer ${offer.id} (${offer.numGpus}× ${offer.gpuName}, $${offer.dphTotal.toFixed(3)}/h)…`});
    let instanceId: number;
    try {
      const request = buildCreateBody({offer, settings: deps.settings, label: entry.label, webPassword, env: deps.env ?? process.env, ...body});
      ({instanceId} = await createInstance(client, offer.id, request));
    } catch (error) {
      if (error instanceof OfferGoneError) {
        ledger.markCreateFailed(entry.localId, 'offer taken');
        // Machine id 0 means "unknown": skipping it would skip every other unknown machine too.
        if (offer.machineId > 0) failedMachines.add(offer.machineId);
        emit({kind: 'offer-taken', offerId: offer.id, machineId: offer.machineId, message: `Offer ${offer.id} was taken before vastdeck could rent it; trying the next one.`});
        continue;
      }
      if (error instanceof VastUnreachableError || error instanceof VastBadAnswerError) {
        ledger.note(entry.localId, `create answer lost: ${error.message}`);
        throw new VastdeckError(
          error.code,
          `The create on offer ${offer.id} may have gone through, but its answer was lost: vastdeck finds it by its label ${entry.label} when it next lists your instances, so check the Instances pane before renting again.`,
          {cause: error},
        );
      }
      ledger.markCreateFailed(entry.localId, error instanceof Error ? error.message : String(error));
      throw error;
    }
    const ledgerEntry = ledger.markCreated(entry.localId, instanceId);
    emit({kind: 'created', offerId: offer.id, machineId: offer.machineId, instanceId, message: `Created instance ${instanceId} on offer ${offer.id} (${entry.label}).`});
    return {ledgerEntry: await attachKey(deps, ledgerEntry, offer, instanceId), instanceId, offer, webPassword};
  }
  throw new VastdeckError(
    'offer-gone',
    `Every offer vastdeck tried (${attempts}) was taken before it could be rented: refresh the offer list and try again.`,
  );
}

/** The account key covers new instances; attaching it too is belt and braces, so a failure only warns. */
async function attachKey(deps: CreateDeps, entry: LedgerInstance, offer: Offer, instanceId: number): Promise<LedgerInstance> {
  try {
    await attachSshKeyToInstance(deps.client, instanceId, deps.identity.publicKey);
    return entry;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    deps.onEvent?.({
      kind: 'key-attach-failed',
      offerId: offer.id,
      machineId: offer.machineId,
      message: `Instance ${instanceId} was created but attaching your SSH key failed (${reason.replace(/[.\s]+$/, '')}); logs may need the account key to reach it.`,
    });
    return deps.ledger.note(entry.localId, `ssh key attach failed: ${reason}`);
  }
}
