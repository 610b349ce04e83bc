// The provisioning bundle: provision.sh, the manifest and the manifest's workflow files packed into
// instance variables (VASTDECK_BUNDLE_B64_0, _1, …: base64 of gzip of a JSON {path: text}) and
// unpacked by a short onstart before Vast's own boot, so going live needs no web host. Written by
// delivery.ts; the simulator reads it back exactly as the onstart line does.
import {gunzipSync, gzipSync} from 'node:zlib';

export const BUNDLE_ENV_PREFIX = 'VASTDECK_BUNDLE_B64_';
/** Where the bundle lands on the instance (outside /workspace, which the boot syncs). */
export const BUNDLE_DIR = '/opt/vastdeck';
/** Vast's limit per variable, counted as KEY=value (create_instance.yaml). */
const MAX_ENV_ENTRY_CHARS = 256;

/** The files as VASTDECK_BUNDLE_B64_n chunks, each KEY=value within Vast's 256 characters. */
export function packBundle(files: Readonly<Record<string, string>>): Record<string, string> {
  const payload = gzipSync(Buffer.from(JSON.stringify(files), 'utf8'), {level: 9}).toString('base64');
  // Room for a three-digit chunk number and the '='.
  const size = MAX_ENV_ENTRY_CHARS - BUNDLE_ENV_PREFIX.length - 3 - 1;
  const env: Record<string, string> = {};
  for (let index = 0; index * size < payload.length; index++) env[`${BUNDLE_ENV_PREFIX}${index}`] = payload.slice(index * size, (index + 1) * size);
  return env;
}

/** The files of a bundle in these variables, or undefined when there is none (or it is damaged). */
export function unpackBundle(env: Iterable<readonly [string, string]>): Record<string, string> | undefined {
  const chunks: Array<[number, string]> = [];
  for (const [name, value] of env) {
    if (!name.startsWith(BUNDLE_ENV_PREFIX)) continue;
    const index = Number(name.slice(BUNDLE_ENV_PREFIX.length));
    if (Number.isInteger(index) && index >= 0) chunks.push([index, value]);
  }
  if (chunks.length === 0) return undefined;
  chunks.sort((a, b) => a[0] - b[0]);
  try {
    const files = JSON.parse(gunzipSync(Buffer.from(chunks.map(([, value]) => value).join(''), 'base64')).toString('utf8')) as unknown;
    if (typeof files !== 'object' || files === null || Array.isArray(files)) return undefined;
    const entries = Object.entries(files).filter((entry): entry is [string, string] => typeof entry[1] === 'string');
    return Object.fromEntries(entries);
  } catch {
    return undefined;
  }
}

/**
 * The onstart that writes the bundle's files (python3 is in every Vast image), then runs `next`
 * (the image's own boot by default). `;` before it: the instance starts even if unpacking failed,
 * and the provisioning script's absence then shows in its log.
 */
export function bundleOnstart(next = 'entrypoint.sh'): string {
  const unpack = [
    'import os,json,gzip,base64',
    `p="${BUNDLE_ENV_PREFIX}"`,
    'c=sorted((int(k[len(p):]),v) for k,v in os.environ.items() if k.startswith(p))',
    'd=json.loads(gzip.decompress(base64.b64decode("".join(v for _,v in c))))',
    '[(os.makedirs(os.path.dirname(f),exist_ok=True),open(f,"w").write(t),os.chmod(f,0o755)) for f,t in d.items()]',
  ].join(';');
  return `python3 -c '${unpack}'; ${next}`;
}

/** Vast.ai's limit on all of a create's instance variables together (each counted as KEY=value). */
export const VAST_ENV_TOTAL_CHARS = 32_768;

/** What these variables take of Vast's 32768-character budget (each counted as KEY=value). */
export function envChars(env: Readonly<Record<string, string>>): number {
  return Object.entries(env).reduce((total, [name, value]) => total + name.length + 1 + value.length, 0);
}

/** A bash script without whole-line comments and blank lines (the shebang stays): what ships. */
export function withoutShellComments(script: string): string {
  const lines = script.split('\n');
  const kept = lines.filter((line, index) => (index === 0 && line.startsWith('#!')) || (!/^\s*#/.test(line) && line.trim() !== ''));
  return `${kept.join('\n')}\n`;
}
