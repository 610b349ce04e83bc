// Runs vastdeck's real CLI entry in-process and captures what it writes to stdout and stderr, so
// subcommand tests check exit codes and output exactly as a shell would see them.
import {PassThrough} from 'node:stream';
import {main} from '../../source/cli.js';

function capture(): {stream: PassThrough; text: () => string} {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', chunk => (text += String(chunk)));
  return {stream, text: () => text};
}

export async function runCli(argv: string[]): Promise<{code: number; stdout: string; stderr: string}> {
  const stdout = capture();
  const stderr = capture();
  const writeOut = process.stdout.write.bind(process.stdout);
  const writeErr = process.stderr.write.bind(process.stderr);
  process.stdout.write = stdout.stream.write.bind(stdout.stream) as typeof process.stdout.write;
  process.stderr.write = stderr.stream.write.bind(stderr.stream) as typeof process.stderr.write;
  try {
    const code = await main(argv);
    return {code, stdout: stdout.text(), stderr: stderr.text()};
  } finally {
    process.stdout.write = writeOut;
    process.stderr.write = writeErr;
  }
}
