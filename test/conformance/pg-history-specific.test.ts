// What the history and grant suites cannot say for every store: on PostgreSQL several
// replicas write at once, so counter cursors must follow commit order, a grant's last use
// must go to one of them only, and migration 4 must find the first times already there.
// `store copy` moves grants, counters, first times, console sessions and chat links.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { actionWrites } from '../../src/adapters/store/postgres/pg-actions.js';
import { createPgPool } from '../../src/adapters/store/postgres/pg-connect.js';
import { copySqliteToPg } from '../../src/adapters/store/postgres/pg-copy.js';
import { migratePg } from '../../src/adapters/store/postgres/pg-migrate.js';
import { PG_MIGRATIONS } from '../../src/adapters/store/postgres/pg-migrations.js';
import type { PostgresStore } from '../../src/adapters/store/postgres/pg-store.js';
import { createPostgresStore } from '../../src/adapters/store/postgres/pg-store.js';
import { createSqliteStore } from '../../src/adapters/store/sqlite/sqlite-store.js';
import { applyReview, createAction } from '../../src/domain/lifecycle.js';
import { grantFor } from './grant-store-conformance.js';
import { HOUR, agentA, agentB, allEntries, allow, at, deny, expectWellFormedLog, human, insert, newAction, newId, range, request, review } from './store-fixtures.js';
import { usePgDatabase } from './pg-harness.js';

const db = usePgDatabase();
const opened: PostgresStore[] = [];
const schemas: string[] = [];

function freshSchema(): string {
  const s = `s_${randomBytes(5).toString('hex')}`;
  schemas.push(s);
  return s;
}

async function open(schema: string): Promise<PostgresStore> {
  const s = await createPostgresStore({ url: db().url, schema, poolMax: 4 });
  opened.push(s);
  return s;
}

afterEach(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close()));
  for (const s of schemas.splice(0)) await db().query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
});

describe('PostgreSQL history and grants across replicas', () => {
  it('a reader following the hit cursor while three replicas write misses no hit and sees none twice', async () => {
    const schema = freshSchema();
    const writers = await Promise.all(range(3).map(() => open(schema)));
    const reader = await open(schema);
    const seen: string[] = [];
    let cursor = 0;
    let writing = true;
    const follow = (async () => {
      for (;;) {
        const done = !writing;
        const r = await reader.readHits(cursor, 0, 50);
        seen.push(...r.hits.map((h) => h.actionId));
        cursor = r.cursor;
        if (done && r.hits.length === 0) return;
      }
    })();
    const written = await Promise.all(
      writers.map((w, i) =>
        (async () => {
          const ids: string[] = [];
          for (let n = 0; n < 20; n++) {
            const t = newAction({ now: at(i * 100 + n) });
            t.next.tally = [{ counter: 'posts', key: `w${i}`, weight: 1, on: 'allowed' }];
            ids.push((await insert(w, t)).id);
          }
          return ids;
        })(),
      ),
    );
    writing = false;
    await follow;
    expect([...seen].sort()).toEqual(written.flat().sort());
  });

  it("two replicas racing for a grant's last use: one action is written, the other is refused, the grant is spent once", async () => {
    const schema = freshSchema();
    const [a, b] = [await open(schema), await open(schema)];
    const t = newAction({ decision: review({ approvers: ['group:ops'] }) });
    await insert(a, t);
    const r = applyReview(t.next, human('ops@example.com', 'ops'), 'approve', { fingerprint: t.next.fingerprint, via: 'test', now: at(0) });
    const g = grantFor(t.next.id, { maxUses: 1 });
    expect(await a.updateWithGrant(r.next, t.next.version, [...r.audit, { type: 'grant.created', ts: at(0).toISOString(), actionId: t.next.id, data: { grant: g.id } }], g)).toBe(true);
    const uses = [a, b].map((s) => {
      const u = createAction({ id: newId(), request: request(), requester: agentA, decision: { ...allow(), grant: { id: g.id, use: 1, policyOutcome: 'review' } }, now: at(1000) });
      return { id: u.next.id, result: s.insertWithGrant(u.next, u.audit, { grantId: g.id, expectedUses: 0, nowMs: at(1000).getTime() }) };
    });
    const results = await Promise.all(uses.map((u) => u.result));
    expect(results.filter((x) => x.inserted)).toHaveLength(1);
    expect(results.filter((x) => !x.inserted && 'grantUnavailable' in x)).toHaveLength(1);
    const stored = await Promise.all(uses.map((u) => b.getAction(u.id)));
    expect(stored.filter(Boolean)).toHaveLength(1);
    expect((await b.getGrant(g.id))!.uses).toBe(1);
    expectWellFormedLog(await allEntries(b));
  });

  it('migration 4 records the first times of actions written before it, and only of those that acted', async () => {
    const schema = freshSchema();
    const pool = createPgPool({ url: db().url, schema, max: 2, statementTimeoutMs: 0, connectTimeoutMs: 10_000 });
    try {
      await migratePg(pool, schema, PG_MIGRATIONS.filter((m) => m.version < 4));
      await actionWrites.insert(pool, newAction({ requester: agentA, request: request({ target: 'github' }), now: at(0) }).next);
      await actionWrites.insert(pool, newAction({ requester: agentB, request: request({ target: 'github' }), decision: deny(), now: at(1) }).next);
      await migratePg(pool, schema);
    } finally {
      await pool.end();
    }
    const s = await open(schema);
    expect((await s.readActed(0, 10)).pairs).toEqual([{ agent: agentA.id, target: 'github' }]);
  });
});

