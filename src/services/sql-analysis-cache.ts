import { deepFreeze } from '../domain/deep-freeze.js';
import type { SqlAnalysis, SqlFactOptions } from '../domain/sql-facts.js';
import type { SqlInput } from '../domain/action.js';
import { checkSqlParsed } from '../domain/sql-input.js';
import type { SqlParseOutcome } from '../domain/sql-tree.js';

/**
 * checkSqlParsed, remembered per parse outcome (a cached parser returns the same outcome
 * for the same text) and per what else it depends on: the export threshold, the session's
 * search_path and the number of params. A prepared statement's facts are worked out
 * once, not at every Execute. Refusals are not kept (they throw again, as they should).
 */
export function createSqlAnalysisCache(): (input: SqlInput, outcome: SqlParseOutcome, opts: SqlFactOptions) => SqlAnalysis {
  const byOutcome = new WeakMap<SqlParseOutcome, Map<string, SqlAnalysis>>();
  return (input, outcome, opts) => {
    // Only outcomes shared by a cache are worth remembering (and only frozen ones are safe to share).
    if (!Object.isFrozen(outcome)) return checkSqlParsed(input, outcome, opts);
    const key = `${opts.exportRows}\u0000${input.params?.length ?? 0}\u0000${opts.searchPath ? opts.searchPath.join('\u0000') : '\u0001'}`;
    let byKey = byOutcome.get(outcome);
    const hit = byKey?.get(key);
    if (hit) return hit;
    const analysis = deepFreeze(checkSqlParsed(input, outcome, opts));
    if (!byKey) byOutcome.set(outcome, (byKey = new Map<string, SqlAnalysis>()));
    // A few search_paths per statement at most, in practice; bounded all the same.
    if (byKey.size >= 16) byKey.clear();
    byKey.set(key, analysis);
    return analysis;
  };
}
