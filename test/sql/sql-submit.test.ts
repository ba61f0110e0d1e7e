import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createPgQueryParser } from '../../src/adapters/sql/pg-query-parser.js';
import { createTimeOrderedIds } from '../../src/adapters/ids/time-ordered-ids.js';
import { createSqliteStore } from '../../src/adapters/store/sqlite/sqlite-store.js';
import type { SqliteStore } from '../../src/adapters/store/sqlite/sqlite-store.js';
import type { Principal } from '../../src/domain/identity.js';
import type { SqlPreview } from '../../src/domain/sql-preview.js';
import { buildTargetCatalog } from '../../src/domain/target-catalog.js';
import { systemClock } from '../../src/ports/clock.js';
import type { SqlParser } from '../../src/ports/sql-parser.js';
import type { SqlPreviewer } from '../../src/ports/sql-previewer.js';
import { createInputCheck } from '../../src/services/input-checks.js';
import { createKindChecks } from '../../src/services/kind-checks.js';
import { createPolicyService } from '../../src/services/policy-service.js';
import { createSubmitService } from '../../src/services/submit-service.js';

const POLICY = `default: { outcome: deny }
rules:
  - id: reads
    match: { kind: sql }
    when: sql.readOnly
    outcome: allow
  - id: writes
    match: { kind: sql }
    when: "!sql.readOnly"
    outcome: review
    review: { approvers: [group:dba], quorum: 1, timeout: 1h, drift: { rows: "10%" } }
  - id: big-writes
    match: { kind: sql }
    when: sql.unbounded
    outcome: review
    review: { approvers: [group:dba], quorum: 1, timeout: 1h, drift: { rows: 2 } }
`;

const agent: Principal = { type: 'agent', id: 'sql-bot', owner: 'alice@example.com', labels: {} };

/** A previewer for unit tests only: the real one runs against PostgreSQL (adapters/sql). */
function testPreviewer(answer: (input: Record<string, unknown>) => Promise<SqlPreview>): SqlPreviewer & { calls: number } {
  const p = {
    calls: 0,
    preview(a: { target: string; input: Record<string, unknown> }) {
      p.calls++;
      return answer(a.input);
    },
  };
  return p;
}

const ok = (rows: number[]): SqlPreview => ({
  mode: 'rollback',
  status: 'ok',
  statements: rows.map((n, index) => ({ index, type: 'update', rows: n })),
  summary: { rows },
  tookMs: 3,
});

let parser: SqlParser;
let store: SqliteStore | undefined;
beforeAll(async () => {
  parser = await createPgQueryParser();
});
afterEach(async () => {
  await store?.close();
  store = undefined;
});

async function service(previewer: SqlPreviewer, previewDeadlineMs?: number, maskParams = false) {
  store = createSqliteStore({ path: ':memory:' });
  const policy = createPolicyService({ store, clock: systemClock, groupExists: () => true });
  await policy.load(POLICY, 'policy.yaml', 'test');
  const targets = buildTargetCatalog([{ name: 'billing-db', kind: 'postgres', exportRows: 100, maskParams, facts: { name: 'billing-db', kind: 'postgres', labels: {} } }]);
  return createSubmitService({
    store,
    policy,
    targets,
    checkInput: createInputCheck(createKindChecks({ sqlParser: parser }), new Set(['sql'])),
    clock: systemClock,
    ids: createTimeOrderedIds(),
    notifier: { notify: () => undefined },
    dispatch: () => undefined,
    previewers: { sql: previewer },
    ...(previewDeadlineMs !== undefined ? { previewDeadlineMs } : {}),
  });
}

