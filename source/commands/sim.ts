// `vastdeck sim`: runs the simulated Vast.ai cloud in the foreground so other tools (vastdeck
// itself, the official `vastai` CLI, curl) can be pointed at it. Called by cli.ts; stops cleanly
// on SIGINT/SIGTERM. The key it prints is the simulator's own, never a real Vast.ai key.
import {chmod, writeFile} from 'node:fs/promises';
import {InputError} from '../core/errors.js';
import {startSimCloud, type SimCloud} from '../sim/cloud.js';
import {FAULTS, FaultSpecError, parseFaultSpec, type FaultRule} from '../sim/fault-plan.js';
import {INSTANCE_QUIRKS, type InstanceQuirk} from '../sim/instance-record.js';
import {runSimFaultCommand} from './sim-fault.js';
import {parseArgs, type ParsedArgs} from './args.js';

export interface SimCommandIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

const FLAGS = {
  port: {kind: 'integer', min: 0, max: 65_535},
  seed: {kind: 'integer'},
  offers: {kind: 'integer', min: 1, max: 100_000},
  speed: {kind: 'number', min: 0.01, max: 10_000},
  'rate-limit-scale': {kind: 'number', min: 0, max: 100},
  'no-churn': {kind: 'boolean'},
  'key-file': {kind: 'string'},
  faults: {kind: 'string'},
  quirks: {kind: 'string'},
  help: {kind: 'boolean', short: 'h'},
} as const;

const USAGE = `Usage: vastdeck sim [--port N] [--seed S] [--offers N] [--speed X] [--rate-limit-scale X] [--no-churn] [--key-file PATH]
                    [--faults SPEC] [--quirks LIST]
       vastdeck sim fault SPEC | --list | --clear | --instance ID KIND   (against a running simulator)

Runs the simulated Vast.ai cloud on 127.0.0.1 until Ctrl+C.
  --port N              port to listen on (default 0: any free port)
  --seed S              market seed: the same seed lists the same offers (default 1)
  --offers N            market size (default 2400)
  --speed X             time compression for simulated instances (default 1)
  --rate-limit-scale X  1 = Vast's published rate limits, 0 = none (default 1)
  --no-churn            keep the market still (no offers taken, added or repriced)
  --key-file PATH       write the simulator's API key to PATH (mode 0600) instead of printing it
  --faults SPEC         arm faults by name: name=count or name=rate, comma-separated,
                        e.g. 'api429=0.3,instance-death=1' (a count: the next N chances; a rate: 0.3 or 30%)
  --quirks LIST         real-API quirks every instance shows: ${INSTANCE_QUIRKS.join(', ')}

Faults:
${Object.entries(FAULTS).map(([name, what]) => `  ${name.padEnd(21)} ${what}`).join('\n')}
`;

