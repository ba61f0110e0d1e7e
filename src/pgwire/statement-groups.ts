import type { ParsedStatement } from '../domain/sql-tree.js';
import { nodeOf, str } from '../domain/sql-tree.js';
import type { SearchPath } from '../domain/sql-search-path.js';
import { pathAfterSet } from '../domain/sql-search-path.js';

/** A piece of a Query: transaction control on its own, or a run of other statements (one action). */
export interface StatementGroup {
  control: boolean;
  text: string;
  statements: ParsedStatement[];
}

const PREPARED_TRANSACTION = new Set(['TRANS_STMT_PREPARE', 'TRANS_STMT_COMMIT_PREPARED', 'TRANS_STMT_ROLLBACK_PREPARED']);

export function isTransactionControl(s: ParsedStatement): boolean {
  return nodeOf(s.tree)?.[0] === 'TransactionStmt';
}

/** Two-phase commit outlives the session and its decisions: not served through the gateway. */
export function isPreparedTransaction(s: ParsedStatement): boolean {
  const n = nodeOf(s.tree);
  return n?.[0] === 'TransactionStmt' && PREPARED_TRANSACTION.has(str(n[1].kind) ?? '');
}

/**
 * Splits a Query's statements: BEGIN / COMMIT / ROLLBACK / SAVEPOINT each alone (the
 * gateway forwards them; they decide nothing by themselves), the statements between them
 * together, as one `sql` action, which PostgreSQL runs as one implicit transaction.
 */
export function groupStatements(sql: string, statements: readonly ParsedStatement[]): StatementGroup[] {
  const out: StatementGroup[] = [];
  for (const s of statements) {
    const control = isTransactionControl(s);
    const last = out.at(-1);
    if (last && !control && !last.control) {
      last.statements.push(s);
      last.text = sql.slice(last.statements[0]!.start, s.end);
    } else out.push({ control, text: sql.slice(s.start, s.end), statements: [s] });
  }
  return out;
}

/** The COPY forms that stream through the client (FROM STDIN, TO STDOUT): not served. */
export function streamsCopy(statements: readonly ParsedStatement[]): boolean {
  return statements.some((s) => {
    const n = nodeOf(s.tree);
    return n?.[0] === 'CopyStmt' && !n[1].filename && !n[1].is_program;
  });
}

/** What a session tracks after statements ran: the search_path and the role it acts as. */
export function sessionAfter(statements: readonly ParsedStatement[], before: { searchPath: SearchPath | undefined; role: string | undefined }) {
  let { searchPath, role } = before;
  for (const s of statements) {
    const n = nodeOf(s.tree);
    if (!n) continue;
    const [type, f] = n;
    const next = pathAfterSet(type, f, searchPath ?? ['public']);
    if (next !== (searchPath ?? ['public'])) searchPath = next.length === 1 && next[0] === 'public' ? undefined : next;
    if (type === 'VariableSetStmt') {
      const name = str(f.name)?.toLowerCase();
      const kind = str(f.kind);
      if (name === 'role' || name === 'session_authorization') {
        const args = (f.args as unknown[] | undefined) ?? [];
        const v = str(((args[0] as { A_Const?: { sval?: { sval?: string } } } | undefined)?.A_Const?.sval)?.sval);
        role = kind === 'VAR_SET_VALUE' && v && v.toLowerCase() !== 'none' ? v : undefined;
      }
      if (kind === 'VAR_RESET_ALL') role = undefined;
    }
    if (type === 'DiscardStmt' && str(f.target) === 'DISCARD_ALL') role = undefined;
  }
  return { searchPath, role };
}
