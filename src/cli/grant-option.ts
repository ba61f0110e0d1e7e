import type { Action } from '../client/types.js';
import { CliExit, EXIT } from './cli-runtime.js';

/** `--grant 1h --grant-uses 20`: checked for form here, against the policy by the server; prints the scope before the prompt. */
export function grantOption(ttl: string | undefined, uses: string | undefined, a: Action): { ttl: string; uses: number } | undefined {
  if (ttl === undefined && uses === undefined) return undefined;
  if (ttl === undefined || uses === undefined) throw new CliExit(EXIT.USAGE, '--grant and --grant-uses go together');
  const n = Number(uses);
  if (!Number.isSafeInteger(n) || n < 1) throw new CliExit(EXIT.USAGE, '--grant-uses must be a positive integer');
  const grantable = a.grantable;
  if (grantable) process.stdout.write(`The grant would cover: ${grantable.text}\n(for ${ttl}, ${n} use${n === 1 ? '' : 's'}; the policy allows at most ${grantable.maxTtl} and ${grantable.maxUses})\n\n`);
  else process.stdout.write('The policy allows no grant on this action: the server will refuse it.\n\n');
  return { ttl, uses: n };
}
