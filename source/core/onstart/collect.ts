// Collects an OnStart job's outputs over SFTP into the local job folder, checking each file's size
// and sha256 against the done marker before it gets its final name. Used by onstart-run.ts; the
// cleanup extractor (cleanup/extract.ts) pulls a whole instance home later and skips these by job.json.
import {createHash} from 'node:crypto';
import {createWriteStream} from 'node:fs';
import {mkdir, rename, rm} from 'node:fs/promises';
import {join} from 'node:path';
import {Transform} from 'node:stream';
import {pipeline} from 'node:stream/promises';
import type {Client as SshClient, SFTPWrapper} from 'ssh2';
import {VastdeckError} from '../errors.js';
import type {OnStartOutput} from './job-env.js';

/** Downloads every output of `remoteDir` into `localDir`; returns the local paths in marker order. */
export async function collectOutputs(
  ssh: SshClient,
  remoteDir: string,
  outputs: readonly OnStartOutput[],
  localDir: string,
  onFile?: (output: OnStartOutput, path: string) => void,
): Promise<string[]> {
  await mkdir(localDir, {recursive: true});
  const sftp = await openSftp(ssh);
  try {
    const paths: string[] = [];
    for (const output of outputs) {
      const path = await fetchVerified(sftp, `${remoteDir}/${output.file}`, output, localDir);
      paths.push(path);
      onFile?.(output, path);
    }
    return paths;
  } finally {
    sftp.end();
  }
}

function openSftp(ssh: SshClient): Promise<SFTPWrapper> {
  return new Promise((resolve, reject) => {
    ssh.sftp((error, sftp) => {
      if (error) reject(new VastdeckError('ssh', `The instance refused an SFTP session (${error.message}), so the outputs were not collected: run the job again, or copy them with scp.`));
      else resolve(sftp);
    });
  });
}

async function fetchVerified(sftp: SFTPWrapper, remotePath: string, expected: OnStartOutput, localDir: string): Promise<string> {
  const finalPath = join(localDir, expected.file);
  const partPath = join(localDir, `.${expected.file}.part`);
  const hash = createHash('sha256');
  let bytes = 0;
  const measure = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      bytes += chunk.length;
      callback(null, chunk);
    },
  });
  try {
    await pipeline(sftp.createReadStream(remotePath), measure, createWriteStream(partPath, {mode: 0o644}));
  } catch (error) {
    await rm(partPath, {force: true});
    const reason = error instanceof Error ? error.message : String(error);
    throw new VastdeckError('ssh', `Copying ${remotePath} from the instance failed (${reason}): run the job again, or copy it with scp before destroying the instance.`);
  }
  const sha256 = hash.digest('hex');
  if (bytes !== expected.bytes || sha256 !== expected.sha256) {
    await rm(partPath, {force: true});
    throw new VastdeckError(
      'bad-answer',
      `The output ${expected.file} arrived as ${bytes} bytes (sha256 ${sha256.slice(0, 12)}…) but done.json says ${expected.bytes} bytes (${expected.sha256.slice(0, 12)}…): collect it again before destroying the instance.`,
    );
  }
  await rename(partPath, finalPath);
  return finalPath;
}
