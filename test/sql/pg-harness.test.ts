import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestDatabase } from '../support/pg-database.js';
import { createTestDatabase } from '../support/pg-database.js';

describe('the private PostgreSQL cluster', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(() => db.drop());

  it('is a real server, reached with a password, in a database of its own', async () => {
    const r = await db.query<{ db: string; v: string }>('SELECT current_database() AS db, current_setting($1) AS v', ['server_version_num']);
    expect(r.rows[0]?.db).toBe(db.name);
    expect(Number(r.rows[0]?.v)).toBeGreaterThanOrEqual(db.cluster.version * 10000);
    expect(db.url).toContain(encodeURIComponent(db.cluster.password));
  });

  it('dumps rows and sequence positions, so a change shows in the dump', async () => {
    await db.query('CREATE TABLE h (id serial PRIMARY KEY, v text)');
    await db.query("INSERT INTO h (v) VALUES ('a')");
    const before = await db.dump();
    expect(before).toContain('CREATE TABLE public.h');
    await db.query("SELECT nextval('h_id_seq')");
    expect(await db.dump()).not.toBe(before);
  });
});
