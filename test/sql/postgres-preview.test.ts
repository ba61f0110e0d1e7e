import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestDatabase } from '../support/pg-database.js';
import { createTestDatabase } from '../support/pg-database.js';
import { previewerFor, SHOP_SCHEMA } from './sql-fixture.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
  await db.query(SHOP_SCHEMA);
});
afterAll(() => db.drop());

describe.each(['rollback', 'select'] as const)('%s preview of DML', (mode) => {
  let p: ReturnType<typeof previewerFor>;
  beforeAll(() => {
    p = previewerFor(db, { preview: { mode, sampleRows: 3 }, mask: ['users.email', '*.ssn'] });
  });
  afterAll(() => p.close());

  it('an UPDATE shows its rows affected and the matching rows before and after, masked', async () => {
    const before = await db.dump();
    const r = await p.preview("UPDATE users SET name = upper(name), active = $1 WHERE id <= $2", [false, 4]);
    expect(r.status, r.reason).toBe('ok');
    expect(r.summary.rows).toEqual([4]);
    const s = r.statements[0]!;
    expect(s.columns).toEqual(['id', 'name', 'email', 'ssn', 'active']);
    expect(s.before).toHaveLength(3);
    expect(s.before?.[0]).toEqual([1, 'user1', '[masked]', '[masked]', false]);
    // The after sample is the same rows, in the same order (paired by primary key).
    expect(s.after?.map((row) => row[0])).toEqual(s.before?.map((row) => row[0]));
    expect(s.after?.[0]).toEqual([1, 'USER1', '[masked]', '[masked]', false]);
    expect(await db.dump()).toBe(before);
  });

  it('a DELETE shows the rows it would delete', async () => {
    const r = await p.preview('DELETE FROM orders WHERE total > 350');
    expect(r.status, r.reason).toBe('ok');
    expect(r.summary.rows).toEqual([5]);
    expect(r.statements[0]?.before?.length).toBe(3);
  });

  it('a TRUNCATE shows how many rows it removes, and removes none', async () => {
    const before = await db.dump();
    const r = await p.preview('TRUNCATE orders');
    expect(r.status, r.reason).toBe('ok');
    expect(r.statements[0]).toMatchObject({ type: 'truncate', rows: 40 });
    expect(await db.dump()).toBe(before);
  });

  it('an INSERT shows the rows it would insert', async () => {
    const r = await p.preview("INSERT INTO users (id, name, email) VALUES (100, 'new', 'n@example.com'), (101, $1, NULL)", ['other']);
    expect(r.status, r.reason).toBe('ok');
    expect(r.summary.rows).toEqual([2]);
    const s = r.statements[0]!;
    const name = s.columns!.indexOf('name');
    const email = s.columns!.indexOf('email');
    expect(s.after?.map((row) => row[name])).toEqual(['new', 'other']);
    expect(s.after?.[0]?.[email]).toBe('[masked]');
  });
});

describe('select preview on a read-only URL (a replica)', () => {
  it('previews DML through preview.url with a role that can only read', async () => {
    const ro = db.role('replica_reader');
    await db.query(`CREATE ROLE ${ro} LOGIN PASSWORD 'ro-password-123'; GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${ro}; ALTER ROLE ${ro} SET default_transaction_read_only = on`);
    const p = previewerFor(db, { preview: { mode: 'select', url: db.urlAs(ro, 'ro-password-123') } });
    try {
      const r = await p.preview('DELETE FROM orders WHERE user_id = $1', [3]);
      expect(r.status, r.reason).toBe('ok');
      expect(r.summary.rows).toEqual([2]);
      // The preview connection is destroyed after each preview: the role is read from a read's sample.
      const who = await p.preview('SELECT current_user AS who');
      expect(who.status, who.reason).toBe('ok');
      expect(JSON.stringify(who.statements[0])).toContain(ro);
    } finally {
      await p.close();
    }
  });
});
