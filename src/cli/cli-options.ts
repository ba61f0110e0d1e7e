import type { Command } from 'commander';
import { createClient } from '../client/client.js';
import type { CountersignClient } from '../client/client.js';
import { VERSION } from '../version.js';
import { CliExit, EXIT } from './cli-runtime.js';

export interface ServerOptions {
  url?: string;
  token?: string;
}

/** --url / --token, falling back to COUNTERSIGN_URL / COUNTERSIGN_TOKEN. */
export function withServerOptions(cmd: Command): Command {
  return cmd
    .option('--url <url>', 'gateway URL (env COUNTERSIGN_URL)')
    .option('--token <token>', 'your bearer token (env COUNTERSIGN_TOKEN; prefer the environment: flags show in ps)');
}

export function clientFrom(o: ServerOptions): CountersignClient {
  const url = o.url ?? process.env.COUNTERSIGN_URL ?? 'http://127.0.0.1:8080';
  const token = o.token ?? process.env.COUNTERSIGN_TOKEN;
  if (!token) throw new CliExit(EXIT.USAGE, 'no token: set COUNTERSIGN_TOKEN or pass --token');
  return createClient({ url, token, userAgent: `countersign-cli/${VERSION}` });
}
