// The storage volumes of an instance (docs/vast-api.md §6.3): found before the destroy (the volume
// list names the instances using each), deleted once the instance is confirmed gone (a volume in
// use cannot be deleted). A volume outlives its instance and bills storage. Used by destroy.ts.
import {VastRefusedError} from '../errors.js';
import {isRecord, numberField} from '../vast/parse.js';
import type {VastClient} from '../vast/client.js';
import {CleanupError, type CleanupState, type CleanupStep} from './cleanup-state.js';
import {failurePhrase} from './refusal.js';

/** Volumes used by this instance alone; a volume shared with another instance is kept, with a warning. */
export async function attachedVolumes(client: VastClient, instanceId: number): Promise<{ids: number[]; warnings: string[]}> {
  let volumes: Array<{id: number; instanceIds: number[]}>;
  try {
    volumes = await client.request('GET', '/api/v0/volumes/', {searchParams: {owner: 'me', type: 'all_volume'}, parse: parseVolumes});
  } catch (error) {
    return {ids: [], warnings: [`vastdeck could not list storage volumes because ${failurePhrase(error, {stopped: false})}: check the Vast console for a volume of instance ${instanceId}, it would bill storage.`]};
  }
  const mine = volumes.filter(volume => volume.instanceIds.includes(instanceId));
  const shared = mine.filter(volume => volume.instanceIds.some(id => id !== instanceId));
  return {
    ids: mine.filter(volume => !shared.includes(volume)).map(volume => volume.id),
    warnings: shared.map(volume => `Storage volume ${volume.id} is also used by instance ${volume.instanceIds.find(id => id !== instanceId)}, so it is kept.`),
  };
}

/** Deletes the volumes recorded in the state (404 = already gone); returns the ids deleted. */
export async function deleteVolumes(client: VastClient, state: CleanupState, say: (step: CleanupStep, message: string) => void): Promise<number[]> {
  const deleted: number[] = [];
  for (const volumeId of state.record.volumeIds) {
    try {
      await client.request('DELETE', '/api/v0/volumes/', {searchParams: {id: String(volumeId)}, parse: () => undefined});
    } catch (error) {
      if (!(error instanceof VastRefusedError && error.status === 404)) {
        throw new CleanupError(
          'volume',
          state.record.instanceId,
          `Instance ${state.record.instanceId} is destroyed, but its storage volume ${volumeId} was not deleted because ${failurePhrase(error, {stopped: false})}: it bills storage until you delete it in the Vast console, or run the cleanup again.`,
          {cause: error, code: 'api-refused'},
        );
      }
    }
    deleted.push(volumeId);
    state.setVolumes(state.record.volumeIds.filter(id => id !== volumeId));
    say('destroy', `Storage volume ${volumeId} deleted.`);
  }
  return deleted;
}

function parseVolumes(body: unknown): Array<{id: number; instanceIds: number[]}> {
  if (!isRecord(body) || !Array.isArray(body.volumes)) throw new Error('no "volumes" list');
  return body.volumes.flatMap((raw: unknown) => {
    const id = isRecord(raw) ? numberField(raw, 'id') : undefined;
    if (!isRecord(raw) || id === undefined) return [];
    const listed: unknown[] = Array.isArray(raw.instances) ? raw.instances : [];
    const instanceIds = listed.flatMap(item => {
      const value = isRecord(item) ? numberField(item, 'id') : typeof item === 'number' ? item : undefined;
      return value === undefined ? [] : [value];
    });
    return [{id, instanceIds}];
  });
}