describe('migration 7: who lists a grant', () => {
  it('indexes the grants written before it under their grantors and approvers, as new ones are', async () => {
    const schema = freshSchema();
    const pool = createPgPool({ url: db().url, schema, max: 2, statementTimeoutMs: 0, connectTimeoutMs: 10_000 });
    const g = grantFor('act_before', { grantedBy: ['Émile@Example.com'], approvers: ['group:dba'] });
    try {
      await migratePg(pool, schema, PG_MIGRATIONS.filter((m) => m.version < 7));
      await pool.query('INSERT INTO grants (id, agent, target, created_at, expires_at, max_uses, uses, record) VALUES ($1, $2, $3, 0, $4, 2, 0, $5)', [g.id, g.agent, g.target, at(HOUR).getTime(), JSON.stringify(g)]);
      await migratePg(pool, schema);
    } finally {
      await pool.end();
    }
    const s = await open(schema);
    for (const key of ['user:émile@example.com', 'group:dba']) expect((await s.listGrants({ limit: 10, audience: [key] })).map((x) => x.id)).toEqual([g.id]);
    expect(await s.listGrants({ limit: 10, audience: ['group:ops'] })).toEqual([]);
  });

  it('a grant an earlier release writes after the migration (a replica not yet upgraded) is still a candidate of every listing by audience', async () => {
    const schema = freshSchema();
    const s = await open(schema);
    const g = grantFor('act_old', { grantedBy: ['alice@example.com'], approvers: ['group:release'] });
    const pool = createPgPool({ url: db().url, schema, max: 1, statementTimeoutMs: 0, connectTimeoutMs: 10_000 });
    try {
      // The statement release 6 runs: no audience_indexed, no grant_audience rows.
      await pool.query('INSERT INTO grants (id, agent, target, created_at, expires_at, max_uses, uses, record) VALUES ($1, $2, $3, 0, $4, 2, 0, $5)', [g.id, g.agent, g.target, at(HOUR).getTime(), JSON.stringify(g)]);
    } finally {
      await pool.end();
    }
    expect((await s.listGrants({ limit: 10, audience: ['user:alice@example.com'] })).map((x) => x.id)).toEqual([g.id]);
    expect((await s.listGrants({ limit: 10, audience: ['group:release'], usableAt: at(1000).getTime() })).map((x) => x.id)).toEqual([g.id]);
  });
});

