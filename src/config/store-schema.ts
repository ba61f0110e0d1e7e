import { z } from 'zod';
import { isDuration } from '../domain/duration.js';

/** The `store` section: SQLite (one node, the default) or PostgreSQL (one or several replicas). */

const duration = z.string().refine(isDuration, { message: 'expected a duration such as 45s, 15m or 2h' });
const postgresUrl = z
  .string()
  .min(1)
  .refine((u) => {
    try {
      return /^postgres(ql)?:$/.test(new URL(u).protocol);
    } catch {
      return false;
    }
  }, 'expected postgres://user:password@host:5432/database');

export const storePostgresSchema = z
  .object({
    url: postgresUrl.describe(
      'Connection URL, `postgres://user:password@host:5432/db?sslmode=require`, usually `${DATABASE_URL}`. A secret: never logged, never in an error or the audit log.',
    ),
    schema: z
      .string()
      .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'a plain lower-case SQL name')
      .default('countersign')
      .describe('The schema every table lives in (created by the first migration). Replicas of one deployment share it.'),
    pool: z
      .object({
        max: z.number().int().min(2).max(500).default(10).describe('Most connections this replica opens (one for writes at a time, the rest for reads; plus one LISTEN connection).'),
      })
      .strict()
      .default({ max: 10 })
      .describe('The connection pool of each replica.'),
    statementTimeout: duration.default('30s').describe('How long one statement may run before the server cancels it; the request then fails with STORAGE_ERROR (503).'),
    connectTimeout: duration.default('10s').describe('How long to wait for a connection (new, or free in the pool) before failing with STORAGE_ERROR.'),
    migrate: z
      .enum(['auto', 'never'])
      .default('auto')
      .describe('`auto`: apply pending migrations at start, under an advisory lock (replicas starting together migrate once). `never`: refuse to start unless `countersign migrate` already brought the schema to this release.'),
  })
  .strict();

export type StorePostgresConfig = z.infer<typeof storePostgresSchema>;

export const storeSchema = z
  .object({
    sqlite: z.string().min(1).optional().describe('Path of the SQLite database file (created if missing). Relative paths resolve against the config file.'),
    postgres: storePostgresSchema.optional().describe('PostgreSQL as the store: several gateway replicas may share it (see docs/production.md).'),
  })
  .strict()
  .refine((s) => !(s.sqlite && s.postgres), { message: 'choose one store: sqlite or postgres, not both' })
  .default({ sqlite: './data/countersign.db' })
  .describe('Where state and the audit log live: `sqlite` (default, one node) or `postgres` (one or several replicas).')
  // `store: {}` means the default SQLite file.
  .transform((s) => (s.postgres ? s : { ...s, sqlite: s.sqlite ?? './data/countersign.db' }));
