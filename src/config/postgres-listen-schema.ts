import { z } from 'zod';
import { parseByteSize } from '../domain/byte-size.js';
import { isDuration } from '../domain/duration.js';

const duration = z.string().refine(isDuration, { message: 'expected a duration such as 5s, 30s or 2m' });
const byteSize = z.union([z.string(), z.number()]).refine((v) => parseByteSize(v) !== undefined, { message: 'expected a size such as 1MiB, 512KiB or a number of bytes' });

/** What a client that connects asks for as its database name, and where its statements go. */
export const wireDatabaseSchema = z
  .object({
    target: z.string().min(1).describe('The `postgres` target the statements of this database run on, as `sql` actions.'),
    heldInTransaction: z
      .enum(['hold', 'refuse'])
      .default('refuse')
      .describe(
        'A statement that needs review inside `BEGIN ... COMMIT`: `hold` keeps the transaction (and its locks) open while reviewers decide; `refuse` answers SQLSTATE 25001 at once, aborts the transaction and tells the client to run the statement outside a transaction (docs/postgres-gateway.md).',
      ),
    onDisconnect: z
      .enum(['keep', 'cancel'])
      .default('cancel')
      .describe(
        'A client that disconnects while its statement waits for review: `cancel` cancels the action; `keep` leaves it pending, and once approved it runs on its own connection like an API action (a statement held inside a transaction is always cancelled: its transaction is gone). The log says which.',
      ),
  })
  .strict();

export const postgresListenSchema = z
  .object({
    address: z.string().regex(/^[^\s:]+:\d{1,5}$/, 'expected host:port').default('127.0.0.1:6432').describe('Address the PostgreSQL wire gateway listens on. Port 0 picks a free port.'),
    tls: z
      .object({
        cert: z.string().min(1).describe('PEM certificate file (relative paths resolve against the config file).'),
        key: z.string().min(1).describe('PEM private key file (relative paths resolve against the config file).'),
      })
      .strict()
      .optional()
      .describe('TLS for clients that ask for it (`sslmode=require`). Without it, SSLRequest is answered "N".'),
    requireTls: z.boolean().default(false).describe('Refuse clients that do not use TLS (needs `tls`).'),
    databases: z.record(z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9._-]{0,62}$/), wireDatabaseSchema).describe('Database names clients may ask for, each mapped to a `postgres` target.'),
    maxConnections: z.number().int().min(1).max(100_000).default(2000).describe('Client connections held at once; past it a new one gets FATAL 53300.'),
    maxMessageBytes: byteSize.default('1MiB').describe('Largest message a client may send; a longer one ends its session with FATAL 08P01.'),
    authTimeout: duration.default('10s').describe('Time a new connection has to finish start-up and authentication.'),
    idleUpstream: z.number().int().min(0).max(1000).default(4).describe('Idle upstream connections kept per target and identity for the next session.'),
  })
  .strict()
  .optional()
  .describe('The PostgreSQL wire-protocol gateway: psql, node-postgres and MCP database servers connect as to PostgreSQL; every statement is a `sql` action (docs/postgres-gateway.md).');

export type PostgresListenConfig = NonNullable<z.infer<typeof postgresListenSchema>>;
export type WireDatabaseConfig = z.infer<typeof wireDatabaseSchema>;
