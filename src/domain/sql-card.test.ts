import { describe, expect, it } from 'vitest';
import { sqlFactLines } from './sql-card.js';
import type { SqlFacts } from './sql-facts.js';

const base: SqlFacts = {
  statements: [{ type: 'do', tables: ['*'], writes: ['*'], where: false, limit: null, functions: [] }],
  types: ['do', 'other', 'create_other', 'alter_other', 'drop_other'],
  tables: ['*'],
  writes: ['*'],
  reads: [],
  readOnly: false,
  ddl: true,
  privilege: true,
  export: true,
  unbounded: true,
  columns: [],
  dynamic: true,
};

describe('the facts lines of an approval card', () => {
  it('tell the reviewer plainly that dynamic SQL was not analysed', () => {
    expect(sqlFactLines(base)[1]).toContain('DYNAMIC SQL');
    expect(sqlFactLines({ ...base, dynamic: false })[1]).not.toContain('DYNAMIC');
  });
});
