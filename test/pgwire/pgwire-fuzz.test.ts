import fc from 'fast-check';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseDigest, SQL_CORPUS } from '../support/sql-corpus.js';
import { applyTextMutations, textMutations } from '../support/text-mutations.js';
import type { WireEnv } from './pgwire-harness.js';
import { pgClient, startWireEnv } from './pgwire-harness.js';
import type { BackendMessage, RawSession } from './pgwire-raw-session.js';
import { cstr, fieldsOf, frame, int16, int32, openRawSession } from './pgwire-raw-session.js';

// The wire gateway end to end under fuzzing: after a real SCRAM login on a raw socket,
// mutated protocol messages (Query, Parse, Bind, Describe, Execute, Close, Sync, Flush,
// Copy*, FunctionCall, a second password, unknown types; then bit flips, inserted,
// deleted and truncated bytes) carrying mutated SQL. Properties: the gateway never
// crashes; every message it sends is well framed and every ErrorResponse carries a
// SQLSTATE (never XX000, an internal error); the session then either still answers a
// query or is closed by the gateway (at the latest once the client stops sending); a
// session opened beforehand keeps working; and nothing but reads ran upstream (policy
// refuses every other statement, and the target database never changes).

const RUNS = Number(process.env.COUNTERSIGN_FUZZ_RUNS ?? 150);
const SEED = process.env.COUNTERSIGN_FUZZ_SEED ? { seed: Number(process.env.COUNTERSIGN_FUZZ_SEED) } : {};

const POLICY = `
default: { outcome: deny, reason: Not covered by a rule }
rules:
  - id: db-reads
    match: { kind: sql, target: shop-db }
    when: sql.readOnly && !sql.privilege
    outcome: allow
  - id: db-session
    match: { kind: sql }
    when: sql.types.all(t, t in ["set", "reset", "show"]) && !sql.privilege
    outcome: allow
`;

let env: WireEnv;
let bystander: pg.Client;
let start: string;
beforeAll(async () => {
  env = await startWireEnv({ policy: POLICY });
  bystander = pgClient(env, 'deploy-bot', env.ws.tokens.agent);
  await bystander.connect();
  start = await databaseDigest(env.db);
}, 240_000);
afterAll(async () => {
  // In full runs (not alone) this teardown has hung past 120 s; not yet diagnosed. Each
  // step is bounded and a slow one is named on stderr, and a gateway that does not stop
  // after SIGTERM is killed, so the suite ends and says where it waited.
  await bounded(bystander?.end().catch(() => undefined), 5_000, 'ending the bystander client');
  if (env && !(await bounded(env.server.stop(), 30_000, 'the gateway stopping after SIGTERM'))) {
    // The gateway names the shutdown step it waits for (src/app/shutdown-steps.ts).
    process.stderr.write(`${env.server.logs.filter((l) => l.includes('shutdown')).join('\n')}\n`);
    env.server.child.kill('SIGKILL');
  }
  await bounded(env?.close(), 60_000, 'closing the target and dropping the database');
}, 120_000);

/** Whether `p` settled within `ms`; if not, says what was waited for. */
async function bounded(p: Promise<unknown> | undefined, ms: number, what: string): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => {
      process.stderr.write(`pgwire-fuzz teardown: ${what} took over ${ms} ms\n`);
      resolve(false);
    }, ms);
  });
  const done = await Promise.race([Promise.resolve(p).then(() => true as const), late]);
  clearTimeout(timer);
  return done;
}

const sqlText = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(fc.constantFrom(...SQL_CORPUS), textMutations).map(([s, ms]) => applyTextMutations(Buffer.from(s), ms)) },
  { weight: 3, arbitrary: fc.constantFrom(...SQL_CORPUS).map((s) => Buffer.from(s)) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 40 }).map((u) => Buffer.from(u)) },
  { weight: 1, arbitrary: fc.constantFrom('', ';', 'SELECT 1;'.repeat(1001), `SELECT ${'('.repeat(5000)}1${')'.repeat(5000)}`).map((s) => Buffer.from(s)) },
);
const name = fc.oneof(fc.constantFrom('', 's1', 'p1'), fc.string({ maxLength: 8 }));
const param = fc.oneof(fc.constant(null), fc.uint8Array({ maxLength: 12 }).map((u) => Buffer.from(u)), fc.constantFrom('1', 'pro', 'a\u0000b').map((s) => Buffer.from(s)));

