// The simulated internet, as far as the simulated provision.sh can see it: how big a model file is,
// and whether its host answers 404, or 401 without the token it wants (sim-data/remote-files.json).
// Used by provisioning-run.ts. Nothing here touches the network.
import {readFileSync} from 'node:fs';
import {fileURLToPath} from 'node:url';

export type RemoteAnswer = {status: 200; bytes: number} | {status: 401 | 404};

interface Entry {
  url?: string;
  prefix?: string;
  bytes?: number;
  status?: number;
  auth?: 'HF_TOKEN' | 'CIVITAI_TOKEN';
}

interface Catalogue {
  files: Entry[];
  defaultBytesByFolder: Record<string, number>;
}

const CATALOGUE_PATH = fileURLToPath(new URL('../../sim-data/remote-files.json', import.meta.url));
let catalogue: Catalogue | undefined;

function load(): Catalogue {
  catalogue ??= JSON.parse(readFileSync(CATALOGUE_PATH, 'utf8')) as Catalogue;
  return catalogue;
}

/** What fetching this model URL answers, given the tokens the instance has. */
export function remoteFile(url: string, folder: string, tokens: {HF_TOKEN: boolean; CIVITAI_TOKEN: boolean}): RemoteAnswer {
  const {files, defaultBytesByFolder} = load();
  const bare = url.replace(/[?#].*$/, '');
  const entry = files.find((file) => file.url === bare) ?? files.find((file) => file.prefix !== undefined && bare.startsWith(file.prefix));
  if (entry?.status === 404) return {status: 404};
  if (entry?.auth && !tokens[entry.auth]) return {status: 401};
  return {status: 200, bytes: entry?.bytes ?? defaultBytesByFolder[folder] ?? 1_000_000_000};
}
