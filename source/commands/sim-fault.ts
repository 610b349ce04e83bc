// `vastdeck sim fault …`: arms, lists or clears faults of a running `vastdeck sim` through its
// control endpoint (POST/GET/DELETE /sim/faults), or strikes one instance now. The simulator is found
// at VAST_URL (or --url) and the key read from VAST_API_KEY or --key-file: never from an argument.
import {readFile} from 'node:fs/promises';
import {InputError} from '../core/errors.js';
import {FaultSpecError, parseFaultSpec} from '../sim/fault-plan.js';
import {parseArgs} from './args.js';
import type {SimCommandIo} from './sim.js';

const FLAGS = {
  url: {kind: 'string'},
  'key-file': {kind: 'string'},
  list: {kind: 'boolean'},
  clear: {kind: 'boolean'},
  instance: {kind: 'integer', min: 1},
  help: {kind: 'boolean', short: 'h'},
} as const;

const USAGE = `Usage: vastdeck sim fault SPEC            arm faults, e.g. 'api429=0.3,instance-death=1'
       vastdeck sim fault --list            show the armed faults
       vastdeck sim fault --clear           disarm every fault
       vastdeck sim fault --instance ID KIND strike one instance now (pull-error, oci-error, exited,
                                            offline, unknown, provisioning-failure, drop-ssh, refuse-ssh, death)
Options: --url URL (default $VAST_URL), --key-file PATH (default $VAST_API_KEY): the simulator's own.
`;

export async function runSimFaultCommand(argv: string[], io: SimCommandIo): Promise<number> {
  let request: {method: string; path: string; body?: unknown};
  let base: string;
  let key: string;
  try {
    const {flags, positionals} = parseArgs('sim fault', argv, FLAGS);
    if (flags.help) {
      io.stdout.write(USAGE);
      return 0;
    }
    request = requestOf(flags, positionals);
    base = String(flags.url ?? process.env.VAST_URL ?? '');
    if (!/^https?:\/\/[^/]+/.test(base)) throw new InputError('Say where the simulator runs: set VAST_URL to the URL `vastdeck sim` printed, or pass --url.');
    key = await keyOf(flags['key-file'] as string | undefined);
  } catch (error) {
    if (!(error instanceof InputError) && !(error instanceof FaultSpecError)) throw error;
    io.stderr.write(`${error.message}\n`);
    return 2;
  }
  let answer: Response;
  try {
    answer = await fetch(`${base.replace(/\/+$/, '')}${request.path}`, {
      method: request.method,
      headers: {Authorization: `Bearer ${key}`, 'Content-Type': 'application/json'},
      body: request.body === undefined ? undefined : JSON.stringify(request.body),
    });
  } catch {
    io.stderr.write(`No simulator answers at ${base}: start one with \`vastdeck sim\` and use the URL it prints.\n`);
    return 1;
  }
  const body = (await answer.json().catch(() => ({}))) as {msg?: string; spec?: string};
  if (!answer.ok) {
    io.stderr.write(`The simulator refused (${answer.status}): ${body.msg ?? 'no reason given'}\n`);
    return answer.status === 400 ? 2 : 1;
  }
  io.stdout.write(request.path === '/sim/faults' ? `Armed faults: ${body.spec || 'none'}\n` : 'Done.\n');
  return 0;
}

function requestOf(flags: Record<string, unknown>, positionals: string[]): {method: string; path: string; body?: unknown} {
  if (flags.list) return {method: 'GET', path: '/sim/faults'};
  if (flags.clear) return {method: 'DELETE', path: '/sim/faults'};
  if (flags.instance !== undefined) {
    if (positionals.length !== 1) throw new InputError('Name one fault for the instance, e.g. `vastdeck sim fault --instance 26001234 death`.');
    return {method: 'POST', path: `/sim/instances/${String(flags.instance)}/fault`, body: {fault: positionals[0]}};
  }
  if (positionals.length !== 1) throw new InputError('Give one fault spec, e.g. `vastdeck sim fault \'api429=0.3,instance-death=1\'`, or --list / --clear.');
  parseFaultSpec(positionals[0]!);
  return {method: 'POST', path: '/sim/faults', body: {spec: positionals[0]}};
}

async function keyOf(keyFile: string | undefined): Promise<string> {
  if (keyFile !== undefined) {
    try {
      return (await readFile(keyFile, 'utf8')).trim();
    } catch {
      throw new InputError(`Cannot read the key file ${keyFile}: pass the file \`vastdeck sim --key-file\` wrote.`);
    }
  }
  const key = process.env.VAST_API_KEY?.trim();
  if (!key) throw new InputError('Give the simulator\'s key: set VAST_API_KEY to the key `vastdeck sim` printed, or pass --key-file.');
  return key;
}
