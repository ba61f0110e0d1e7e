import type { DriftTolerance } from './sql-preview.js';

const PERCENT = /^(\d{1,4}(?:\.\d{1,2})?)%$/;

/**
 * `review.drift.rows` as written in policy: `"10%"` (of the previewed rows) or a
 * whole number of rows. Returns the tolerance or why it is refused.
 */
export function readDriftRows(v: unknown): DriftTolerance | string {
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v) || v < 0) return `drift.rows must be a whole number of rows >= 0 or a percentage such as "10%" (got ${JSON.stringify(v)})`;
    return v === 0 ? { kind: 'exact' } : { kind: 'absolute', value: v };
  }
  const m = typeof v === 'string' ? PERCENT.exec(v.trim()) : null;
  if (!m) return `drift.rows must be a whole number of rows >= 0 or a percentage such as "10%" (got ${JSON.stringify(v)})`;
  const value = Number(m[1]);
  if (value > 1000) return `drift.rows: ${m[1]}% is more than 1000%; a tolerance that large approves any effect`;
  return value === 0 ? { kind: 'exact' } : { kind: 'percent', value };
}

/** How many rows of drift a tolerance allows around a previewed count. */
export function driftAllowance(t: DriftTolerance, previewed: number): number {
  switch (t.kind) {
    case 'exact':
      return 0;
    case 'absolute':
      return t.value;
    case 'percent':
      return Math.floor((Math.abs(previewed) * t.value) / 100);
  }
}

/**
 * The strictest tolerance of the fired review rules: every rule must be satisfied, so
 * the one allowing the least drift wins. A percentage and an absolute number compare
 * on the largest previewed row count; without counts the choice is exact (fail closed).
 * No rule setting one means any difference is drift.
 */
export function strictestDrift(tolerances: ReadonlyArray<DriftTolerance | undefined>, previewedRows: ReadonlyArray<number | null> = []): DriftTolerance {
  const given = tolerances.filter((t): t is DriftTolerance => t !== undefined);
  // A rule without a tolerance asks for the default: any difference is drift.
  if (given.length === 0 || given.length < tolerances.length) return { kind: 'exact' };
  const counts = previewedRows.filter((n): n is number => n !== null);
  const kinds = new Set(given.map((t) => t.kind));
  if (kinds.has('exact')) return { kind: 'exact' };
  if (kinds.size > 1 && counts.length === 0) return { kind: 'exact' };
  const basis = counts.length ? Math.max(...counts.map(Math.abs)) : 0;
  return given.reduce((a, b) => {
    const da = driftAllowance(a, basis);
    const db = driftAllowance(b, basis);
    if (da !== db) return db < da ? b : a;
    // Equal on this count: keep the smaller number of its own kind.
    return a.kind === b.kind && 'value' in a && 'value' in b && b.value < a.value ? b : a;
  });
}