/** One frontend message, well-formed in its framing (the mutations come after). */
const message = fc.oneof(
  { weight: 4, arbitrary: sqlText.map((s) => frame('Q', cstr(s))) },
  { weight: 2, arbitrary: fc.tuple(name, sqlText, fc.array(fc.constantFrom(0, 23, 25, 16, 114, 17, -1, 99999), { maxLength: 3 })).map(([n, s, oids]) => frame('P', Buffer.concat([cstr(n), cstr(s), int16(oids.length), ...oids.map(int32)]))) },
  {
    weight: 2,
    arbitrary: fc.tuple(name, name, fc.array(fc.constantFrom(0, 1, 2), { maxLength: 3 }), fc.array(param, { maxLength: 3 }), fc.array(fc.constantFrom(0, 1, 7), { maxLength: 2 })).map(([portal, stmt, fmts, ps, rfmts]) =>
      frame('B', Buffer.concat([cstr(portal), cstr(stmt), int16(fmts.length), ...fmts.map(int16), int16(ps.length), ...ps.map((p) => (p === null ? int32(-1) : Buffer.concat([int32(p.length), p]))), int16(rfmts.length), ...rfmts.map(int16)])),
    ),
  },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom('S', 'P', 'X'), name).map(([k, n]) => frame('D', Buffer.concat([Buffer.from(k), cstr(n)]))) },
  { weight: 1, arbitrary: fc.tuple(name, fc.constantFrom(0, 1, -1, 2 ** 31 - 1)).map(([n, max]) => frame('E', Buffer.concat([cstr(n), int32(max)]))) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom('S', 'P', 'Z'), name).map(([k, n]) => frame('C', Buffer.concat([Buffer.from(k), cstr(n)]))) },
  { weight: 2, arbitrary: fc.constantFrom(frame('S'), frame('H')) },
  { weight: 1, arbitrary: fc.oneof(fc.uint8Array({ maxLength: 20 }).map((u) => frame('d', Buffer.from(u))), fc.constant(frame('c')), fc.constant(frame('f', cstr('no')))) },
  { weight: 1, arbitrary: fc.constantFrom(frame('F', Buffer.concat([int32(1259), int16(0), int16(0), int16(0)])), frame('p', Buffer.from('password')), frame('X')) },
  { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 0x20, max: 0x7e }), fc.uint8Array({ maxLength: 16 })).map(([t, u]) => frame(String.fromCharCode(t), Buffer.from(u))) },
);

const cases = fc.record({ messages: fc.array(message, { minLength: 1, maxLength: 4 }), mutate: fc.option(textMutations, { freq: 2, nil: undefined }) }).map(({ messages, mutate }) => {
  const plain = Buffer.concat(messages);
  const bytes = mutate ? applyTextMutations(plain, mutate) : plain;
  return { bytes, [fc.toStringMethod]: () => `${bytes.length} bytes: ${JSON.stringify(bytes.subarray(0, 300).toString('latin1'))}` };
});

const PROBE = frame('Q', cstr('SELECT 4242 AS probe'));
const probed = (ms: BackendMessage[]) => ms.some((m) => m.type === 'D' && m.body.includes(Buffer.from('4242'))) && ms.at(-1)?.type === 'Z';

describe('the wire gateway under fuzzed protocol messages and SQL', () => {
  it('answers with SQLSTATEs or closes the session, never crashes, keeps other sessions working, and runs nothing but reads', async () => {
    const seen = new Map<string, number>();
    const count = (k: string) => seen.set(k, (seen.get(k) ?? 0) + 1);
    await fc.assert(
      fc.asyncProperty(cases, async (c) => {
        const s: RawSession = await openRawSession(env.host, env.port, 'deploy-bot', env.ws.tokens.agent, 'shop');
        try {
          // The fuzzed bytes, then a Sync (which ends any extended-protocol error) and a query that must still answer.
          s.write(Buffer.concat([c.bytes, frame('S'), PROBE]));
          let outcome = await s.until(probed, 8000);
          if (outcome === 'timeout') {
            // Waiting for the rest of a message it was promised is the protocol; once the client stops sending, the session must end.
            s.socket.end();
            outcome = await s.until(() => false, 8000);
            expect(outcome, 'the gateway kept a session open after the client stopped sending').toBe('closed');
            outcome = 'timeout';
          }
          count(outcome);
          expect(s.garbage.length, 'bytes that are not a backend message').toBe(0);
          for (const m of s.messages.filter((x) => x.type === 'E')) {
            const f = fieldsOf(m);
            count(f.C ?? '?');
            expect(f.C, JSON.stringify(f)).toMatch(/^[0-9A-Z]{5}$/);
            // XX000 from the gateway itself would be a bug. PostgreSQL answers some malformed
            // messages with its own XX000 (a Parse naming a type OID that does not exist:
            // "cache lookup failed for type"), relayed as a direct connection would get it; those
            // carry PostgreSQL's source location (F, L, R), which the gateway's own errors never do.
            if (f.C === 'XX000') expect(f.F && f.R, `an internal error of the gateway: ${JSON.stringify(f)}`).toBeTruthy();
            expect(['ERROR', 'FATAL'], JSON.stringify(f)).toContain(f.S);
          }
          expect(env.server.child.exitCode, env.server.logs.slice(-20).join('\n')).toBeNull();
          expect((await bystander.query('SELECT plan FROM customers WHERE id = 4')).rows).toEqual([{ plan: 'pro' }]);
          expect(await databaseDigest(env.db), 'the target database changed').toBe(start);
        } finally {
          s.destroy();
        }
      }),
      { numRuns: RUNS, ...SEED },
    );
    // The run reached what it is meant to probe: sessions that still answered, sessions ended, refusals.
    for (const k of ['ok', '42501', '08P01']) expect(seen.get(k) ?? 0, `${k} in ${JSON.stringify([...seen])}`).toBeGreaterThan(0);
  }, 600_000);
});
