// Types of pg-cluster.mjs: a private, throwaway PostgreSQL cluster (see that file).

export interface PgClusterInfo {
  host: string;
  port: number;
  /** The superuser. */
  user: string;
  password: string;
  /** The server's major version (15, 16...). */
  version: number;
  /** The directory holding the server and client binaries (initdb, pg_dump, psql...). */
  binDir: string;
}

export interface PgCluster extends PgClusterInfo {
  /** A connection URL for `database` as the superuser. */
  url(database: string): string;
  /** Stops the server (fast shutdown) and deletes its files. Idempotent. */
  stop(): Promise<void>;
}

export interface StartPgClusterOptions {
  /** Extra `postgresql.conf` settings, e.g. `{ max_connections: '20' }`. */
  settings?: Record<string, string>;
}

/** The newest installed server's bin directory; throws a message saying how to install one. */
export function findPgBinDir(): { binDir: string; version: number };

/** initdb into a fresh temp dir, start the server on 127.0.0.1 and a free port, wait until it accepts connections. */
export function startPgCluster(opts?: StartPgClusterOptions): Promise<PgCluster>;
