import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestDatabase } from '../support/pg-database.js';
import { createTestDatabase } from '../support/pg-database.js';
import { startTarget } from './harness.js';
import { reviewsWorkspace, startInProcess, testClock } from './reviews-harness.js';
import type { ReviewsWorkspace } from './reviews-harness.js';

/*
 * Counters exact across replicas: two gateways, each with its own PostgreSQL store (its
 * own pool, writer and in-memory counter book) on one database, take a burst of exports
 * at once through the real HTTP API. However the burst interleaves, exactly five are
 * allowed and every later one is reviewed: each decision's counter reads are checked
 * again where its action is written, under the sequencer every replica's writes take.
 */

const POLICY = `
default: { outcome: allow }
counters:
  exports: { match: { kind: http, target: github }, when: 'http.method == "POST"', by: [agent], window: 1h }
rules:
  - id: export-burst
    match: { kind: http, target: github }
    when: http.method == "POST" && counters.exports >= 5
    outcome: review
    review: { approvers: [group:release], quorum: 1, timeout: 2h }
`;

const BURST = 16;
const ROUNDS = 4;
const HOUR = 3_600_000;

let db: TestDatabase;
let target: Awaited<ReturnType<typeof startTarget>>;
let ws: ReviewsWorkspace;
const gws: Array<Awaited<ReturnType<typeof startInProcess>>> = [];
const clock = testClock('2026-01-15T12:00:00Z');

beforeAll(async () => {
  db = await createTestDatabase();
  target = await startTarget();
  ws = reviewsWorkspace(target.url, POLICY);
  writeFileSync(ws.configPath, readFileSync(ws.configPath, 'utf8').replace('store: { sqlite: ./countersign.db }', 'store: { postgres: { url: "${DATABASE_URL}", schema: race, pool: { max: 4 } } }'));
  ws.env.DATABASE_URL = db.url;
  gws.push(await startInProcess(ws, clock));
  gws.push(await startInProcess(ws, clock));
}, 60_000);

afterAll(async () => {
  for (const g of gws) await g.gw.close();
  await target?.close();
  ws?.cleanup();
  await db?.drop();
});

describe('counters on PostgreSQL with two replicas', () => {
  it('a burst of exports split across two replicas allows exactly five; the sixth and every later one is reviewed', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const results = await Promise.all(
        Array.from({ length: BURST }, (_, i) =>
          gws[i % 2]!.client(ws.tokens.agent).submit({ kind: 'http', target: 'github', input: { method: 'POST', path: `/exports/${round}/${i}` }, mode: 'decide' }),
        ),
      );
      const outcomes = results.map((a) => a.decision.outcome);
      expect(outcomes.filter((o) => o === 'allow'), `round ${round}: ${outcomes.join(' ')}`).toHaveLength(5);
      expect(outcomes.filter((o) => o === 'review')).toHaveLength(BURST - 5);
      // The store agrees: five hits in the window, whichever replica wrote them.
      const hits = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM race.counter_hits WHERE at > $1', [clock.now().getTime() - HOUR]);
      expect(hits.rows[0]!.n).toBe(5);
      // Each replica, asked once more, reviews it.
      for (const g of gws) expect((await g.client(ws.tokens.agent).submit({ kind: 'http', target: 'github', input: { method: 'POST', path: `/exports/${round}/more` }, mode: 'decide' })).decision.outcome).toBe('review');
      clock.advance(HOUR + 1000);
    }
  });
});