describe('submitting a sql action', () => {
  it('previews an action held for review and stores the preview and drift tolerance with it', async () => {
    const previewer = testPreviewer(() => Promise.resolve(ok([3])));
    const submit = await service(previewer);
    const { action } = await submit.submit(agent, { kind: 'sql', target: 'billing-db', input: { statement: 'UPDATE invoices SET paid = true WHERE id = $1', params: [7] } });
    expect(action.status).toBe('pending');
    expect(previewer.calls).toBe(1);
    const stored = await store!.getAction(action.id);
    expect(stored?.preview).toEqual(ok([3]));
    expect(stored?.drift).toEqual({ kind: 'percent', value: 10 });
  });

  it('records the preview summary, not its rows, in the audit log', async () => {
    const submit = await service(testPreviewer(() => Promise.resolve({ ...ok([3]), statements: [{ index: 0, type: 'update', rows: 3, columns: ['email'], before: [['secret@example.com']] }] })));
    await submit.submit(agent, { kind: 'sql', target: 'billing-db', input: { statement: 'UPDATE users SET active = false WHERE id = 1' } });
    const entries = await store!.readAudit(0, await store!.auditSize());
    const decided = entries.find((e) => e.type === 'action.decided');
    expect(decided?.data).toMatchObject({ preview: { mode: 'rollback', status: 'ok', summary: { rows: [3] } }, drift: { kind: 'percent', value: 10 } });
    expect(JSON.stringify(entries)).not.toContain('secret@example.com');
  });

  it('masks every param in the audit log when the target says maskParams, keeping them for execution', async () => {
    const submit = await service(testPreviewer(() => Promise.resolve(ok([1]))), undefined, true);
    const { action } = await submit.submit(agent, { kind: 'sql', target: 'billing-db', input: { statement: 'UPDATE users SET ssn = $1 WHERE id = $2', params: ['123-45-6789', 7] } });
    const entries = await store!.readAudit(0, await store!.auditSize());
    expect(entries.find((e) => e.type === 'action.submitted')?.data.input).toEqual({ statement: 'UPDATE users SET ssn = $1 WHERE id = $2', params: ['[MASKED]', '[MASKED]'] });
    expect(JSON.stringify(entries)).not.toContain('123-45-6789');
    expect((await store!.getAction(action.id))?.input.params).toEqual(['123-45-6789', 7]);
  });

  it('keeps the strictest drift tolerance of the fired rules', async () => {
    // 10% of 100 rows is 10; 2 rows is stricter.
    const submit = await service(testPreviewer(() => Promise.resolve(ok([100]))));
    const { action } = await submit.submit(agent, { kind: 'sql', target: 'billing-db', input: { statement: 'DELETE FROM sessions' } });
    expect(action.decision.rules).toEqual(['writes', 'big-writes']);
    expect(action.drift).toEqual({ kind: 'absolute', value: 2 });
  });

  it('does not preview what policy allows or denies', async () => {
    const previewer = testPreviewer(() => Promise.resolve(ok([1])));
    const submit = await service(previewer);
    const { action } = await submit.submit(agent, { kind: 'sql', target: 'billing-db', input: { statement: 'SELECT 1' } });
    expect(action.status).toBe('approved');
    expect(action.preview).toBeUndefined();
    expect(previewer.calls).toBe(0);
  });

  it('asks reviewers anyway when the previewer throws, saying the preview failed without its message', async () => {
    const submit = await service(testPreviewer(() => Promise.reject(new Error('connect ECONNREFUSED postgres://app:hunter2-secret@db'))));
    const { action } = await submit.submit(agent, { kind: 'sql', target: 'billing-db', input: { statement: 'UPDATE t SET a = 1 WHERE id = 2' } });
    expect(action.status).toBe('pending');
    expect(action.preview).toMatchObject({ status: 'failed', reason: 'the preview failed', summary: { rows: [] } });
    expect(JSON.stringify(action)).not.toContain('hunter2');
  });

  it('asks reviewers anyway when the previewer hangs past the deadline, saying it timed out', async () => {
    const submit = await service(testPreviewer(() => new Promise<SqlPreview>(() => undefined)), 50);
    const { action } = await submit.submit(agent, { kind: 'sql', target: 'billing-db', input: { statement: 'UPDATE t SET a = 1 WHERE id = 2' } });
    expect(action.status).toBe('pending');
    expect(action.preview).toMatchObject({ status: 'timeout' });
  });

  it('runs nothing and stores nothing for a statement the parser rejects', async () => {
    const previewer = testPreviewer(() => Promise.resolve(ok([1])));
    const submit = await service(previewer);
    const before = await store!.auditSize();
    await expect(submit.submit(agent, { kind: 'sql', target: 'billing-db', input: { statement: 'UPDAT t SET a = 1' } })).rejects.toMatchObject({ code: 'SQL_PARSE_ERROR' });
    expect(previewer.calls).toBe(0);
    expect(await store!.auditSize()).toBe(before);
    expect(await store!.listActions({ limit: 10 })).toEqual([]);
  });
});
