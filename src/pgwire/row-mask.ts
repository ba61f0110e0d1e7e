import { MASKED } from '../domain/sql-mask.js';
import { BodyReader } from './wire-reader.js';

/** A result column as a RowDescription describes it. */
export interface WireField {
  name: string;
  tableID: number;
  columnID: number;
  /** The column's type oid. */
  typeID: number;
  format: number;
}

/** The fields of a RowDescription ('T') body. */
export function decodeRowDescription(body: Buffer): WireField[] {
  const r = new BodyReader(body);
  const n = r.int16();
  const out: WireField[] = [];
  for (let i = 0; i < n; i++) {
    const name = r.cstring();
    const tableID = r.int32() >>> 0;
    const columnID = r.int16();
    const typeID = r.int32() >>> 0;
    r.int16(); // type length
    r.int32(); // type modifier
    const format = r.int16();
    out.push({ name, tableID, columnID, typeID, format });
  }
  return out;
}

const MASKED_TEXT = Buffer.from(MASKED, 'utf8');

/**
 * A DataRow ('D') message with the masked columns replaced: `[masked]` in a text-format
 * column (what the sql kind shows), NULL in a binary one, whose type's encoding a
 * placeholder would break.
 */
export function maskDataRow(body: Buffer, masked: readonly boolean[], fields: readonly WireField[]): Buffer {
  const r = new BodyReader(body);
  const n = r.int16();
  const parts: Array<Buffer | null> = [];
  let size = 2;
  for (let i = 0; i < n; i++) {
    const len = r.int32();
    const value = len < 0 ? null : r.bytes(len);
    const out = masked[i] && value !== null ? (fields[i]?.format === 1 ? null : MASKED_TEXT) : value;
    parts.push(out);
    size += 4 + (out?.length ?? 0);
  }
  const msg = Buffer.allocUnsafe(5 + size);
  msg[0] = 0x44;
  msg.writeInt32BE(4 + size, 1);
  msg.writeInt16BE(n, 5);
  let at = 7;
  for (const p of parts) {
    msg.writeInt32BE(p === null ? -1 : p.length, at);
    at += 4;
    if (p) at += p.copy(msg, at);
  }
  return msg;
}
