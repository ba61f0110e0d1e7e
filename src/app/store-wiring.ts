import type { PostgresStore } from '../adapters/store/postgres/pg-store.js';
import { createSqliteStore } from '../adapters/store/sqlite/sqlite-store.js';
import type { StoreChoice } from '../config/load.js';
import { loadConfig, loadConfigWithoutSecrets } from '../config/load.js';
import { parseDuration } from '../domain/duration.js';
import type { AuditLog } from '../ports/audit-log.js';
import type { ChannelStore } from '../ports/channel-store.js';
import type { HeldCallStore } from '../ports/held-calls.js';
import type { Store } from '../ports/store.js';
import type { ToolPinStore } from '../ports/tool-pins.js';
import type { ChatLinkStore, ConsoleSessionStore } from '../ports/console-sessions.js';
import type { GrantStore } from '../ports/grant-store.js';
import type { DecidedActionStore, HistoryStore } from '../ports/history-store.js';

/** Every port the gateway needs from its store; SQLite and PostgreSQL both provide them all. */
export type GatewayStore = Store &
  AuditLog &
  HeldCallStore &
  ToolPinStore &
  HistoryStore &
  DecidedActionStore &
  GrantStore & {
    channels: ChannelStore;
    console: ConsoleSessionStore & ChatLinkStore;
    /**
     * Ids of actions another replica changed (PostgreSQL: LISTEN/NOTIFY), so that waiters
     * here are released at once. Absent for SQLite: its other processes are found by polling.
     */
    watchChanges?: PostgresStore['watchChanges'];
  };

export interface OpenStoreOptions {
  /** Offline tools: never migrate, never write. */
  readOnly?: boolean;
  /** Told about failures of the background LISTEN connection (never carries the URL). */
  onListenError?: (e: unknown) => void;
}

type Opener<K extends StoreChoice['kind']> = (choice: Extract<StoreChoice, { kind: K }>, o: OpenStoreOptions) => Promise<GatewayStore>;

/** The one place a store is chosen: by config kind, exhaustive (a new kind without an opener does not compile). */
const OPENERS: { [K in StoreChoice['kind']]: Opener<K> } = {
  sqlite: (c, o) => Promise.resolve(createSqliteStore({ path: c.path, ...(o.readOnly ? { readOnly: true } : {}) })),
  // Imported only for a PostgreSQL store: its driver and modules are sizeable in a SQLite gateway's memory.
  postgres: async (c, o) =>
    (await import('../adapters/store/postgres/pg-store.js')).createPostgresStore({
      url: c.config.url,
      schema: c.config.schema,
      poolMax: c.config.pool.max,
      statementTimeoutMs: parseDuration(c.config.statementTimeout),
      connectTimeoutMs: parseDuration(c.config.connectTimeout),
      migrate: c.config.migrate,
      ...(o.readOnly ? { readOnly: true } : {}),
      ...(o.onListenError ? { onListenError: o.onListenError } : {}),
    }),
};

export function openStore(choice: StoreChoice, o: OpenStoreOptions = {}): Promise<GatewayStore> {
  return (OPENERS[choice.kind] as Opener<StoreChoice['kind']>)(choice, o);
}

/** For logs: which store, never its URL. */
export function describeStore(choice: StoreChoice): Record<string, string> {
  return choice.kind === 'sqlite' ? { store: 'sqlite', path: choice.path } : { store: 'postgres', schema: choice.config.schema };
}

/**
 * The store a config file names, for offline commands (`audit tail`, `deliveries`,
 * `mcp-trust`). SQLite needs no secret; PostgreSQL needs its URL, so the config is then
 * read with its environment variables (an unset one fails with its path).
 */
export async function openConfiguredStore(file: string, o: OpenStoreOptions = {}): Promise<GatewayStore> {
  const plain = loadConfigWithoutSecrets(file);
  const choice = plain.store.kind === 'postgres' ? loadConfig(file).store : plain.store;
  return openStore(choice, o);
}
