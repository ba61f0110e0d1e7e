// SQL facts per statement (parse + facts, as the submit path runs them), then the parser
// candidates side by side: libpg-query (the PostgreSQL parser compiled to
// WASM; what Countersign uses) and pgsql-parser (a wrapper over libpg-query adding a
// deparser). Measures the module load (WASM compile, fresh process), the parse of a
// one-line SELECT and of a 50-line migration (p50, p99), and the installed size.
// pgsql-parser is not a dependency: point PGSQL_PARSER_DIR at a folder where it is
// installed (`npm install --prefix /tmp/pp pgsql-parser`) to include it.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { fmtUs, percentile, sampleNs, writeFragment } from './bench-util.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

const SHORT = 'SELECT id, email FROM users WHERE id = $1';
const MIGRATION = [
  'BEGIN;',
  'CREATE TABLE billing.invoices (',
  '  id bigserial PRIMARY KEY,',
  '  customer_id bigint NOT NULL REFERENCES billing.customers (id),',
  "  status text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'sent', 'paid')),",
  '  amount_cents bigint NOT NULL,',
  '  created_at timestamptz NOT NULL DEFAULT now()',
  ');',
  'CREATE INDEX invoices_customer_idx ON billing.invoices (customer_id);',
  'CREATE INDEX invoices_status_idx ON billing.invoices (status) WHERE status <> $$paid$$;',
  'ALTER TABLE billing.customers ADD COLUMN vat_id text;',
  'ALTER TABLE billing.customers ALTER COLUMN email SET NOT NULL;',
  'ALTER TABLE billing.customers RENAME COLUMN name TO display_name;',
  '-- backfill',
  'UPDATE billing.customers SET vat_id = upper(vat_id)',
  ' WHERE vat_id IS NOT NULL',
  '   AND country IN (\'DE\', \'FR\', \'IT\');',
  'INSERT INTO billing.invoices (customer_id, status, amount_cents)',
  'SELECT c.id, \'draft\', sum(o.amount_cents)',
  '  FROM billing.customers c',
  '  JOIN billing.orders o ON o.customer_id = c.id',
  ' WHERE o.invoiced = false',
  ' GROUP BY c.id;',
  'WITH done AS (',
  '  UPDATE billing.orders SET invoiced = true WHERE invoiced = false RETURNING id',
  ')',
  'SELECT count(*) FROM done;',
  'CREATE OR REPLACE FUNCTION billing.touch() RETURNS trigger',
  'LANGUAGE plpgsql AS $fn$',
  'BEGIN',
  '  NEW.updated_at := now();',
  '  RETURN NEW;',
  'END',
  '$fn$;',
  'CREATE TRIGGER invoices_touch BEFORE UPDATE ON billing.invoices',
  '  FOR EACH ROW EXECUTE FUNCTION billing.touch();',
  'GRANT SELECT, INSERT ON billing.invoices TO billing_app;',
  'REVOKE ALL ON billing.invoices FROM PUBLIC;',
  'COMMENT ON TABLE billing.invoices IS \'One row per invoice\';',
  'DROP INDEX IF EXISTS billing.old_invoices_idx;',
  'ALTER TABLE billing.orders',
  '  ADD CONSTRAINT orders_amount_positive CHECK (amount_cents > 0);',
  'CREATE VIEW billing.open_invoices AS',
  '  SELECT * FROM billing.invoices WHERE status <> \'paid\';',
  'DELETE FROM billing.drafts WHERE created_at < now() - interval \'90 days\';',
  'ANALYZE billing.invoices;',
  'SET LOCAL statement_timeout = \'30s\';',
  'TRUNCATE billing.staging;',
  'SELECT setval(\'billing.invoices_id_seq\', 1000);',
  'COMMIT;',
].join('\n');

function dirSize(p) {
  const s = statSync(p);
  if (!s.isDirectory()) return s.size;
  return readdirSync(p).reduce((n, f) => n + dirSize(join(p, f)), 0);
}

function packageDir(name, from) {
  const pkg = require.resolve(`${name}/package.json`, { paths: [from] });
  return dirname(pkg);
}

