import type pg from 'pg';

/**
 * How values come back from PostgreSQL, for previews and results stored as JSON:
 * booleans, 16/32-bit integers, floats and JSON as themselves; everything else (int8,
 * numeric, dates, bytea, arrays...) as PostgreSQL's own text, so that nothing is
 * rounded, shifted to a local time zone or turned into a Buffer.
 */
const NUMBER_TYPES = new Set([21, 23, 26, 700, 701]);
export const resultTypes = {
  getTypeParser(oid: number): (text: string) => unknown {
    if (oid === 16) return (v) => v === 't';
    if (oid === 114 || oid === 3802) return (v) => JSON.parse(v) as unknown;
    if (NUMBER_TYPES.has(oid)) return (v) => (/^-?\d+(\.\d+)?(e[+-]?\d+)?$/i.test(v) ? Number(v) : v);
    return (v) => v;
  },
};

export interface ArrayResult {
  fields: Array<{ name: string; tableID: number; columnID: number }>;
  rows: unknown[][];
  rowCount: number | null;
}

/** One query, rows as arrays, values as `resultTypes` gives them. */
export async function queryArrays(client: pg.ClientBase, text: string, values: unknown[] = []): Promise<ArrayResult> {
  const r = await client.query({ text, values, rowMode: 'array', types: resultTypes });
  return {
    fields: r.fields.map((f) => ({ name: f.name, tableID: f.tableID, columnID: f.columnID })),
    rows: r.rows as unknown[][],
    rowCount: r.rowCount,
  };
}
