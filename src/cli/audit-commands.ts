import type { Command } from 'commander';
import { createSqliteStore } from '../adapters/store/sqlite/sqlite-store.js';
import { openConfiguredStore } from '../app/store-wiring.js';
import type { Store } from '../ports/store.js';
import { CliExit, EXIT } from './cli-runtime.js';
import { registerAuditExportCommand } from './audit-export-command.js';
import { auditEntryJson, formatAuditEntry } from './audit-format.js';
import { registerAuditKeyCommand } from './audit-key-command.js';
import { registerAuditVerifyCommand } from './audit-verify-command.js';

export async function openStoreFrom(o: { config?: string; db?: string }): Promise<Store> {
  // Read-only: an offline reader never migrates, never writes, and never creates an empty database by mistake.
  if (o.db) return createSqliteStore({ path: o.db, readOnly: true });
  if (o.config) return openConfiguredStore(o.config, { readOnly: true });
  throw new CliExit(EXIT.USAGE, 'give --config FILE or --db PATH');
}

async function tail(store: Store, n: number, json: boolean, from?: number): Promise<number> {
  const size = await store.auditSize();
  const start = from ?? Math.max(0, size - n);
  for (const e of await store.readAudit(start, size)) process.stdout.write(`${json ? JSON.stringify(auditEntryJson(e)) : formatAuditEntry(e)}\n`);
  return size;
}

/** `audit` command group; reads the store directly, so it works without a running server. */
export function registerAuditCommands(program: Command): Command {
  const audit = program.command('audit').description('the audit log');
  audit
    .command('tail')
    .description('show the most recent audit entries')
    .option('-c, --config <file>', 'config file (the store it names is read)')
    .option('--db <path>', 'SQLite database file')
    .option('-n, --lines <n>', 'how many entries', '20')
    .option('-f, --follow', 'keep printing new entries')
    .option('--json', 'one JSON object per line')
    .action(async (o: { config?: string; db?: string; lines: string; follow?: boolean; json?: boolean }) => {
      const n = Number(o.lines);
      if (!Number.isInteger(n) || n < 0) throw new CliExit(EXIT.USAGE, '--lines must be a non-negative integer');
      const store = await openStoreFrom(o);
      try {
        let next = await tail(store, n, !!o.json);
        while (o.follow) {
          await new Promise((r) => setTimeout(r, 1000));
          next = await tail(store, n, !!o.json, next);
        }
      } finally {
        await store.close();
      }
    });
  registerAuditKeyCommand(audit);
  registerAuditVerifyCommand(audit);
  registerAuditExportCommand(audit);
  return audit;
}
