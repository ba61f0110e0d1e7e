import { describe, expect, it } from 'vitest';
import { checkDrift, withinTolerance } from './sql-drift.js';
import type { SqlPreview } from './sql-preview.js';

const preview = (rows: Array<number | null>, status: SqlPreview['status'] = 'ok'): SqlPreview => ({
  mode: 'rollback',
  status,
  statements: rows.map((r, index) => ({ index, type: 'update', rows: r })),
  summary: { rows },
  tookMs: 1,
});

describe('drift between the approved preview and execution', () => {
  it('an approval of 3 rows never runs 30,000, and says both figures', () => {
    const v = checkDrift(preview([3]), [30000]);
    expect(v).toMatchObject({ ok: false, kind: 'rows', statement: 0, approved: 3, actual: 30000 });
    if (!v.ok) expect(v.message).toMatch(/3 row.*30000/);
  });

  it('without a tolerance any difference is drift; equal counts pass', () => {
    expect(checkDrift(preview([3, null]), [3, null])).toEqual({ ok: true, compared: true });
    expect(checkDrift(preview([3]), [4]).ok).toBe(false);
    expect(checkDrift(preview([3]), [2]).ok).toBe(false);
  });

  it('a percent tolerance is relative to the approved count, an absolute one counts rows', () => {
    expect(withinTolerance(100, 110, { kind: 'percent', value: 10 })).toBe(true);
    expect(withinTolerance(100, 111, { kind: 'percent', value: 10 })).toBe(false);
    expect(withinTolerance(3, 4, { kind: 'percent', value: 10 })).toBe(false);
    expect(withinTolerance(0, 1, { kind: 'percent', value: 50 })).toBe(false);
    expect(withinTolerance(3, 8, { kind: 'absolute', value: 5 })).toBe(true);
    expect(withinTolerance(3, 9, { kind: 'absolute', value: 5 })).toBe(false);
  });

  it('statements the preview did not count (DDL) are not compared; estimates are never binding figures', () => {
    expect(checkDrift(preview([null, 2]), [7, 2]).ok).toBe(true);
    const p = preview([5]);
    p.statements[0]!.estimated = true;
    expect(checkDrift(p, [500]).ok).toBe(true);
  });

  it('schema and privilege changes must hash as approved by a rollback preview', () => {
    const p = { ...preview([null]), summary: { rows: [null], schemaDiffHash: 'a'.repeat(64) } };
    expect(checkDrift(p, [null], undefined, 'a'.repeat(64))).toEqual({ ok: true, compared: true });
    expect(checkDrift(p, [null], undefined, 'b'.repeat(64))).toMatchObject({ ok: false, kind: 'schema' });
    expect(checkDrift(p, [null], undefined, undefined)).toMatchObject({ ok: false, kind: 'schema', actual: null });
    expect(checkDrift({ ...p, mode: 'select' }, [null], undefined, 'b'.repeat(64))).toEqual({ ok: true, compared: true });
  });

  it('a different number of statements is drift', () => {
    expect(checkDrift(preview([1, 1]), [1])).toMatchObject({ ok: false, kind: 'statements', approved: 2, actual: 1 });
  });

  it('no preview or a skipped one runs uncompared; a failed or timed-out one is refused', () => {
    expect(checkDrift(undefined, [9])).toEqual({ ok: true, compared: false });
    expect(checkDrift(preview([], 'skipped'), [9])).toEqual({ ok: true, compared: false });
    expect(checkDrift(preview([1], 'failed'), [1])).toMatchObject({ ok: false, kind: 'no-preview', status: 'failed' });
    expect(checkDrift(preview([1], 'timeout'), [1])).toMatchObject({ ok: false, kind: 'no-preview', status: 'timeout' });
  });

  it('rows changed per table are bound too, within the same tolerance: a table missing on either side counts as zero', () => {
    const p = { ...preview([1]), summary: { rows: [1], changes: { 'public.t': { inserted: 0, updated: 1, deleted: 2 } } } };
    expect(checkDrift(p, [1], undefined, undefined, { 'public.t': { inserted: 0, updated: 1, deleted: 2 } })).toEqual({ ok: true, compared: true });
    const grown = checkDrift(p, [1], undefined, undefined, { 'public.t': { inserted: 0, updated: 1, deleted: 4 } });
    expect(grown).toMatchObject({ ok: false, kind: 'changes', table: 'public.t', approved: { deleted: 2 }, actual: { deleted: 4 } });
    if (!grown.ok) expect(grown.message).toMatch(/public\.t .*2 row\(s\) deleted .*4/);
    expect(checkDrift(p, [1], { kind: 'absolute', value: 2 }, undefined, { 'public.t': { inserted: 0, updated: 1, deleted: 4 } }).ok).toBe(true);
    const elsewhere = checkDrift(p, [1], undefined, undefined, { 'public.t': { inserted: 0, updated: 1, deleted: 2 }, 'public.audit': { inserted: 1, updated: 0, deleted: 0 } });
    expect(elsewhere).toMatchObject({ ok: false, kind: 'changes', table: 'public.audit' });
    expect(checkDrift(p, [1]).ok).toBe(false);
  });
});
