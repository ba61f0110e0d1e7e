import { readFileSync, writeFileSync } from 'node:fs';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../src/domain/errors.js';
import type { TestDatabase } from '../support/pg-database.js';
import { createTestDatabase } from '../support/pg-database.js';
import { databaseDigest, SQL_CORPUS } from '../support/sql-corpus.js';
import { applyTextMutations, textMutations } from '../support/text-mutations.js';
import { SCHEMA } from '../pgwire/pgwire-harness.js';
import { startServer, startTarget, until, workspace } from './harness.js';
import type { ServerProcess, Workspace } from './harness.js';

// `sql` actions with random and mutated statements and params, submitted to the real
// gateway process with a real PostgreSQL target (the run's private cluster). Nothing is
// ever approved here, so the only statements that may run are those policy allows
// outright (reads) and the rolled-back previews of those it sends to review. Properties:
// never a 5xx or a hang; every refusal a catalog code with its status and no change to
// the audit log; and the target database is never changed, whatever was submitted
// (checked after every case on its rows and relations, and with pg_dump at the end).

const RUNS = Number(process.env.COUNTERSIGN_FUZZ_RUNS ?? 200);
const SEED = process.env.COUNTERSIGN_FUZZ_SEED ? { seed: Number(process.env.COUNTERSIGN_FUZZ_SEED) } : {};

const POLICY = `
default: { outcome: deny, reason: Not covered by a rule }
rules:
  - id: reads
    match: { kind: sql, target: shop-db }
    when: sql.readOnly && !sql.privilege
    outcome: allow
  - id: writes
    match: { kind: sql, target: shop-db }
    when: '!sql.readOnly && !sql.ddl && !sql.privilege'
    outcome: review
    review: { approvers: [group:release], quorum: 2, timeout: 1h }
`;

let db: TestDatabase;
let target: Awaited<ReturnType<typeof startTarget>>;
let ws: Workspace;
let server: ServerProcess;

beforeAll(async () => {
  db = await createTestDatabase();
  await db.query(SCHEMA);
  target = await startTarget();
  ws = workspace(target.url, { policy: POLICY });
  ws.env.T_SHOP_DB = db.url;
  writeFileSync(
    ws.configPath,
    `${readFileSync(ws.configPath, 'utf8').replace(
      'targets:\n',
      'targets:\n  shop-db: { kind: postgres, url: "${T_SHOP_DB}", preview: { sampleRows: 3, timeout: 3s }, limits: { statementTimeout: 3s, maxRows: 100 } }\n',
    )}\naudit: { readerGroups: [admin] }\n`,
  );
  server = await startServer(ws);
}, 240_000);

afterAll(async () => {
  await server?.stop();
  await target?.close();
  ws?.cleanup();
  await db?.drop();
});

async function submit(body: string) {
  const res = await fetch(`${server.url}/v1/actions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ws.tokens.agent}` },
    body,
    signal: AbortSignal.timeout(30_000),
  });
  return { status: res.status, text: await res.text() };
}

async function auditSize(): Promise<number> {
  const res = await fetch(`${server.url}/v1/audit/entries?start=0&end=0`, { headers: { authorization: `Bearer ${ws.tokens.carol}` } });
  return ((await res.json()) as { size: number }).size;
}