describe('store copy of the history and console tables', () => {
  it('moves grants (with their uses), counter hits, first times, console sessions and chat links from SQLite to PostgreSQL', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'countersign-copy-'));
    const path = join(dir, 'countersign.db');
    try {
      const src = createSqliteStore({ path, writer: 'inline' });
      const t = newAction({ decision: review({ approvers: ['group:ops'] }) });
      t.next.tally = [{ counter: 'posts', key: 'agent-a', weight: 3, on: 'allowed' }];
      await insert(src, t);
      const r = applyReview(t.next, human('ops@example.com', 'ops'), 'approve', { fingerprint: t.next.fingerprint, via: 'test', now: at(0) });
      // One use of one: the use ends the grant, and the copy keeps it ended.
      const g = grantFor(t.next.id, { maxUses: 1, approvers: ['group:ops', 'user:Dave@Example.com'] });
      expect(await src.updateWithGrant(r.next, t.next.version, r.audit, g)).toBe(true);
      const u = createAction({ id: newId(), request: request(), requester: agentA, decision: { ...allow(), grant: { id: g.id, use: 1, policyOutcome: 'review' } }, now: at(1000) });
      expect((await src.insertWithGrant(u.next, u.audit, { grantId: g.id, expectedUses: 0, nowMs: at(1000).getTime() })).inserted).toBe(true);
      const used = await src.getGrant(g.id);
      expect(used).toMatchObject({ uses: 1, endReason: 'used-up' });
      expect(await src.openGrants(10)).toEqual([]);
      const session = { id: 'cs_a', human: 'alice@example.com', known: true, groups: ['ops'], createdAt: at(0).toISOString(), lastSeenAt: at(0).toISOString(), expiresAt: at(3_600_000).toISOString() };
      await src.console.createSession(session, 'h'.repeat(64), []);
      await src.console.offerLink('c'.repeat(64), { channel: 'slack', chatUserId: 'U1', expiresAt: at(60_000).toISOString() }, at(0).toISOString());
      await src.console.claimLink('c'.repeat(64), 'alice@example.com', at(1).toISOString());
      const hits = (await src.readHits(0, 0, 10)).hits;
      const pairs = (await src.readActed(0, 10)).pairs;
      await src.close();

      const schema = freshSchema();
      const pool = createPgPool({ url: db().url, schema, max: 2, statementTimeoutMs: 0, connectTimeoutMs: 10_000 });
      try {
        await migratePg(pool, schema);
        await copySqliteToPg(path, pool);
      } finally {
        await pool.end();
      }
      const s = await open(schema);
      expect(await s.getGrant(g.id)).toEqual(used);
      // Its end mark came along (a sweep would otherwise end it, and log it, a second time),
      // and so did who may list it.
      expect(await s.openGrants(10)).toEqual([]);
      expect(await s.endGrants([{ id: g.id, reason: 'expired', at: at(HOUR * 2).toISOString() }])).toEqual([]);
      expect((await s.listGrants({ limit: 10, audience: ['user:dave@example.com'] })).map((x) => x.id)).toEqual([g.id]);
      expect((await s.readHits(0, 0, 10)).hits).toEqual(hits);
      expect((await s.readActed(0, 10)).pairs).toEqual(pairs);
      expect(await s.console.sessionByToken('h'.repeat(64))).toEqual(session);
      expect(await s.console.linkedHuman('slack', 'U1')).toBe('alice@example.com');
      expect(await s.console.claimLink('c'.repeat(64), 'mallory@example.com', at(2).toISOString())).toBeUndefined();
      // Indexing goes on after the copied rows: a new hit comes after the copied ones.
      const next = newAction({ now: at(5000) });
      next.next.tally = [{ counter: 'posts', key: 'agent-a', weight: 1, on: 'allowed' }];
      await insert(s, next);
      expect((await s.readHits(0, 0, 10)).hits.map((h) => h.actionId)).toEqual([...hits.map((h) => h.actionId), next.next.id]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
