import type { Action } from '../client/types.js';
import { CliExit, EXIT } from './cli-runtime.js';

/** `--grant 1h --grant-uses 20 [--grant-path P]`: checked for form here, against the policy by the server; prints the scope before the prompt. */
export function grantOption(ttl: string | undefined, uses: string | undefined, a: Action, path?: string): { ttl: string; uses: number; path?: string } | undefined {
  if (ttl === undefined && uses === undefined && path === undefined) return undefined;
  if (ttl === undefined || uses === undefined) throw new CliExit(EXIT.USAGE, '--grant and --grant-uses go together (and --grant-path needs both)');
  const n = Number(uses);
  if (!Number.isSafeInteger(n) || n < 1) throw new CliExit(EXIT.USAGE, '--grant-uses must be a positive integer');
  const grantable = a.grantable;
  if (grantable) {
    const paths = path === undefined ? '' : `\nwith http.path matching ${path} instead (each * is any one path segment)${grantable.paths ? `; the policy allows at most ${grantable.paths.join(' or ')}` : ''}`;
    process.stdout.write(`The grant would cover: ${grantable.text}${paths}\n(for ${ttl}, ${n} use${n === 1 ? '' : 's'}; the policy allows at most ${grantable.maxTtl} and ${grantable.maxUses})\n\n`);
  } else process.stdout.write('The policy allows no grant on this action: the server will refuse it.\n\n');
  return path === undefined ? { ttl, uses: n } : { ttl, uses: n, path };
}