const param = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom('pro', 'team', 'free', '1', "'; DROP TABLE customers; --", 'a\u0000b', '\ud800', 2 ** 53 + 2, -0, { a: 1 } as unknown as string, [1] as unknown as string),
);
const statement = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(fc.constantFrom(...SQL_CORPUS), textMutations).map(([s, ms]) => applyTextMutations(Buffer.from(s), ms).toString('utf8')) },
  { weight: 3, arbitrary: fc.constantFrom(...SQL_CORPUS) },
  { weight: 1, arbitrary: fc.array(fc.constantFrom(...SQL_CORPUS), { minLength: 2, maxLength: 4 }).map((ss) => ss.join('; ')) },
  { weight: 1, arbitrary: fc.string({ maxLength: 60 }) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 20_000 }).map((n) => `SELECT ${'('.repeat(n)}1${')'.repeat(n)}`) },
  { weight: 1, arbitrary: fc.constantFrom('', ' ', ';', '-- only a comment', '/* unterminated', "SELECT 'unterminated", 'SELECT $0', 'SELECT $99999999999', 'SELECT 1;'.repeat(1001), `SELECT '${'x'.repeat(300_000)}'`) },
);
const input = fc
  .record({
    statement: fc.oneof({ weight: 12, arbitrary: statement }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) }),
    params: fc.oneof({ weight: 2, arbitrary: fc.constant(undefined) }, { weight: 4, arbitrary: fc.array(param, { maxLength: 3 }) }, { weight: 1, arbitrary: fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constant(Array.from({ length: 1001 }, () => 1))) }),
    // A key a sql input does not have, now and then.
    database: fc.oneof({ weight: 8, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constantFrom('postgres', 'template1') }),
  })
  .map(({ statement: st, params, database }) => ({ statement: st, ...(params === undefined ? {} : { params }), ...(database === undefined ? {} : { database }) }));
const cases = fc.record({ input, target: fc.oneof({ weight: 10, arbitrary: fc.constant('shop-db') }, { weight: 1, arbitrary: fc.constantFrom('github', 'nope') }), mode: fc.constantFrom(undefined, undefined, 'decide') }).map((a) => {
  const text = JSON.stringify({ kind: 'sql', ...a });
  return { text, [fc.toStringMethod]: () => `${text.length} chars: ${text.slice(0, 400)}` };
});

describe('sql inputs under fuzzing, on a real PostgreSQL target', () => {
  it('never 5xx; refusals carry a catalog code and leave the log alone; the target database never changes', async () => {
    const initial = await db.dump();
    const start = await databaseDigest(db);
    const seen = new Map<string, number>();
    const count = (k: string) => seen.set(k, (seen.get(k) ?? 0) + 1);
    await fc.assert(
      fc.asyncProperty(cases, async (c) => {
        const before = await auditSize();
        const r = await submit(c.text);
        expect(r.status, r.text).toBeLessThan(500);
        if (r.status >= 400) {
          const code = (JSON.parse(r.text) as { error?: { code?: string } }).error?.code as keyof typeof ERROR_CODES;
          count(code);
          expect(Object.keys(ERROR_CODES), r.text).toContain(code);
          expect(r.status, r.text).toBe(ERROR_CODES[code].status);
          expect(await auditSize(), `a refusal changed the log: ${r.text}`).toBe(before);
        } else {
          const a = JSON.parse(r.text) as { id: string };
          const done = await until(
            async () => (await (await fetch(`${server.url}/v1/actions/${a.id}`, { headers: { authorization: `Bearer ${ws.tokens.agent}` } })).json()) as { status: string; mode: string },
            // A decided (mode decide) action stays approved: the agent runs it itself.
            (x) => x.status !== 'running' && (x.status !== 'approved' || x.mode === 'decide'),
            20_000,
          );
          count(done.status);
          expect(done.mode === 'decide' ? ['approved', 'pending', 'denied'] : ['succeeded', 'failed', 'pending', 'denied'], JSON.stringify(done)).toContain(done.status);
        }
        expect(await databaseDigest(db), `the target database changed after ${c.text.slice(0, 300)}`).toBe(start);
      }),
      { numRuns: RUNS, ...SEED },
    );
    expect(await db.dump()).toBe(initial);
    for (const k of ['succeeded', 'pending', 'denied', 'SQL_PARSE_ERROR', 'VALIDATION_FAILED']) expect(seen.get(k) ?? 0, `${k} in ${JSON.stringify([...seen])}`).toBeGreaterThan(0);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  }, 300_000);
});
