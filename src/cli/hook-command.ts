import type { Command } from 'commander';
import { VERSION } from '../version.js';

const PATH = '/integrations/claude-code/pre-tool-use';
const MAX_INPUT_BYTES = 1024 * 1024;

function deny(reason: string): string {
  return JSON.stringify({ hookSpecificOutput: { hookEventName: 'PreToolUse', permissionDecision: 'deny', permissionDecisionReason: `Countersign: ${reason}` } });
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of process.stdin as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > MAX_INPUT_BYTES) throw new Error('hook input larger than 1 MiB');
    chunks.push(c);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function isHookOutput(v: unknown): boolean {
  const o = (v as { hookSpecificOutput?: Record<string, unknown> } | null)?.hookSpecificOutput;
  return !!o && o.hookEventName === 'PreToolUse' && ['allow', 'deny', 'ask'].includes(o.permissionDecision as string) && typeof o.permissionDecisionReason === 'string';
}

/**
 * The decision for one tool use, as Claude Code's command hook prints it. Fails
 * closed: no answer, a bad answer, a time-out or any error is a deny, never an allow.
 */
export async function claudeCodeHook(input: string, opts: { url: string; token: string | undefined; timeoutMs: number }): Promise<string> {
  if (!opts.token) return deny('no token: set COUNTERSIGN_TOKEN for the hook');
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), opts.timeoutMs);
  try {
    // The gateway holds the call at most this long (a second under the time-out, so that
    // its answer, which names the action and how to approve it, arrives before we give up).
    const hold = Math.max(0, Math.floor(opts.timeoutMs / 1000) - 1);
    const res = await fetch(`${opts.url.replace(/\/+$/, '')}${PATH}?wait=${hold}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${opts.token}`, 'content-type': 'application/json', 'user-agent': `countersign-hook/${VERSION}` },
      body: input,
      signal: ac.signal,
    });
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return deny(`the gateway answered HTTP ${res.status} without a decision`);
    }
    if (res.ok && isHookOutput(parsed)) return JSON.stringify(parsed);
    const err = (parsed as { error?: { code?: string; message?: string } }).error;
    return deny(err?.code ? `[${err.code}] ${err.message ?? ''}` : `the gateway answered HTTP ${res.status} without a decision`);
  } catch (e) {
    if (ac.signal.aborted) {
      return deny(
        `no decision within ${opts.timeoutMs / 1000}s; denied (a time-out never allows). If the gateway recorded the action, \`countersign pending\` lists it for reviewers; once it is approved, try the same tool call again`,
      );
    }
    return deny(`cannot reach the gateway at ${opts.url}: ${e instanceof Error ? e.message : String(e)}`);
  } finally {
    clearTimeout(timer);
  }
}

/** `countersign hook claude-code`: a PreToolUse command hook for Claude Code's settings.json. */
export function registerHookCommands(program: Command): void {
  const hook = program.command('hook').description('hooks for agent runtimes');
  hook
    .command('claude-code')
    .description('Claude Code PreToolUse hook: reads the hook input on stdin, prints the decision (deny on any failure)')
    .option('--url <url>', 'gateway URL (env COUNTERSIGN_URL)')
    .option('--timeout <seconds>', 'give up and deny after this long; keep it below the hook timeout in settings.json', '90')
    .action(async (o: { url?: string; timeout: string }) => {
      // Claude Code runs the tool when a command hook exits with anything but 0 or 2: until
      // the decision is printed, every way out (a crash included) is exit 2, which blocks.
      process.exitCode = 2;
      const crash = (e: unknown) => {
        process.stderr.write(`Countersign hook failed, tool use blocked: ${e instanceof Error ? e.message : String(e)}\n`);
        process.exit(2);
      };
      process.once('uncaughtException', crash);
      process.once('unhandledRejection', crash);
      const seconds = Number(o.timeout);
      let out: string;
      try {
        const input = await readStdin();
        out = await claudeCodeHook(input, {
          url: o.url ?? process.env.COUNTERSIGN_URL ?? 'http://127.0.0.1:8080',
          token: process.env.COUNTERSIGN_TOKEN,
          timeoutMs: Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 90_000,
        });
      } catch (e) {
        out = deny(e instanceof Error ? e.message : String(e));
      }
      // Exit code 2 blocks the tool in Claude Code: the answer if even printing the decision fails.
      let printed = true;
      process.stdout.once('error', () => (printed = false));
      await new Promise<void>((resolve) =>
        process.stdout.write(`${out}\n`, (e) => {
          if (e) printed = false;
          resolve();
        }),
      );
      process.exitCode = printed ? 0 : 2;
    });
}
