import type { Command } from 'commander';
import { createSqliteStore } from '../adapters/store/sqlite/sqlite-store.js';
import { loadConfigWithoutSecrets } from '../config/load.js';
import type { ConsoleSession } from '../ports/console-sessions.js';
import { CliExit, EXIT } from './cli-runtime.js';

function line(s: ConsoleSession, now: number): string {
  const state = s.endedAt ? `ended ${s.endedAt} (${s.endReason ?? 'ended'})` : Date.parse(s.expiresAt) <= now ? `expired ${s.expiresAt}` : `active, last seen ${s.lastSeenAt}, ends by ${s.expiresAt}`;
  return `${s.id}  ${s.human.padEnd(28)} ${s.known ? '' : '(unknown user) '}signed in ${s.createdAt}  ${state}`;
}

function storePath(o: { config?: string; db?: string }): string {
  if (o.db) return o.db;
  if (o.config) return loadConfigWithoutSecrets(o.config).storePath;
  throw new CliExit(EXIT.USAGE, 'give --config FILE or --db PATH');
}

/** `sessions`: the web console's sign-ins, read from the store; `sessions revoke` ends one at once. */
export function registerSessionsCommands(program: Command): Command {
  const sessions = program.command('sessions').description('list or revoke web console sessions (no server needed)');
  sessions
    .command('list', { isDefault: true })
    .description('console sessions, newest first')
    .option('-c, --config <file>', 'config file (the store it names is read)')
    .option('--db <path>', 'SQLite database file')
    .option('--all', 'include ended and expired sessions')
    .option('--human <id>', 'only this human\'s sessions')
    .option('-n, --limit <n>', 'how many', '50')
    .option('--json', 'one JSON object per line')
    .action(async (o: { config?: string; db?: string; all?: boolean; human?: string; limit: string; json?: boolean }) => {
      const limit = Number(o.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw new CliExit(EXIT.USAGE, '--limit must be an integer from 1 to 10000');
      const store = createSqliteStore({ path: storePath(o), readOnly: true });
      try {
        const now = new Date();
        const rows = await store.console.listSessions({ limit, ...(o.all ? {} : { activeAt: now.toISOString() }), ...(o.human ? { human: o.human.toLowerCase() } : {}) });
        for (const s of rows) process.stdout.write(o.json ? `${JSON.stringify(s)}\n` : `${line(s, now.getTime())}\n`);
        if (!o.json && rows.length === 0) process.stdout.write(o.all ? 'no sessions\n' : 'no active sessions\n');
      } finally {
        await store.close();
      }
    });
  sessions
    .command('revoke')
    .description('end a console session now (its next request is refused); recorded in the audit log')
    .argument('<id>', 'the session id (cs_...)')
    .option('-c, --config <file>', 'config file (the store it names is written)')
    .option('--db <path>', 'SQLite database file')
    .option('--by <who>', 'who revokes it, for the audit log', process.env.USER ?? 'operator')
    .action(async (id: string, o: { config?: string; db?: string; by: string }) => {
      if (!/^cs_[A-Za-z0-9_-]{6,32}$/.test(id)) throw new CliExit(EXIT.USAGE, 'a session id looks like cs_XXXXXXXXXXXX');
      const store = createSqliteStore({ path: storePath(o), writer: 'inline' });
      try {
        const s = await store.console.getSession(id);
        if (!s) throw new CliExit(EXIT.FAILURE, `no session ${id}`);
        const at = new Date().toISOString();
        const ended = await store.console.endSession(id, at, 'revoked', [
          { type: 'console.session.ended', ts: at, actor: { type: 'system', id: `cli:${o.by}` }, data: { session: id, human: s.human, reason: 'revoked' } },
        ]);
        process.stdout.write(ended ? `revoked ${id} (${s.human})\n` : `${id} had already ended (${s.endReason ?? 'ended'})\n`);
      } finally {
        await store.close();
      }
    });
  return sessions;
}
