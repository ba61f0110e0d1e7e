import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import { hashToken } from '../adapters/identity/token-authenticator.js';
import { CliExit, EXIT } from './cli-runtime.js';

const MAX_TOKEN_BYTES = 4096;

/** The token on stdin, without the one line ending `echo` or a file adds. */
async function readToken(): Promise<string> {
  if (process.stdin.isTTY) throw new CliExit(EXIT.USAGE, 'give the token on stdin, e.g. printf %s "$TOKEN" | countersign token hash (never as an argument: arguments show in ps)');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of process.stdin as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > MAX_TOKEN_BYTES) throw new CliExit(EXIT.USAGE, `the input is larger than ${MAX_TOKEN_BYTES} bytes: not a token`);
    chunks.push(c);
  }
  const text = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
  if (/[\r\n]/.test(text)) throw new CliExit(EXIT.USAGE, 'the input holds more than one line: give one token');
  if (text.length < 16) throw new CliExit(EXIT.USAGE, `tokens must be at least 16 characters (got ${text.length})`);
  return text;
}

/** `token hash` and `token new`: the `sha256:<hex>` form a config's tokenHash takes. */
export function registerTokenCommands(program: Command): void {
  const token = program.command('token').description('bearer tokens for agents and humans');
  token
    .command('hash')
    .description('print the tokenHash of the token read on stdin, exactly as the config takes it (sha256:<hex>)')
    .action(async () => {
      process.stdout.write(`${hashToken(await readToken())}\n`);
    });
  token
    .command('new')
    .description('generate a random token (192 bits): the token on the first line, its tokenHash on the second')
    .action(() => {
      const t = randomBytes(24).toString('hex');
      process.stdout.write(`${t}\n${hashToken(t)}\n`);
    });
}
