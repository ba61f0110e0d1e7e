import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import type { Action, Status } from '../client/types.js';
import { formatAction, formatActionLine } from './action-format.js';
import { CliExit, EXIT } from './cli-runtime.js';
import type { ServerOptions } from './cli-options.js';
import { clientFrom, withServerOptions } from './cli-options.js';
import { grantOption } from './grant-option.js';

async function confirm(question: string): Promise<boolean> {
  if (!process.stdin.isTTY) throw new CliExit(EXIT.USAGE, 'not a terminal: pass --yes to approve without a prompt');
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

/** Why a pending action is not the caller's to decide, in words. */
function cannotDecide(code: string | undefined): string {
  switch (code ?? '') {
    case 'SELF_APPROVAL':
      return 'you are its requester, the human it acts for, or the agent\'s owner';
    case 'NOT_ELIGIBLE':
      return 'its requirements name neither you nor a group of yours';
    case 'ALREADY_REVIEWED':
      return 'you have reviewed it already';
    case 'AGENT_CANNOT_REVIEW':
      return 'agents cannot review';
    default:
      return 'not decidable by you now';
  }
}

/** pending, show, approve, deny, cancel: the reviewer's and requester's commands. */
export function registerReviewCommands(program: Command): void {
  withServerOptions(program.command('pending').description('list actions waiting for your decision (--all: also those you cannot decide, and why)'))
    .option('--all', 'also list pending actions you can see but not decide, with the reason')
    .option('--json', 'print JSON')
    .action(async (o: ServerOptions & { all?: boolean; json?: boolean }) => {
      const page = await clientFrom(o).list({ status: ['pending'], limit: 100 });
      // A gateway older than review.you does not say: every action is shown, as before.
      const decidable = (a: Action) => a.review?.you?.canDecide !== false;
      const mine = page.actions.filter(decidable);
      const others = page.actions.filter((a) => !decidable(a));
      if (o.json) return void process.stdout.write(`${JSON.stringify(o.all ? page.actions : mine, null, 2)}\n`);
      if (!mine.length) process.stdout.write('nothing pending for you to decide\n');
      for (const a of mine) process.stdout.write(`${formatActionLine(a)}\n`);
      if (!others.length) return;
      if (!o.all) return void process.stdout.write(`(${others.length} more pending that you cannot decide: --all lists them with the reason)\n`);
      process.stdout.write(`\npending, but not yours to decide:\n`);
      for (const a of others) process.stdout.write(`${formatActionLine(a)}  [${a.review?.you?.reason ?? ''}: ${cannotDecide(a.review?.you?.reason)}]\n`);
    });

  withServerOptions(program.command('list').description('list actions you can see'))
    .option('--status <statuses>', 'comma-separated statuses')
    .option('--limit <n>', 'how many', '50')
    .option('--json', 'print JSON')
    .action(async (o: ServerOptions & { status?: string; limit: string; json?: boolean }) => {
      const page = await clientFrom(o).list({ ...(o.status ? { status: o.status.split(',') as Status[] } : {}), limit: Number(o.limit) });
      if (o.json) return void process.stdout.write(`${JSON.stringify(page.actions, null, 2)}\n`);
      for (const a of page.actions) process.stdout.write(`${formatActionLine(a)}\n`);
    });

  withServerOptions(program.command('show').argument('<id>', 'action id').description('show an action in full'))
    .option('--json', 'print JSON')
    .option('--wait <seconds>', 'long poll until the action settles')
    .action(async (id: string, o: ServerOptions & { json?: boolean; wait?: string }) => {
      const c = clientFrom(o);
      const a = o.wait ? await c.wait(id, { timeoutSeconds: Number(o.wait) }) : await c.get(id);
      process.stdout.write(o.json ? `${JSON.stringify(a, null, 2)}\n` : `${formatAction(a)}\n`);
    });

  withServerOptions(program.command('approve').argument('<id>', 'action id').description('approve an action: shows it and its fingerprint, then asks'))
    .option('-y, --yes', 'do not ask for confirmation')
    .option('-m, --comment <text>', 'a comment for the record')
    .option('--grant <ttl>', 'also grant approvals of actions like this one for this long (e.g. 1h), within the policy\'s bounds')
    .option('--grant-uses <n>', 'how many future actions the grant may cover (with --grant)')
    .option('--grant-path <pattern>', 'http: the paths the grant covers, e.g. /v1/customers/*/export (each * is one segment), within the policy\'s grants.paths')
    .action(async (id: string, o: ServerOptions & { yes?: boolean; comment?: string; grant?: string; grantUses?: string; grantPath?: string }) => {
      const c = clientFrom(o);
      const a = await c.get(id);
      process.stdout.write(`${formatAction(a)}\n\n`);
      const grant = grantOption(o.grant, o.grantUses, a, o.grantPath);
      if (!o.yes && !(await confirm(`Approve exactly this action (fingerprint ${a.fingerprint.slice(0, 19)}…)? [y/N] `))) {
        throw new CliExit(EXIT.FAILURE, 'not approved');
      }
      // The approval names the fingerprint that was shown: if the action changed, the server refuses it.
      const after = await c.approve(id, a.fingerprint, o.comment, grant ? { grant } : undefined);
      process.stdout.write(`approval recorded: ${after.id} is now ${after.status}\n`);
      const made = after.grant;
      if (made) process.stdout.write(`grant created: ${made.id}: ${made.text}\n`);
    });

  withServerOptions(program.command('deny').argument('<id>', 'action id').description('deny an action'))
    .requiredOption('-m, --comment <text>', 'why it is denied')
    .action(async (id: string, o: ServerOptions & { comment: string }) => {
      const after = await clientFrom(o).deny(id, o.comment);
      process.stdout.write(`denied: ${after.id} is now ${after.status}\n`);
    });

  withServerOptions(program.command('cancel').argument('<id>', 'action id').description('cancel your own pending action'))
    .action(async (id: string, o: ServerOptions) => {
      const after = await clientFrom(o).cancel(id);
      process.stdout.write(`cancelled: ${after.id} is now ${after.status}\n`);
    });
}