export async function runSimCommand(argv: string[], io: SimCommandIo): Promise<number> {
  if (argv[0] === 'fault') return runSimFaultCommand(argv.slice(1), io);
  let flags: ParsedArgs['flags'];
  let faults: FaultRule[] = [];
  let quirks: InstanceQuirk[] = [];
  try {
    const parsed = parseArgs('sim', argv, FLAGS);
    if (parsed.positionals.length > 0) throw new InputError(`\`vastdeck sim\` takes no arguments, got '${parsed.positionals[0]}': see \`vastdeck sim --help\`.`);
    flags = parsed.flags;
    if (typeof flags.faults === 'string') faults = parseFaultSpec(flags.faults);
    if (typeof flags.quirks === 'string') quirks = quirksOf(flags.quirks);
  } catch (error) {
    if (!(error instanceof InputError) && !(error instanceof FaultSpecError)) throw error;
    io.stderr.write(`${error.message}\n`);
    return 2;
  }
  if (flags.help) {
    io.stdout.write(USAGE);
    return 0;
  }

  const port = flags.port as number | undefined;
  let cloud: SimCloud;
  try {
    cloud = await startSimCloud({
      port: port ?? 0,
      seed: flags.seed as number | undefined,
      offers: flags.offers as number | undefined,
      speed: flags.speed as number | undefined,
      rateLimitScale: flags['rate-limit-scale'] as number | undefined,
      churnIntervalMs: flags['no-churn'] ? 0 : undefined,
      faults,
      quirks,
    });
  } catch (error) {
    const inUse = (error as NodeJS.ErrnoException).code === 'EADDRINUSE';
    io.stderr.write(inUse ? `Port ${port} on 127.0.0.1 is already in use: pick another with --port, or --port 0 for a free one.\n` : `Could not start the simulator: ${(error as Error).message}.\n`);
    return 1;
  }

  const keyFile = flags['key-file'] as string | undefined;
  if (keyFile !== undefined) {
    try {
      await writeFile(keyFile, `${cloud.apiKey}\n`, {mode: 0o600});
      await chmod(keyFile, 0o600);
    } catch (error) {
      await cloud.close();
      io.stderr.write(`Could not write the key file ${keyFile} (${(error as NodeJS.ErrnoException).code ?? 'error'}): check the folder exists and is writable.\n`);
      return 1;
    }
  }
  io.stdout.write(banner(cloud, keyFile, flags['no-churn'] === true));
  if (faults.length > 0) io.stdout.write(`Faults armed: ${cloud.faultPlan.toSpec()} (change them with \`vastdeck sim fault\`).\n`);
  await untilStopped();
  await cloud.close();
  io.stdout.write('Simulator stopped.\n');
  return 0;
}

function banner(cloud: SimCloud, keyFile: string | undefined, still: boolean): string {
  const url = cloud.baseUrl;
  const key = keyFile === undefined ? cloud.apiKey : `$(cat ${shellQuote(keyFile)})`;
  const body = JSON.stringify({gpu_name: {eq: 'RTX 4090'}, order: [['dph_total', 'asc']], limit: 5});
  return [
    `Simulated Vast.ai cloud on ${url} (seed ${cloud.market.seed}, ${cloud.market.size} offers${still ? ', no churn' : ''}, speed ${cloud.speed}x).`,
    keyFile === undefined ? `API key (the simulator's own): ${cloud.apiKey}` : `API key written to ${keyFile} (mode 0600).`,
    `Rented instances boot ${cloud.speed}x faster than real time (a ComfyUI first boot takes ~${bootSeconds(cloud.speed)} after the image pull) and bill the demo balance at the same rate.`,
    '',
    'Try it:',
    `  VAST_URL=${url} VAST_API_KEY=${key} vastdeck`,
    `  vastai --url ${url} --api-key ${key} search offers 'gpu_name=RTX_4090'`,
    `  vastai --url ${url} --api-key ${key} show instances`,
    `  curl -s -H "Authorization: Bearer ${key}" ${url}/api/v0/users/current/`,
    `  curl -s -X POST -H 'Content-Type: application/json' -d '${body}' ${url}/api/v0/bundles/`,
    `  VAST_URL=${url} VAST_API_KEY=${key} vastdeck sim fault 'api429=0.3,instance-death=1'`,
    '',
    'Press Ctrl+C to stop.',
    '',
  ].join('\n');
}

/** The happy first boot is ~215 s of simulated time. */
function bootSeconds(speed: number): string {
  const seconds = 215 / speed;
  return seconds >= 10 ? `${Math.round(seconds)} s` : `${seconds.toFixed(1)} s`;
}

function quirksOf(list: string): InstanceQuirk[] {
  const quirks = list.split(',').map(quirk => quirk.trim()).filter(Boolean);
  const unknown = quirks.find(quirk => !(INSTANCE_QUIRKS as readonly string[]).includes(quirk));
  if (unknown !== undefined) throw new InputError(`--quirks has an unknown quirk '${unknown}': use any of ${INSTANCE_QUIRKS.join(', ')}.`);
  return quirks as InstanceQuirk[];
}

function untilStopped(): Promise<void> {
  return new Promise(resolve => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

function shellQuote(text: string): string {
  return /^[\w./~-]+$/.test(text) ? text : `'${text.replaceAll("'", `'\\''`)}'`;
}
