// `vastdeck login`: reads the Vast.ai API key from a hidden prompt (a terminal) or the first line
// of piped stdin, never from the command line, checks it with GET /users/current/, saves it 0600
// and says which key source will win at run time. The key is never echoed or printed.
import type {Io} from './command-io.js';
import {describeKeySource, resolveApiKey, resolveBaseUrl, saveApiKey, tildePath} from '../core/credentials.js';
import {InputError, VastAuthError, toVastdeckError, exitCodeFor} from '../core/errors.js';
import {VastClient} from '../core/vast/client.js';
import {parseArgs} from './args.js';

export interface LoginIo extends Io {
  stdin: NodeJS.ReadStream;
  env: NodeJS.ProcessEnv;
}

export interface LoginDeps {
  /** Checks the key against the API; throws VastAuthError when it is refused. May name the account. */
  verify?: (key: string) => Promise<void | {email: string}>;
}

const KEYS_PAGE = 'https://cloud.vast.ai/manage-keys/';
const MAX_KEY_INPUT = 64 * 1024;

export async function runLoginCommand(argv: string[], io: LoginIo, deps: LoginDeps = {}): Promise<number> {
  const say = (text: string): void => void io.stdout.write(`${text}\n`);
  const complain = (text: string, code: number): number => (io.stderr.write(`vastdeck: ${text}\n`), code);
  try {
    refuseKeyOnCommandLine(argv);
    const {flags} = parseArgs('login', argv, {'no-verify': {kind: 'boolean'}});
    const baseUrl = resolveBaseUrl(io.env);
    const typed = io.stdin.isTTY ? await readHidden(io.stdin, io.stdout) : await readFirstLine(io.stdin);
    if (typed === undefined) return complain('Cancelled: no key was saved.', 130);
    const key = typed.trim();
    if (key === '') {
      throw new InputError(`No API key was given: copy one from ${KEYS_PAGE}, then run \`vastdeck login\` and paste it, or \`printf %s "$KEY" | vastdeck login\`.`);
    }
    if (flags['no-verify'] !== true) {
      const verify = deps.verify ?? ((candidate: string) => checkKey(baseUrl, candidate));
      try {
        const account = await verify(key);
        say(account ? `The key works (account ${account.email}).` : 'The key works.');
      } catch (error) {
        if (error instanceof VastAuthError) {
          return complain(`Vast.ai at ${baseUrl} refused this API key, so it was not saved: copy it again from ${KEYS_PAGE} and retry.`, 1);
        }
        const reason = toVastdeckError(error).message.replace(/[.\s]+$/, '');
        return complain(`The key could not be checked, so it was not saved (${reason}); run \`vastdeck login --no-verify\` to save it unchecked.`, 1);
      }
    }
    const path = saveApiKey(key, io.env);
    say(`Saved the key to ${tildePath(path, io.env)} (readable only by you).`);
    const winner = resolveApiKey(io.env);
    if (winner && winner.source !== 'vastdeck-credentials') {
      const same = winner.key === key ? 'it holds the same key, so nothing changes' : `unset or remove it to use the key you just saved`;
      say(`Note: ${describeKeySource(winner, io.env)} comes first and will be used instead: ${same}.`);
    } else {
      say('vastdeck will use it from now on.');
    }
    return 0;
  } catch (error) {
    const problem = toVastdeckError(error);
    return complain(problem.message, exitCodeFor(problem));
  }
}

/** A key on the command line would land in shell history and in `ps`: refuse it, without echoing it. */
function refuseKeyOnCommandLine(argv: string[]): void {
  const suspicious = argv.some(token => !token.startsWith('-') || token.includes('=') || /^--?(api-?)?key$/i.test(token));
  if (suspicious) {
    throw new InputError(
      'vastdeck login does not take the key on the command line, because shell history and `ps` would show it: run `vastdeck login` and paste it, or pipe it in with `printf %s "$KEY" | vastdeck login`.',
    );
  }
}

async function checkKey(baseUrl: string, key: string): Promise<{email: string}> {
  const client = new VastClient({baseUrl, apiKey: key, maxAttempts: 3, timeoutMs: 15_000});
  const user = await client.currentUser();
  return {email: user.email || `user ${user.id}`};
}

/** Reads one line from a terminal in raw mode with no echo; backspace edits, Ctrl-C aborts (undefined). */
function readHidden(stdin: NodeJS.ReadStream, stdout: NodeJS.WritableStream): Promise<string | undefined> {
  stdout.write(`Paste your Vast.ai API key (from ${KEYS_PAGE}; nothing is shown): `);
  return new Promise(resolve => {
    let typed = '';
    const wasRaw = stdin.isRaw;
    const finish = (value: string | undefined): void => {
      stdin.off('data', onData);
      stdin.setRawMode(wasRaw);
      stdin.pause();
      stdout.write('\n');
      resolve(value);
    };
    const onData = (chunk: Buffer | string): void => {
      // Drop escape sequences (arrow keys, bracketed-paste markers) before looking at characters.
      const text = String(chunk).replace(/\u001b\[[0-9;?]*[~A-Za-z]/g, '');
      for (const char of text) {
        if (char === '\r' || char === '\n') return finish(typed);
        if (char === '\u0003') return finish(undefined);
        if (char === '\u0004') return finish(typed === '' ? undefined : typed);
        if (char === '\u007f' || char === '\b') typed = [...typed].slice(0, -1).join('');
        else if (char === '\u0015') typed = '';
        else if (char >= ' ' && typed.length < MAX_KEY_INPUT) typed += char;
      }
    };
    stdin.setRawMode(true);
    stdin.setEncoding('utf8');
    stdin.on('data', onData);
    stdin.resume();
  });
}

/** The first line of piped stdin (the rest is not read). */
async function readFirstLine(stdin: NodeJS.ReadStream): Promise<string> {
  let text = '';
  for await (const chunk of stdin) {
    text += String(chunk);
    if (text.includes('\n') || text.length > MAX_KEY_INPUT) break;
  }
  return text.split(/\r?\n/, 1)[0] ?? '';
}
