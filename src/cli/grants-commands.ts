import type { Command } from 'commander';
import type { Grant } from '../client/grants-api.js';
import { formatActionLine } from './action-format.js';
import { CliExit, EXIT } from './cli-runtime.js';
import type { ServerOptions } from './cli-options.js';
import { clientFrom, withServerOptions } from './cli-options.js';

const out = (line = ''): void => void process.stdout.write(`${line}\n`);

function grantLine(g: Grant): string {
  return `${g.id}  ${g.status.padEnd(8)} ${String(g.uses).padStart(3)}/${String(g.maxUses).padEnd(3)} until ${g.expiresAt}  ${g.agent} → ${g.target} (${g.ruleIds.join(', ')})`;
}

function grantDetail(g: Grant): string {
  return [
    `grant      ${g.id} (${g.status})`,
    `covers     ${g.text}`,
    `uses       ${g.uses} of ${g.maxUses}`,
    `expires    ${g.expiresAt}`,
    `granted by ${g.grantedBy.join(', ')} with the approval of ${g.actionId}`,
    ...(g.revokedAt ? [`revoked    ${g.revokedAt} by ${g.revokedBy ?? '?'}${g.revokeReason ? `: ${g.revokeReason}` : ''}`] : []),
  ].join('\n');
}

/** `grants list|show|revoke` and `batch approve|deny`: standing grants and batch reviews (docs/cli.md). */
export function registerGrantsCommands(program: Command): void {
  const grants = program.command('grants').description('standing grants: approvals given in advance, bounded in time and uses');
  withServerOptions(grants.command('list').description('list grants, newest first'))
    .option('--active', 'only grants that can still be used')
    .option('--json', 'print JSON')
    .action(async (o: ServerOptions & { active?: boolean; json?: boolean }) => {
      const list = await clientFrom(o).grants.list({ active: o.active === true });
      if (o.json) return out(JSON.stringify(list, null, 2));
      if (!list.length) return out(o.active ? 'no active grant' : 'no grant');
      for (const g of list) out(grantLine(g));
    });
  withServerOptions(grants.command('show').argument('<id>', 'grant id').description('show a grant and what it covers'))
    .option('--json', 'print JSON')
    .action(async (id: string, o: ServerOptions & { json?: boolean }) => {
      const g = await clientFrom(o).grants.get(id);
      out(o.json ? JSON.stringify(g, null, 2) : grantDetail(g));
    });
  withServerOptions(grants.command('revoke').argument('<id>', 'grant id').description('revoke a grant: effective before the next decision'))
    .option('-m, --reason <text>', 'why, for the record')
    .action(async (id: string, o: ServerOptions & { reason?: string }) => {
      const g = await clientFrom(o).grants.revoke(id, o.reason);
      out(`revoked: ${g.id} (${g.uses} of ${g.maxUses} uses made)`);
    });

  const batch = program.command('batch').description('review several actions at once, each bound to its own fingerprint');
  withServerOptions(batch.command('approve').argument('<ids...>', 'action ids').description('approve several actions: shows each with its fingerprint, then asks once'))
    .option('-y, --yes', 'do not ask for confirmation')
    .option('-m, --comment <text>', 'a comment for the record')
    .action(async (ids: string[], o: ServerOptions & { yes?: boolean; comment?: string }) => {
      const c = clientFrom(o);
      const shown = await Promise.all(ids.map((id) => c.get(id)));
      for (const a of shown) out(`${formatActionLine(a)}  ${a.fingerprint.slice(0, 19)}…`);
      if (!o.yes) throw new CliExit(EXIT.USAGE, 'batch approve needs --yes after you have read the list above');
      // Each approval names the fingerprint that was shown: an action that changed since is refused, alone.
      report(await c.grants.batch('approve', shown.map((a) => ({ id: a.id, fingerprint: a.fingerprint })), o.comment));
    });
  withServerOptions(batch.command('deny').argument('<ids...>', 'action ids').description('deny several actions'))
    .requiredOption('-m, --comment <text>', 'why they are denied')
    .action(async (ids: string[], o: ServerOptions & { comment: string }) => {
      report(await clientFrom(o).grants.batch('deny', ids.map((id) => ({ id })), o.comment));
    });
}

function report(results: Awaited<ReturnType<ReturnType<typeof clientFrom>['grants']['batch']>>): void {
  let failed = 0;
  for (const r of results) {
    if (r.ok) out(`${r.id}: ${r.action.status}`);
    else {
      failed++;
      out(`${r.id}: refused [${r.error.code}] ${r.error.message}`);
    }
  }
  if (failed) throw new CliExit(EXIT.FAILURE, `${failed} of ${results.length} refused`);
}
