// How the demo narrates: plain lines, bold and dim on a terminal only.
import type { CountersignClient } from '../client/client.js';
import { CountersignError } from '../client/errors.js';
import type { Action } from '../client/types.js';

const tty = process.stdout.isTTY;
export const bold = (s: string) => (tty ? `\x1b[1m${s}\x1b[0m` : s);
export const dim = (s: string) => (tty ? `\x1b[2m${s}\x1b[0m` : s);
export const say = (s = '') => process.stdout.write(`${s}\n`);

export function describe(a: Action): string {
  return `${a.status} — ${a.decision.outcome} by [${a.decision.rules.join(', ')}]: ${a.decision.reason}`;
}

export async function attempt(label: string, fn: () => Promise<Action>): Promise<void> {
  try {
    const a = await fn();
    say(`  ${label}: ok → ${a.status}${a.review ? ` (${a.review.requirements.map((q) => `${q.approvedBy.length}/${q.quorum}`).join(', ')} approvals)` : ''}`);
  } catch (e) {
    if (e instanceof CountersignError) say(`  ${label}: refused ${e.status} ${e.code} — ${e.message}`);
    else throw e;
  }
}


/** Waits for the action to settle, showing approvals as they arrive. */
export async function waitWithProgress(agent: CountersignClient, id: string): Promise<Action> {
  let shown = '';
  for (;;) {
    const a = await agent.wait(id, { timeoutSeconds: 2, pollSeconds: 2 });
    const progress = a.review ? a.review.requirements.map((q) => `${q.approvedBy.length}/${q.quorum} approvals`).join(', ') : '';
    const line = `  … ${a.status}${progress ? `, ${progress}` : ''}`;
    if (line !== shown) {
      say(dim(line));
      shown = line;
    }
    if (a.status !== 'pending' && a.status !== 'running' && !(a.status === 'approved' && a.mode === 'execute')) return a;
  }
}
