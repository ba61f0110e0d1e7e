import type { Command } from 'commander';
import { createPgPool } from '../adapters/store/postgres/pg-connect.js';
import { copySqliteToPg } from '../adapters/store/postgres/pg-copy.js';
import { migratePg, planMigrations } from '../adapters/store/postgres/pg-migrate.js';
import { createPostgresStore } from '../adapters/store/postgres/pg-store.js';
import { createSqliteStore } from '../adapters/store/sqlite/sqlite-store.js';
import { LATEST_VERSION, MIGRATIONS } from '../adapters/store/sqlite/sqlite-migrations.js';
import { SCHEMA_NAME } from '../adapters/store/postgres/pg-connect.js';
import { loadConfig, loadConfigWithoutSecrets } from '../config/load.js';
import { parseDuration } from '../domain/duration.js';
import { proveCopy } from '../services/copy-proof.js';
import { progressBar } from './audit-verify-format.js';
import { CliExit, EXIT } from './cli-runtime.js';

/** Exit code of a copy whose proof failed (the same as tampering found by `audit verify`). */
const EXIT_PROOF_FAILED = 3;

/** `countersign migrate`: the store's schema migrations, alone (servers also run them at start unless told not to). */
export function registerMigrateCommand(program: Command): void {
  program
    .command('migrate')
    .description("bring the configured store's schema to this release (PostgreSQL: under an advisory lock, safe beside running replicas)")
    .requiredOption('-c, --config <file>', 'config file (its store is migrated)')
    .option('--dry-run', 'list the migrations that would run, and change nothing')
    .action(async (o: { config: string; dryRun?: boolean }) => {
      const plain = loadConfigWithoutSecrets(o.config);
      if (plain.store.kind === 'sqlite') {
        // SQLite migrates itself when opened; dry-run opens nothing.
        if (o.dryRun) {
          process.stdout.write(`SQLite ${plain.storePath}: opening it applies the migrations up to version ${LATEST_VERSION}:\n`);
          for (const m of [...MIGRATIONS].sort((a, b) => a.version - b.version)) process.stdout.write(`  ${m.version}  ${m.name}\n`);
          return;
        }
        await createSqliteStore({ path: plain.storePath, writer: 'inline' }).close();
        process.stdout.write(`SQLite ${plain.storePath}: at schema version ${LATEST_VERSION}\n`);
        return;
      }
      const loaded = loadConfig(o.config);
      if (loaded.store.kind !== 'postgres') throw new CliExit(EXIT.FAILURE, 'the store changed while reading the config');
      const c = loaded.store.config;
      const pool = createPgPool({ url: c.url, schema: c.schema, max: 2, statementTimeoutMs: 0, connectTimeoutMs: parseDuration(c.connectTimeout) });
      try {
        if (o.dryRun) {
          const plan = await planMigrations(pool, c.schema);
          process.stdout.write(`PostgreSQL schema ${c.schema}: at version ${plan.found}; ${plan.pending.length ? 'would apply:' : 'nothing to apply'}\n`);
          for (const m of plan.pending) process.stdout.write(`  ${m.version}  ${m.name}\n`);
          return;
        }
        const r = await migratePg(pool, c.schema);
        process.stdout.write(`PostgreSQL schema ${c.schema}: version ${r.from} -> ${r.to}${r.applied.length ? ` (applied ${r.applied.join(', ')})` : ' (nothing to apply)'}\n`);
      } finally {
        await pool.end();
      }
    });
}

interface CopyOptions {
  from: string;
  to: string;
  schema: string;
  progress: boolean;
  json?: boolean;
}

/** `countersign store copy`: moves a SQLite deployment into PostgreSQL, then proves the copy. */
export function registerStoreCommands(program: Command): void {
  const store = program.command('store').description('the store: moving a deployment between stores');
  store
    .command('copy')
    .description('copy a SQLite store into an empty PostgreSQL schema (every action, entry, checkpoint, delivery and tree node), then prove the copy')
    .requiredOption('--from <sqlite file>', 'the SQLite database file (only read; stop the gateway first)')
    .requiredOption('--to <postgres url>', 'the PostgreSQL URL, e.g. "$DATABASE_URL" (never printed)')
    .option('--schema <name>', 'the target schema (created; must be empty)', 'countersign')
    .option('--no-progress', 'no progress bar')
    .option('--json', 'the result as JSON')
    .action(async (o: CopyOptions) => {
      if (!SCHEMA_NAME.test(o.schema)) throw new CliExit(EXIT.USAGE, '--schema: a plain lower-case SQL name');
      if (!/^postgres(ql)?:\/\//.test(o.to)) throw new CliExit(EXIT.USAGE, '--to: a postgres:// URL');
      const bar = (label: string) => (o.progress && !o.json && process.stderr.isTTY ? progressBar(process.stderr, label) : undefined);
      const source = createSqliteStore({ path: o.from, readOnly: true });
      const pool = createPgPool({ url: o.to, schema: o.schema, max: 2, statementTimeoutMs: 0, connectTimeoutMs: 10_000 });
      let rows: Record<string, number>;
      try {
        await migratePg(pool, o.schema);
        const copying = bar('copying');
        try {
          rows = (await copySqliteToPg(o.from, pool, copying?.update)).rows;
        } finally {
          copying?.done();
        }
      } finally {
        await pool.end();
      }
      const target = await createPostgresStore({ url: o.to, schema: o.schema, readOnly: true, listen: false, poolMax: 2 });
      const proving = bar('proving');
      try {
        const proof = await proveCopy(source, target, proving?.update);
        proving?.done();
        if (o.json) process.stdout.write(`${JSON.stringify({ schema: o.schema, rows, proof })}\n`);
        else {
          process.stdout.write(`copied into PostgreSQL schema ${o.schema}:\n`);
          for (const [t, n] of Object.entries(rows)) if (n) process.stdout.write(`  ${t.padEnd(20)} ${n}\n`);
          process.stdout.write(
            proof.ok
              ? `PROVEN: the target's log has ${proof.size} entries and ${proof.checkpoints} checkpoints; its entries rebuild root ${proof.root}, the root of the source at the same size\n`
              : `NOT PROVEN:\n${proof.problems.map((p) => `  ${p}`).join('\n')}\n`,
          );
        }
        if (!proof.ok) process.exitCode = EXIT_PROOF_FAILED;
      } finally {
        await target.close();
        await source.close();
      }
    });
}
