// The sql adapters' cost on a real PostgreSQL (a private cluster, test/support/pg-cluster.mjs),
// side by side in one run:
// (1) executing an allowed `SELECT ... WHERE id = $1` through the sql executor, against the
//     same query sent directly with `pg` (the executor's share of the allowed path: parse,
//     one transaction, masking check, bounded read);
// (2) the preview of a 10-row UPDATE, in `rollback` and `select` mode.
import pg from 'pg';
import { createPostgresTargets } from '../dist/adapters/sql/postgres-targets.js';
import { fingerprintOf } from '../dist/domain/action.js';
import { startPgCluster } from '../test/support/pg-cluster.mjs';
import { fmtUs, percentile, verdict, writeFragment } from './bench-util.mjs';

async function sampleAsyncNs(fn, n, warmup = 200) {
  for (let i = 0; i < warmup; i++) await fn(i);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    await fn(i);
    out[i] = Number(process.hrtime.bigint() - t);
  }
  return out.sort();
}

const cluster = await startPgCluster();
try {
  const admin = new pg.Client({ connectionString: cluster.url('postgres') });
  await admin.connect();
  await admin.query('CREATE DATABASE bench');
  await admin.end();
  const url = cluster.url('bench');
  const direct = new pg.Pool({ connectionString: url, max: 1 });
  direct.on('error', () => undefined);
  await direct.query(`CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL, qty int NOT NULL);
    INSERT INTO items SELECT i, 'item ' || i, i % 100 FROM generate_series(1, 100000) i; ANALYZE items`);

  const targets = createPostgresTargets({
    db: { url, poolSize: 1, mask: ['items.secret'], preview: { sampleRows: 5, timeout: '5s' } },
    sel: { url, poolSize: 1, preview: { mode: 'select', sampleRows: 5, timeout: '5s' } },
  });
  const requester = 'agent-1';
  const action = (target, input) => ({
    id: 'a', kind: 'sql', target, input, mode: 'execute', requester: { id: requester, type: 'agent', owner: 'o' },
    fingerprint: fingerprintOf({ kind: 'sql', target, input, requester }), status: 'running',
    decision: { outcome: 'allow', rules: [], policyVersion: 'v', reason: '' }, createdAt: '', updatedAt: '', version: 1,
  });
  const read = { statement: 'SELECT id, name, qty FROM items WHERE id = $1', params: [4242] };
  const readAction = action('db', read);

  const N = 2000;
  const viaExecutor = await sampleAsyncNs(async () => {
    const r = await targets.executor.execute(readAction);
    if (!r.ok) throw new Error(JSON.stringify(r));
  }, N);
  const viaPg = await sampleAsyncNs(() => direct.query(read.statement, read.params), N);

  const update = (i) => ({ statement: 'UPDATE items SET qty = qty + 1 WHERE id BETWEEN $1 AND $1 + 9', params: [1 + (i % 9000) * 10] });
  const M = 200;
  const rollbackPreview = await sampleAsyncNs(async (i) => {
    const p = await targets.previewer.preview({ target: 'db', input: update(i) });
    if (p.status !== 'ok' || p.summary.rows[0] !== 10) throw new Error(JSON.stringify(p));
  }, M, 20);
  const selectPreview = await sampleAsyncNs(async (i) => {
    const p = await targets.previewer.preview({ target: 'sel', input: update(i) });
    if (p.status !== 'ok' || p.summary.rows[0] !== 10) throw new Error(JSON.stringify(p));
  }, M, 20);
  await targets.close();
  await direct.end();

  const added = percentile(viaExecutor, 50) - percentile(viaPg, 50);
  const row = (name, s) => `| ${name} | ${fmtUs(percentile(s, 50))} | ${fmtUs(percentile(s, 99))} |`;
  const md = `## SQL on PostgreSQL (bench/sql-bench.mjs)

PostgreSQL ${cluster.version} in a private cluster on the same machine (fsync off), 100,000-row table.

| path | p50 µs | p99 µs |
|---|---|---|
${row('`SELECT ... WHERE id = $1` through the sql executor', viaExecutor)}
${row('the same query directly with `pg`', viaPg)}
${row('preview of a 10-row UPDATE, `rollback` mode', rollbackPreview)}
${row('preview of a 10-row UPDATE, `select` mode', selectPreview)}

The executor adds ${fmtUs(added)} µs at p50 over a direct query (parse, BEGIN/COMMIT,
statement_timeout, bounded read through a portal): the executor's share of the allowed
path's 1 ms budget: ${verdict(added <= 1_000_000)}. Previews run only when an action needs review.
`;
  writeFragment('sql-bench', md);
  process.stdout.write(md);
} finally {
  await cluster.stop();
}
