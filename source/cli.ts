// vastdeck's entry point: picks the subcommand, connects to Vast.ai (or starts the embedded
// simulated cloud in demo mode) and hands over. Headless subcommands never load Ink or React,
// so they start fast; everything heavy is imported on demand.
import {exitCodeFor, InputError, toVastdeckError, type VastdeckError} from './core/errors.js';

const HELP = `vastdeck — run ComfyUI jobs on rented Vast.ai GPUs from one keyboard-driven screen

Usage:
  vastdeck [--demo | --live]            open the dashboard (demo = embedded simulated cloud)
  vastdeck offers [FILTER...] [--sort KEY] [--limit N] [--json] [--explain ID] [--excluded]
                                        rank GPU offers by what the whole job costs
  vastdeck up [FILTER...] [--json] [--create-key] [--show-token] [--max-spend USD]
             [--autostop-idle MIN | --no-autostop]
                                        rent the best offer and watch it until READY or FAILED
  vastdeck watch ID [--json] [--show-token]
                                        watch an instance until READY or FAILED
  vastdeck sim [--port N] [--seed S] [--speed X]
                                        serve the simulated Vast.ai cloud for other clients
  vastdeck run --workflow W --image F --prompt P [--seed S] [--count N] [--instance ID | --up [--down]]
               [--max-spend USD] [--json]
                                        one generation (or N seeds) end to end; output paths on stdout;
                                        --up --down: rent, run, bring everything home, destroy
                                        (also on Ctrl-C, unless --keep-on-interrupt); --max-spend:
                                        stop and clean up so the session stays within USD
  vastdeck run --onstart --workflow W --image-url URL --prompt P
                                        the OnStart method: the job runs inside the instance at boot
                                        up and run: --autostop-idle MIN or --no-autostop set the
                                        instance's own watchdog (docs/autostop.md; on, 30 min)
  vastdeck down ID... | --all [--any-install] [--force] [--json]
                                        outputs and logs home and verified, then destroy and confirm gone
  vastdeck spend [--json]               what was spent: per instance, per job, this session, all
                                        time; balance, burn rate and how long the balance lasts
  vastdeck ssh-forget ID                forget an instance's pinned SSH host key
  vastdeck config list | get KEY | set KEY VALUE | reset [KEY] | path
  vastdeck login                        save your Vast.ai API key (from a prompt or stdin)
  vastdeck help | --version

Without an API key vastdeck runs in demo mode against its embedded simulated cloud.
Filters look like: gpu=RTX_4090,RTX_5090 inet_down>=500 down_cost<=0.01 reliability>=0.98
`;

/** The usage lines of one subcommand, cut from HELP (every `  vastdeck CMD` entry and its continuation lines). */
export function commandHelp(command: string): string | undefined {
  const lines = HELP.split('\n');
  const picked: string[] = [];
  let inside = false;
  for (const line of lines) {
    if (/^ {2}vastdeck /.test(line)) inside = line.startsWith(`  vastdeck ${command} `) || line === `  vastdeck ${command}`;
    else if (!/^ {3,}/.test(line)) inside = false;
    if (inside) picked.push(line);
  }
  if (picked.length === 0) return undefined;
  const filters = /FILTER/.test(picked.join('\n')) ? `\n${lines.find(line => line.startsWith('Filters look like'))}\n` : '';
  return `Usage:\n${picked.join('\n')}\n${filters}`;
}

const asksForHelp = (args: readonly string[]): boolean => args.includes('--help') || args.includes('-h');

