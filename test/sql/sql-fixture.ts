import { createPgPools } from '../../src/adapters/sql/postgres-pool.js';
import type { PostgresTargetInput } from '../../src/adapters/sql/postgres-settings.js';
import { postgresSettings } from '../../src/adapters/sql/postgres-settings.js';
import { createPostgresPreviewer } from '../../src/adapters/sql/postgres-previewer.js';
import type { TestDatabase } from '../support/pg-database.js';

/** A previewer on one target `db` of the test database, with the given config. */
export function previewerFor(db: TestDatabase, cfg: Partial<PostgresTargetInput> = {}) {
  const settings = postgresSettings('db', { url: db.url, ...cfg });
  const pools = createPgPools();
  const previewer = createPostgresPreviewer(new Map([['db', settings]]), pools);
  return {
    settings,
    preview: (statement: string, params: Array<string | number | boolean | null> = []) => previewer.preview({ target: 'db', input: { statement, params } }),
    close: () => pools.close(),
  };
}

/** A small shop: users with an email to mask, orders referencing them. */
export const SHOP_SCHEMA = `
  CREATE TABLE users (id int PRIMARY KEY, name text NOT NULL, email text, ssn text, active boolean NOT NULL DEFAULT true);
  CREATE TABLE orders (id int PRIMARY KEY, user_id int REFERENCES users(id), total numeric(10,2) NOT NULL);
  CREATE TABLE events (id serial PRIMARY KEY, what text);
  INSERT INTO users SELECT i, 'user' || i, 'u' || i || '@example.com', '000-00-' || i, i % 2 = 0 FROM generate_series(1, 20) i;
  INSERT INTO orders SELECT i, 1 + i % 20, i * 10 FROM generate_series(1, 40) i;
  INSERT INTO events (what) VALUES ('boot');
`;