/** Module load in a fresh process: import plus WASM compile. */
function loadMs(entryUrl) {
  const code = `const t=performance.now();const m=await import(${JSON.stringify(entryUrl)});await m.loadModule();m.parseSync('SELECT 1');process.stdout.write(String(performance.now()-t));`;
  const runs = [];
  for (let i = 0; i < 5; i++) runs.push(Number(execFileSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8' })));
  return runs.sort((a, b) => a - b)[2];
}

const candidates = [];
const lpqDir = packageDir('libpg-query', here);
candidates.push({ name: 'libpg-query', dir: lpqDir, deps: [join(dirname(lpqDir), '@pgsql', 'types')], entry: pathToFileURL(require.resolve('libpg-query', { paths: [here] })).href });
const ppRoot = process.env.PGSQL_PARSER_DIR;
if (ppRoot && existsSync(join(ppRoot, 'node_modules', 'pgsql-parser'))) {
  const nm = join(ppRoot, 'node_modules');
  const ppRequire = createRequire(join(nm, 'pgsql-parser', 'package.json'));
  candidates.push({
    name: 'pgsql-parser',
    dir: join(nm, 'pgsql-parser'),
    deps: [join(nm, 'libpg-query'), join(nm, 'pgsql-deparser'), join(nm, '@pgsql')],
    entry: pathToFileURL(ppRequire.resolve('pgsql-parser')).href,
  });
}

const rows = [];
for (const c of candidates) {
  const m = await import(c.entry);
  await m.loadModule();
  const sync = typeof m.parseSync === 'function';
  const short = sampleNs(() => m.parseSync(SHORT), 20_000);
  const long = sampleNs(() => m.parseSync(MIGRATION), 2_000, 200);
  const stmts = m.parseSync(MIGRATION).stmts.length;
  const size = [c.dir, ...c.deps].filter(existsSync).reduce((n, d) => n + dirSize(d), 0);
  rows.push({ name: c.name, load: loadMs(c.entry), short, long, stmts, sync, size });
}

const table = [
  '| parser | load (fresh process, ms) | one-line SELECT p50 / p99 (µs) | 50-line migration p50 / p99 (µs) | sync API | installed size |',
  '| --- | ---: | ---: | ---: | --- | ---: |',
  ...rows.map(
    (r) =>
      `| ${r.name} | ${r.load.toFixed(0)} | ${fmtUs(percentile(r.short, 50))} / ${fmtUs(percentile(r.short, 99))} | ${fmtUs(percentile(r.long, 50))} / ${fmtUs(percentile(r.long, 99))} (${r.stmts} statements) | ${r.sync ? 'yes, after loadModule()' : 'no'} | ${(r.size / 2 ** 20).toFixed(1)} MiB |`,
  ),
].join('\n');

// Facts as the gateway computes them: the port's parse plus the pure walk over the tree.
const { createPgQueryParser } = await import('../dist/adapters/sql/pg-query-parser.js');
const { analyzeSql } = await import('../dist/domain/sql-facts.js');
const parser = await createPgQueryParser();
const facts = (sql) => {
  const r = parser.parse(sql);
  if (!r.ok) throw new Error(r.message);
  return analyzeSql(r.statements, { exportRows: 1000 });
};
const factsShort = sampleNs(() => facts(SHORT), 20_000);
const factsLong = sampleNs(() => facts(MIGRATION), 2_000, 200);
const shortTrees = parser.parse(SHORT);
const walkTrees = parser.parse(MIGRATION);
const walkShort = sampleNs(() => analyzeSql(shortTrees.statements, { exportRows: 1000 }), 20_000);
const walkLong = sampleNs(() => analyzeSql(walkTrees.statements, { exportRows: 1000 }), 5_000, 500);
const nLong = walkTrees.statements.length;
const pair = (s, per = 1) => `${fmtUs(percentile(s, 50) / per)} / ${fmtUs(percentile(s, 99) / per)}`;

const md = `## SQL facts per statement (bench/sql-parse-bench.mjs)

What a \`sql\` submission costs before policy runs: PostgreSQL's parser (libpg-query,
WASM) and the facts walk (src/domain/sql-facts.ts), as the submit path runs them, one
input at a time in one process. No target is set for it; it is part of the submit path
measured end to end in the section above (the decide-mode POST).

| input | parse + facts p50 / p99 (µs) | per statement (input ÷ statements) p50 / p99 (µs) | facts walk alone p50 / p99 (µs) |
| --- | ---: | ---: | ---: |
| one-line SELECT (\`${SHORT}\`) | ${pair(factsShort)} | ${pair(factsShort)} | ${pair(walkShort)} |
| 50-line migration (${nLong} statements: DDL, DML, a function, grants) | ${pair(factsLong)} | ${pair(factsLong, nLong)} | ${pair(walkLong)} |

## SQL parser candidates

The PostgreSQL parser (libpg_query) compiled to WASM, loaded once per process; a parse
is synchronous after that. pgsql-parser wraps the same libpg-query build and adds a
deparser (it is measured only when \`PGSQL_PARSER_DIR\` points at an install of it).

${table}
`;
process.stdout.write(`${md}\n`);
if (process.env.BENCH_OUT) writeFragment('sql-parse-bench', md);
