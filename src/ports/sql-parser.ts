import type { SqlParseOutcome } from '../domain/sql-tree.js';

/** PostgreSQL's own parser: splits an input into statements and gives each its parse tree. Synchronous, pure. */
export interface SqlParser {
  parse(sql: string): SqlParseOutcome;
}
