import { z } from 'zod';
import { parseByteSize } from '../domain/byte-size.js';
import { isDuration } from '../domain/duration.js';
import { SQL_PREVIEW_MODES } from '../domain/sql-preview.js';
import { runnerChoice } from './runner-choice.js';

const duration = z.string().refine(isDuration, { message: 'expected a duration such as 5s, 30s or 2m' });
const byteSize = z.union([z.string(), z.number()]).refine((v) => parseByteSize(v) !== undefined, { message: 'expected a size such as 1MiB, 512KiB or a number of bytes' });

/** postgres://user:password@host:5432/db (or postgresql://); a secret: never shown, logged or audited. */
const postgresUrl = z.string().refine(
  (u) => {
    try {
      return ['postgres:', 'postgresql:'].includes(new URL(u).protocol);
    } catch {
      return false;
    }
  },
  { message: 'expected a postgres:// or postgresql:// URL' },
);

/** `[schema.]table.column`: no schema = any schema, `*` as the table = any table. */
const MASK_RULE = /^(?:(?:[A-Za-z_][A-Za-z0-9_$]*)\.)?(?:[A-Za-z_][A-Za-z0-9_$]*|\*)\.[A-Za-z_][A-Za-z0-9_$]*$/;

export const postgresTargetSchema = z
  .object({
    kind: z.literal('postgres').describe('A PostgreSQL database: it runs actions of kind `sql` (docs/databases.md).'),
    url: postgresUrl
      .optional()
      .describe(
        'Connection URL, `postgres://user:password@host:5432/db`, usually `${ENV}`. A secret: agents never see it, and it is kept out of responses, logs and the audit log. `sslmode` and other libpq URL parameters apply as node-postgres reads them. Required, unless a runner runs the target (`runner`): then only the runner\'s config holds it.',
      ),
    preview: z
      .object({
        enabled: z.boolean().default(true).describe('Compute a dry-run preview of the effect before reviewers are asked (docs/databases.md).'),
        mode: z.enum(SQL_PREVIEW_MODES).default('rollback').describe('`rollback`: run in a transaction that is always rolled back (exact, takes the locks briefly). `select`: rewrite DML into the SELECT that finds the same rows (no writes, works on a replica).'),
        url: postgresUrl.optional().describe('Where previews connect (e.g. a read-only replica for `select` mode); defaults to `url`. A secret, like `url`.'),
        sampleRows: z.number().int().min(0).max(100).default(5).describe('Rows shown before and after, per statement.'),
        timeout: duration.default('5s').describe('Longest a preview may take; past it the preview is reported as timed out and reviewers see that.'),
      })
      .strict()
      .default({ enabled: true, mode: 'rollback', sampleRows: 5, timeout: '5s' })
      .describe('The dry run shown to reviewers.'),
    limits: z
      .object({
        statementTimeout: duration.default('30s').describe('`statement_timeout` of executions.'),
        maxRows: z.number().int().positive().max(1_000_000).default(1000).describe('Rows returned to the agent at most; the rest is cut and the result says so.'),
        maxBytes: byteSize.default('1MiB').describe('Bytes of result returned to the agent at most.'),
        exportRows: z.number().int().min(0).default(1000).describe('A SELECT reading a table with no LIMIT, or a LIMIT above this, is an export (`sql.export`).'),
      })
      .strict()
      .default({ statementTimeout: '30s', maxRows: 1000, maxBytes: '1MiB', exportRows: 1000 })
      .describe('Bounds on executions and on the `sql.export` fact.'),
    mask: z
      .array(z.string().regex(MASK_RULE, 'expected [schema.]table.column (no schema = any schema, * = any table)'))
      .default([])
      .describe('Columns masked in results, previews and the audit log: `[schema.]table.column`; no schema = any schema; `*` as the table = any table.'),
    poolSize: z
      .number()
      .int()
      .min(1)
      .max(100)
      .default(5)
      .describe('Connections to this database the gateway keeps open at most (node-postgres pool `max`). `1` for a server that serves one session, such as PGlite behind pglite-socket (the demo\'s fallback).'),
    maskParams: z.boolean().default(false).describe('Mask every param in the audit log (otherwise only the params of inputs over a table with a masked column).'),
    tls: z
      .object({
        rejectUnauthorized: z.boolean().default(true).describe('Refuse a server certificate that does not verify.'),
        ca: z.string().optional().describe('PEM of the CA that signs the server certificate.'),
        cert: z.string().optional().describe('PEM client certificate.'),
        key: z.string().optional().describe('PEM client key, usually `${ENV}`; a secret.'),
        servername: z.string().optional().describe('Server name for SNI and verification, when it differs from the URL host.'),
      })
      .strict()
      .optional()
      .describe('TLS to the server (node-postgres `ssl`); without it, the URL\'s `sslmode` decides.'),
    labels: z.record(z.string(), z.string()).optional().describe('Labels that policy can match on (`match.labels`).'),
    runner: runnerChoice.describe(
      'Who runs it: `local` (the gateway, with `url`) or the id of a runner (or a list of ids; each action runs on one of them) inside the database\'s network, whose own config holds the URL: previews and executions run there (docs/commands.md, "SQL targets on runners").',
    ),
  })
  .strict()
  .superRefine((t, ctx) => {
    // On a runner the credentials live on the runner: the gateway's config holds none.
    if (t.runner === 'local' && t.url === undefined) ctx.addIssue({ code: 'custom', path: ['url'], message: 'a postgres target run by the gateway needs its url (or name a runner that holds it)' });
    if (t.runner !== 'local') {
      for (const [at, v] of [[['url'], t.url], [['preview', 'url'], t.preview.url], [['tls'], t.tls]] as const) {
        if (v !== undefined) ctx.addIssue({ code: 'custom', path: [...at], message: 'a target run by a runner takes its connection from the runner\'s own config; the gateway holds no credential for it' });
      }
    }
  });

export type PostgresTargetConfig = z.infer<typeof postgresTargetSchema>;

/** The URL's host as policy may see it (`target.host`): no user, no password. */
export function postgresHost(url: string): string | undefined {
  try {
    return new URL(url).host || undefined;
  } catch {
    return undefined;
  }
}
