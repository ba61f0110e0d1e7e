import type { SqlParseOutcome } from '../../domain/sql-tree.js';
import type { SqlParser } from '../../ports/sql-parser.js';
import { deepFreeze } from '../../domain/deep-freeze.js';

/**
 * A parser that remembers its last outcomes by statement text: a prepared statement (or
 * any text sent again, as pgbench and ORMs do) is parsed once, not at every Execute, nor
 * twice per submission (the wire session splits a Query, the input check parses it).
 * Outcomes are frozen, since every caller now shares them. Long texts are not kept: the
 * cache holds at most `entries` x `maxChars` characters of input and their trees.
 */
export function cachedSqlParser(parser: SqlParser, opts: { entries: number; maxChars: number }): SqlParser {
  const kept = new Map<string, SqlParseOutcome>();
  return {
    parse(sql) {
      const hit = kept.get(sql);
      if (hit) {
        // Least recently used goes first: a hit moves to the end.
        kept.delete(sql);
        kept.set(sql, hit);
        return hit;
      }
      const outcome = deepFreeze(parser.parse(sql));
      if (sql.length <= opts.maxChars && opts.entries > 0) {
        if (kept.size >= opts.entries) kept.delete(kept.keys().next().value!);
        kept.set(sql, outcome);
      }
      return outcome;
    },
  };
}
