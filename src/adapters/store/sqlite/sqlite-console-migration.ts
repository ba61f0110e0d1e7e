import type { Migration } from './sqlite-migrations.js';

/** The web console's tables (issue 15): additive, nothing existing changes. */
export const CONSOLE_MIGRATION: Migration = {
  version: 5,
  name: 'console sessions and chat identity links',
  sql: `
    -- Console sign-ins. The browser holds a random token; only its SHA-256 is kept.
    CREATE TABLE console_sessions (
      id TEXT PRIMARY KEY NOT NULL,
      token_hash TEXT NOT NULL UNIQUE,
      human TEXT NOT NULL,
      known INTEGER NOT NULL CHECK (known IN (0, 1)),
      groups TEXT NOT NULL,          -- JSON array
      created_at INTEGER NOT NULL,
      last_seen_at INTEGER NOT NULL,
      expires_at INTEGER NOT NULL,
      ended_at INTEGER,
      end_reason TEXT
    );
    CREATE INDEX console_sessions_created ON console_sessions (created_at, id);
    CREATE INDEX console_sessions_human ON console_sessions (human, created_at);

    -- One-time chat linking codes (hash only) and the bindings they made.
    CREATE TABLE chat_link_offers (
      code_hash TEXT PRIMARY KEY NOT NULL,
      channel TEXT NOT NULL,
      chat_user_id TEXT NOT NULL,
      created_at INTEGER NOT NULL,
      expires_at INTEGER NOT NULL,
      used_at INTEGER
    ) WITHOUT ROWID;
    CREATE TABLE chat_links (
      channel TEXT NOT NULL,
      chat_user_id TEXT NOT NULL,
      human TEXT NOT NULL,
      linked_at INTEGER NOT NULL,
      PRIMARY KEY (channel, chat_user_id)
    ) WITHOUT ROWID;
  `,
};
