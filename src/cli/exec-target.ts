import { readFileSync } from 'node:fs';
import type { CountersignClient } from '../client/client.js';
import type { Action } from '../client/types.js';
import { isCountersignError } from '../client/errors.js';
import type { CommandResultBody } from '../domain/command-result.js';
import { CliExit } from './cli-runtime.js';

/** Exit codes of `countersign exec` against a command target, besides the program's own (docs/cli.md). */
export const TARGET_EXIT = {
  DENIED: 77,
  NOT_DECIDED: 75,
  GATEWAY_ERROR: 69,
  /** Run (or tried) by the gateway and failed without an exit code: timeout, drift, interrupted, could not start. */
  FAILED: 70,
} as const;

/** `--file name=path`: the file's content, sent under that name. */
export function readFiles(specs: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const s of specs) {
    const i = s.indexOf('=');
    if (i <= 0) throw new CliExit(2, `--file ${s}: expected NAME=PATH`);
    out[s.slice(0, i)] = readFileSync(s.slice(i + 1), 'utf8');
  }
  return out;
}

/**
 * The command runs on the target, with its credentials: the gateway (or its runner)
 * runs it once approved and answers with the result, printed here as the program
 * printed it. Resolves with the exit code to use.
 */
export async function execOnTarget(
  client: CountersignClient,
  req: { target: string; argv: string[]; stdin?: string | undefined; files?: Record<string, string> | undefined; justification?: string | undefined; timeoutSeconds?: number | undefined },
): Promise<number> {
  let a: Action;
  try {
    a = await client.submit(
      {
        kind: 'command',
        target: req.target,
        input: { argv: req.argv, ...(req.stdin !== undefined ? { stdin: req.stdin } : {}), ...(req.files && Object.keys(req.files).length ? { files: req.files } : {}) },
        ...(req.justification ? { justification: req.justification } : {}),
      },
      { waitSeconds: 30 },
    );
    if (a.status === 'pending') process.stderr.write(`countersign: waiting for review of ${a.id} (fingerprint ${a.fingerprint.slice(0, 19)})\n`);
    a = await client.wait(a.id, req.timeoutSeconds !== undefined ? { timeoutSeconds: req.timeoutSeconds } : {});
  } catch (e) {
    if (!isCountersignError(e)) throw e;
    throw new CliExit(TARGET_EXIT.GATEWAY_ERROR, `countersign exec: not run: [${e.code}] ${e.message}`);
  }
  const body = a.result?.body as Partial<CommandResultBody> | undefined;
  if (typeof body?.stdout === 'string') process.stdout.write(body.stdout);
  if (typeof body?.stderr === 'string') process.stderr.write(body.stderr);
  switch (a.status) {
    case 'succeeded':
      return 0;
    case 'failed':
      if (typeof a.result?.exitCode === 'number' && !a.result.error) return a.result.exitCode;
      process.stderr.write(`countersign exec: ${a.id} failed: [${a.result?.error?.code ?? a.result?.reason ?? 'error'}] ${a.result?.error?.message ?? ''}\n`);
      return TARGET_EXIT.FAILED;
    case 'denied':
      process.stderr.write(`countersign exec: not run: denied (${a.decision.reason})\n`);
      return TARGET_EXIT.DENIED;
    case 'approved':
    case 'running':
      process.stderr.write(`countersign exec: ${a.id} is ${a.status}, not finished within --timeout\n`);
      return TARGET_EXIT.NOT_DECIDED;
    case 'pending':
    case 'expired':
    case 'cancelled':
      process.stderr.write(`countersign exec: not run: ${a.status}\n`);
      return TARGET_EXIT.NOT_DECIDED;
  }
}
