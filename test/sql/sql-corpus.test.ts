import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { createPgQueryParser } from '../../src/adapters/sql/pg-query-parser.js';
import { analyzeSql } from '../../src/domain/sql-facts.js';
import type { SqlFacts } from '../../src/domain/sql-facts.js';
import type { SqlParser } from '../../src/ports/sql-parser.js';

type Entry = { sql: string; exportRows?: number } & Partial<SqlFacts>;

const corpus = parse(readFileSync(join(import.meta.dirname, 'sql-corpus.yaml'), 'utf8')) as Entry[];

let parser: SqlParser;
beforeAll(async () => {
  parser = await createPgQueryParser();
});

describe('the SQL corpus: every statement gets the facts written next to it', () => {
  it('holds at least 200 statements', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(200);
  });

  it.each(corpus.map((e) => [e.sql.replace(/\s+/g, ' ').trim().slice(0, 100), e] as const))('%s', (_name, entry) => {
    const { sql, exportRows, ...expected } = entry;
    const parsed = parser.parse(sql);
    if (!parsed.ok) throw new Error(`the parser rejects it: ${parsed.message}`);
    const { facts } = analyzeSql(parsed.statements, { exportRows: exportRows ?? 100 });
    const { statements, ...rest } = expected;
    expect(facts).toMatchObject(rest);
    // Lists are compared whole: a missing or extra table is a miss.
    for (const k of Object.keys(rest) as Array<keyof typeof rest>) if (Array.isArray(rest[k])) expect(facts[k], k).toEqual(rest[k]);
    if (statements) expect(facts.statements).toMatchObject(statements);
  });
});
