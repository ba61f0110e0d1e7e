import type { Command } from 'commander';
import { createSqliteStore } from '../adapters/store/sqlite/sqlite-store.js';
import { openConfiguredStore } from '../app/store-wiring.js';
import type { Delivery, DeliveryStatus } from '../ports/channel-store.js';
import { DELIVERY_STATUSES } from '../ports/channel-store.js';
import { CliExit, EXIT } from './cli-runtime.js';

function line(d: Delivery): string {
  const what = d.kind === 'event' ? (d.eventType ?? 'event') : 'sync';
  const err = d.lastError ? `  last error: ${d.lastError}` : '';
  return `#${d.id}  ${d.updatedAt}  ${d.status.padEnd(7)} ${d.channel.padEnd(16)} ${what.padEnd(18)} ${d.actionId}  attempts ${d.attempts}${err}`;
}

/** `deliveries`: what was sent to Slack, Teams and webhooks, read from the store (no server needed). */
export function registerDeliveriesCommands(program: Command): Command {
  return program
    .command('deliveries')
    .description('list deliveries to chat channels and webhooks, newest first, with each attempt')
    .option('-c, --config <file>', 'config file (the store it names is read)')
    .option('--db <path>', 'SQLite database file')
    .option('--action <id>', 'only this action\'s deliveries')
    .option('--channel <name>', 'only this channel (slack, teams, webhook:<name>)')
    .option('--status <status>', `only this status (${DELIVERY_STATUSES.join(', ')})`)
    .option('-n, --limit <n>', 'how many', '50')
    .option('--attempts', 'print every attempt under each delivery')
    .option('--json', 'one JSON object per line')
    .action(async (o: { config?: string; db?: string; action?: string; channel?: string; status?: string; limit: string; attempts?: boolean; json?: boolean }) => {
      const limit = Number(o.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw new CliExit(EXIT.USAGE, '--limit must be an integer from 1 to 10000');
      if (o.status && !(DELIVERY_STATUSES as readonly string[]).includes(o.status)) throw new CliExit(EXIT.USAGE, `--status must be one of ${DELIVERY_STATUSES.join(', ')}`);
      const store = o.db ? createSqliteStore({ path: o.db, readOnly: true }) : o.config ? await openConfiguredStore(o.config, { readOnly: true }) : undefined;
      if (!store) throw new CliExit(EXIT.USAGE, 'give --config FILE or --db PATH');
      try {
        const rows = await store.channels.listDeliveries({
          limit,
          ...(o.action ? { actionId: o.action } : {}),
          ...(o.channel ? { channel: o.channel } : {}),
          ...(o.status ? { status: o.status as DeliveryStatus } : {}),
        });
        for (const d of rows) {
          const attempts = o.attempts || o.json ? await store.channels.attempts(d.id) : [];
          if (o.json) {
            const { payload: _payload, ...rest } = d;
            process.stdout.write(`${JSON.stringify({ ...rest, history: attempts })}\n`);
            continue;
          }
          process.stdout.write(`${line(d)}\n`);
          for (const a of attempts) process.stdout.write(`    attempt ${a.attempt}  ${a.at}  ${a.ok ? 'ok    ' : 'FAILED'}  ${a.durationMs} ms  ${a.detail ?? ''}\n`);
        }
        if (!o.json && rows.length === 0) process.stdout.write('no deliveries\n');
      } finally {
        await store.close();
      }
    });
}
