import { closeSync, openSync, readSync } from 'node:fs';
import Database from 'better-sqlite3';
import type { EntryChunk } from '../../domain/audit-integrity.js';
import type { SqliteDb } from '../store/sqlite/sqlite-db.js';

/**
 * Where `audit verify` reads entries from, as structured-cloneable data (the
 * verifier's worker opens its own): a database, read-only, or a bundle's
 * entries.jsonl (one entry's canonical bytes per line, from sequence number `first`).
 */
export type SourceSpec = { kind: 'db'; path: string } | { kind: 'bundle'; file: string; first: number };

export const CHUNK = 4096;

/** Opens a database for reading only: verification and export never write to it. */
export function openReadOnly(path: string): SqliteDb {
  const db: SqliteDb = new Database(path, { readonly: true, fileMustExist: true });
  db.pragma('query_only = ON');
  return db;
}

/**
 * Chunks of the entries [from, to) of a database, in sequence order: one query per
 * 4096 entries returns them back to back with their stored leaf hashes (reading rows
 * one by one costs twice as much as hashing them), each entry after its 0x00 prefix
 * (the query writes the first one too: copying 1.5 MB per chunk to add it cost more).
 */
export function* dbChunks(db: SqliteDb, from: number, to: number): Generator<EntryChunk> {
  const q = db
    .prepare(
      "SELECT count(*), CAST(x'00' || group_concat(b, x'00') AS BLOB), CAST(group_concat(l, '') AS BLOB) FROM (SELECT seq, bytes AS b, leaf_hash AS l FROM audit_entries WHERE seq >= ? AND seq < ? ORDER BY seq)",
    )
    .raw();
  const seqs = db.prepare('SELECT seq FROM audit_entries WHERE seq >= ? AND seq < ? ORDER BY seq').pluck();
  for (let s = from; s < to; s += CHUNK) {
    const e = Math.min(to, s + CHUNK);
    const [count, blob, stored] = q.get(s, e) as [number, Buffer | null, Buffer | null];
    if (!count || !blob) {
      yield { first: s, blob: Buffer.alloc(0), seqs: [] };
      continue;
    }
    const chunk: EntryChunk = { first: s, blob, ...(stored ? { stored } : {}) };
    // A primary key is unique: the full count means every sequence number is there.
    if (count !== e - s) chunk.seqs = seqs.all(s, e) as number[];
    yield chunk;
  }
}

/** The number of entries of a database (one past the highest sequence number). */
export function dbSize(db: SqliteDb): number {
  return (db.prepare('SELECT COALESCE(MAX(seq) + 1, 0) AS n FROM audit_entries').get() as { n: number }).n;
}

/**
 * Chunks of a bundle's entries.jsonl: each line's newline becomes the next entry's 0x00
 * prefix, so the bytes hash in place.
 */
export function* fileChunks(file: string, first: number): Generator<EntryChunk> {
  const fd = openSync(file, 'r');
  try {
    const size = 8 * 1024 * 1024;
    let carry = Buffer.alloc(0);
    let seq = first;
    for (;;) {
      const buf = Buffer.allocUnsafe(size);
      const n = readSync(fd, buf, 0, size, null);
      const data = carry.length ? Buffer.concat([carry, buf.subarray(0, n)]) : buf.subarray(0, n);
      const last = n === 0 ? data.length : data.lastIndexOf(0x0a) + 1;
      if (last > 0) {
        const lines = data.subarray(0, last);
        const body = lines[lines.length - 1] === 0x0a ? lines.subarray(0, lines.length - 1) : lines;
        const blob = Buffer.allocUnsafe(body.length + 1);
        blob[0] = 0;
        body.copy(blob, 1);
        let count = 1;
        for (let i = blob.indexOf(0x0a, 1); i >= 0; i = blob.indexOf(0x0a, i + 1)) {
          blob[i] = 0;
          count++;
        }
        yield { first: seq, blob };
        seq += count;
      }
      carry = Buffer.from(data.subarray(last));
      if (n === 0) break;
    }
  } finally {
    closeSync(fd);
  }
}

export function* chunksOf(spec: SourceSpec, from: number, to: number): Generator<EntryChunk> {
  if (spec.kind === 'bundle') {
    yield* fileChunks(spec.file, spec.first);
    return;
  }
  const db = openReadOnly(spec.path);
  try {
    yield* dbChunks(db, from, to);
  } finally {
    db.close();
  }
}
