// What each job cost, from the job.json records in the outputs folder (core/queue/run-job.ts writes
// them): its instance's $/h for the time it held it plus its share of the instance's downloads.
// Records written before shares were measured have only `costShareUsd` (GPU seconds × $/h).
import {readdir, readFile} from 'node:fs/promises';
import {join} from 'node:path';

export interface JobCostRecord {
  id: string;
  workflow?: string;
  instanceId?: number;
  method?: string;
  finishedAt?: string;
  /** The job's whole share; undefined when the record has none (e.g. an OnStart job: its instance is the job). */
  costUsd?: number;
  downloadsUsd?: number;
}

/** Every job.json directly under the outputs folder, oldest first by folder name (job ids start with a timestamp). */
export async function readJobCosts(outputsRoot: string): Promise<JobCostRecord[]> {
  let folders: string[];
  try {
    folders = (await readdir(outputsRoot, {withFileTypes: true})).filter(entry => entry.isDirectory()).map(entry => entry.name).sort();
  } catch {
    return [];
  }
  const records: JobCostRecord[] = [];
  for (const folder of folders) {
    let data: Record<string, unknown>;
    try {
      data = JSON.parse(await readFile(join(outputsRoot, folder, 'job.json'), 'utf8')) as Record<string, unknown>;
    } catch {
      continue;
    }
    if (typeof data !== 'object' || data === null) continue;
    const instance = data.instance as {id?: unknown} | undefined;
    const timings = data.timings as {finishedAt?: unknown; collectedAt?: unknown} | undefined;
    const cost = data.cost as {totalUsd?: unknown; downloadsUsd?: unknown} | undefined;
    const number = (value: unknown): number | undefined => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);
    const finishedAt = typeof timings?.finishedAt === 'string' ? timings.finishedAt : typeof timings?.collectedAt === 'string' ? timings.collectedAt : undefined;
    records.push({
      id: typeof data.id === 'string' ? data.id : folder,
      ...(typeof data.workflow === 'string' ? {workflow: data.workflow} : {}),
      ...(number(instance?.id) !== undefined ? {instanceId: number(instance?.id)} : {}),
      ...(typeof data.method === 'string' ? {method: data.method} : {}),
      ...(finishedAt ? {finishedAt} : {}),
      ...(number(cost?.totalUsd ?? data.costShareUsd) !== undefined ? {costUsd: number(cost?.totalUsd ?? data.costShareUsd)} : {}),
      ...(number(cost?.downloadsUsd) !== undefined ? {downloadsUsd: number(cost?.downloadsUsd)} : {}),
    });
  }
  return records;
}