export async function main(argv: readonly string[]): Promise<number> {
  const [first, ...rest] = argv;
  const io = {stdout: process.stdout, stderr: process.stderr};
  // `vastdeck CMD --help` and `vastdeck help CMD`: that command's usage (sim prints its own, longer one).
  const helpFor = first === 'help' ? rest[0] : first !== 'sim' && first !== undefined && asksForHelp(rest) ? first : undefined;
  if (first === 'help' && helpFor === 'sim') return main(['sim', '--help']);
  if (helpFor !== undefined) {
    const usage = commandHelp(helpFor);
    if (usage) {
      io.stdout.write(usage);
      return 0;
    }
    if (first === 'help') return reportError(new InputError(`Unknown command '${helpFor}': run \`vastdeck help\` to see the commands.`));
  }
  try {
    switch (first) {
      case undefined:
      case '--demo':
      case '--live':
      case 'dashboard':
        return await runDashboardCommand(first === 'dashboard' ? rest : argv);
      case 'offers': {
        const {runOffersFromCli} = await import('./commands/offers-cli.js');
        return await runOffersFromCli(rest, io);
      }
      case 'up': {
        const {runUpCommand} = await import('./commands/up.js');
        return await runUpCommand(rest, io);
      }
      case 'watch': {
        const {runWatchCommand} = await import('./commands/watch.js');
        return await runWatchCommand(rest, io);
      }
      case 'run': {
        const {runRunCommand} = await import('./commands/run.js');
        return await runRunCommand(rest, io);
      }
      case 'down': {
        const {runDownCommand} = await import('./commands/down.js');
        return await runDownCommand(rest, io);
      }
      case 'spend': {
        const {runSpendCommand} = await import('./commands/spend.js');
        return await runSpendCommand(rest, io);
      }
      case 'ssh-forget': {
        const {runSshForgetCommand} = await import('./commands/ssh-forget.js');
        return await runSshForgetCommand(rest, io);
      }
      case 'sim': {
        const {runSimCommand} = await import('./commands/sim.js');
        return await runSimCommand(rest, io);
      }
      case 'config': {
        const {runConfigCommand} = await import('./commands/config.js');
        return await runConfigCommand(rest, io);
      }
      case 'login': {
        const {runLoginCommand} = await import('./commands/login.js');
        return await runLoginCommand(rest, {...io, stdin: process.stdin, env: process.env});
      }
      case 'help':
      case '--help':
      case '-h':
        io.stdout.write(HELP);
        return 0;
      case '--version':
      case '-V': {
        const {VERSION} = await import('./core/version.js');
        io.stdout.write(`${VERSION}\n`);
        return 0;
      }
      default:
        throw new InputError(`Unknown command '${first}': run \`vastdeck help\` to see the commands.`);
    }
  } catch (error) {
    return reportError(toVastdeckError(error));
  }
}

async function runDashboardCommand(argv: readonly string[]): Promise<number> {
  const {parseArgs} = await import('./commands/args.js');
  const {flags} = parseArgs('dashboard', argv, {demo: {kind: 'boolean'}, live: {kind: 'boolean'}});
  // The first frame goes up before the services start (the demo's simulated cloud alone takes a few
  // hundred ms): the dashboard module is loaded first, the session and the deck while it shows.
  const {runDashboard} = await import('./ui/run-dashboard.js');
  let session: import('./compose.js').Session | undefined;
  let deck: import('./core/deck.js').Deck | undefined;
  const starting = (async () => {
    const {openSession, openDeck} = await import('./compose.js');
    session = await openSession({demo: flags.demo === true, live: flags.live === true});
    deck = await openDeck(session);
    for (const warning of session.connection.warnings.filter(text => !text.startsWith('demo mode'))) deck.notify(warning, 'warn');
    for (const note of session.notes) deck.notify(note, 'warn');
    return deck;
  })();
  try {
    const {resolveApiKey} = await import('./core/credentials.js');
    const demo = flags.demo === true || (flags.live !== true && resolveApiKey() === undefined);
    const what = demo ? 'Starting the simulated Vast.ai cloud (demo mode: no API key is set, nothing is billed)…' : 'Connecting to the Vast.ai API…';
    await runDashboard(starting, {starting: what, onExit: async () => deck?.close()});
  } finally {
    await starting.catch(() => undefined);
    await deck?.close();
    await session?.close();
  }
  return 0;
}

function reportError(error: VastdeckError): number {
  process.stderr.write(`vastdeck: ${error.message}\n`);
  if (process.env.VASTDECK_DEBUG && error.detail) process.stderr.write(`${error.detail}\n`);
  return exitCodeFor(error);
}

const isEntry = process.argv[1] !== undefined && /(?:vastdeck(?:\.js)?|cli\.js)$/.test(process.argv[1]);
if (isEntry) {
  const finish = (code: number): void => {
    process.exitCode = code;
    // Leave when the work is done even if a library keeps a socket or timer alive.
    setTimeout(() => process.exit(code), 300).unref();
  };
  main(process.argv.slice(2)).then(finish, (error: unknown) => finish(reportError(toVastdeckError(error))));
}
