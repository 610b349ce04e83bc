// Local storage volumes on the simulated cloud (docs/vast-api.md §6.3): a create body's volume_info
// makes one (or attaches an existing one), GET /volumes lists them, DELETE /volumes/?id= removes one
// once no instance uses it. A volume outlives its instance, as on Vast. Wired by instance-routes.ts.
import {errorBody, type SimRequest, type SimRouter} from './api-server.js';

interface SimVolume {
  id: number;
  name: string;
  sizeGb: number;
  machineId: number;
  instanceIds: number[];
  createdSec: number;
}

/** $/GB/month of a local volume [INFERRED from offers' storage_cost]. */
const STORAGE_COST_PER_GB_MONTH = 0.1;
const DEFAULT_SIZE_GB = 15;

export class SimVolumes {
  private readonly volumes = new Map<number, SimVolume>();
  private nextId = 20_118_400;

  /** After a create answered 200: the volume its body asked for, attached to `instanceId`. */
  attachFromCreate(instanceId: number, machineId: number, body: unknown): void {
    const info = typeof body === 'object' && body !== null ? (body as {volume_info?: unknown}).volume_info : undefined;
    if (typeof info !== 'object' || info === null) return;
    const {create_new: createNew, volume_id: volumeId, size, name} = info as Record<string, unknown>;
    const existing = typeof volumeId === 'number' ? this.volumes.get(volumeId) : undefined;
    if (createNew !== true) {
      existing?.instanceIds.push(instanceId);
      return;
    }
    const id = (this.nextId += 7);
    this.volumes.set(id, {
      id,
      name: typeof name === 'string' && name !== '' ? name : `V.${id}`,
      sizeGb: typeof size === 'number' && size > 0 ? size : DEFAULT_SIZE_GB,
      machineId,
      instanceIds: [instanceId],
      createdSec: Date.now() / 1000,
    });
  }

  /** PUT /volumes/ {"id": <volume offer id>, "size", "name"}: a volume not yet attached to an instance. */
  create(machineId: number, sizeGb: number, name: string | undefined): SimVolume {
    const id = (this.nextId += 7);
    const volume = {id, name: name || `V.${id}`, sizeGb, machineId, instanceIds: [], createdSec: Date.now() / 1000};
    this.volumes.set(id, volume);
    return volume;
  }

  /** The instance was destroyed: its volumes stay (and would bill) until deleted. */
  detach(instanceId: number): void {
    for (const volume of this.volumes.values()) volume.instanceIds = volume.instanceIds.filter(id => id !== instanceId);
  }

  list(): Record<string, unknown>[] {
    return [...this.volumes.values()].map(volume => ({
      id: volume.id,
      name: volume.name,
      label: volume.name,
      status: volume.instanceIds.length > 0 ? 'in_use' : 'unused',
      disk_space: volume.sizeGb,
      machine_id: volume.machineId,
      instances: [...volume.instanceIds],
      start_date: volume.createdSec,
      storage_total_cost: (volume.sizeGb * STORAGE_COST_PER_GB_MONTH) / 720,
      type: 'local_volume',
    }));
  }

  remove(id: number): 'deleted' | 'missing' | 'in-use' {
    const volume = this.volumes.get(id);
    if (!volume) return 'missing';
    if (volume.instanceIds.length > 0) return 'in-use';
    this.volumes.delete(id);
    return 'deleted';
  }
}

/** Volume offers: the disk of a market offer's machine, priced at its storage_cost (CLI `search volumes`). */
export type VolumeOffers = () => Record<string, unknown>[];

export function addVolumeRoutes(router: SimRouter, volumes: SimVolumes, offers: VolumeOffers = () => []): void {
  router.add('POST', '/api/v0/volumes/search/', request => {
    const body = typeof request.body === 'object' && request.body !== null ? (request.body as {limit?: unknown}) : {};
    const limit = typeof body.limit === 'number' && body.limit > 0 ? Math.floor(body.limit) : 64;
    return {status: 200, json: {offers: offers().slice(0, limit)}};
  });
  router.add('PUT', '/api/v0/volumes/', request => {
    const body = (typeof request.body === 'object' && request.body !== null ? request.body : {}) as {id?: unknown; size?: unknown; name?: unknown};
    const offer = offers().find(candidate => candidate.id === Number(body.id));
    if (!offer) return {status: 404, json: errorBody('no_such_ask', `Volume offer ${String(body.id)} is not available.`)};
    const size = Number(body.size ?? DEFAULT_SIZE_GB);
    if (!Number.isFinite(size) || size < 1) return {status: 400, json: errorBody('invalid_args', 'size must be a number of GB, at least 1.')};
    const volume = volumes.create(Number(offer.machine_id), size, typeof body.name === 'string' ? body.name : undefined);
    return {status: 200, json: {success: true, volume_name: volume.name, volume_id: volume.id}};
  });
  router.add('GET', '/api/v0/volumes/', request => {
    const type = request.query.type ?? 'all_volume';
    return {status: 200, json: {volumes: type === 'network_volume' ? [] : volumes.list()}};
  });
  router.add('DELETE', '/api/v0/volumes/', request => {
    const id = volumeIdOf(request);
    if (id === undefined) return {status: 400, json: errorBody('invalid_args', 'Pass the volume id, e.g. DELETE /api/v0/volumes/?id=123.')};
    const outcome = volumes.remove(id);
    if (outcome === 'missing') return {status: 404, json: errorBody('no_such_volume', `Volume ${id} not found.`)};
    if (outcome === 'in-use') return {status: 400, json: errorBody('volume_in_use', `Volume ${id} is in use: destroy the instances using it first.`)};
    return {status: 200, json: {success: true}};
  });
}

/** ?id= (the CLI) or a JSON body {"id": ...} (the OpenAPI). */
function volumeIdOf(request: SimRequest): number | undefined {
  const fromBody = typeof request.body === 'object' && request.body !== null ? (request.body as {id?: unknown}).id : undefined;
  const raw = request.query.id ?? fromBody;
  const id = Number(raw);
  return raw !== undefined && Number.isInteger(id) && id > 0 ? id : undefined;
}
