/**
 * What the audit log keeps of a sql execution's result: the row count per statement,
 * whether the answer was cut, and a drift refusal's figures. Never rows: they may hold
 * data the log's readers must not see.
 */
export function sqlResultSummary(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null) return {};
  const b = body as { statements?: unknown; truncated?: unknown; drift?: unknown };
  const out: Record<string, unknown> = {};
  if (Array.isArray(b.statements)) {
    out.rows = b.statements.map((s) => {
      const n = (s as { rowCount?: unknown } | null)?.rowCount;
      return typeof n === 'number' ? n : null;
    });
  }
  if (b.truncated === true) out.truncated = true;
  if (b.drift !== undefined) out.drift = b.drift;
  return out;
}
