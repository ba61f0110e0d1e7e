import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, linkSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Witness } from '../../ports/witness.js';

/**
 * A witness that is a folder: each checkpoint is copied there as
 * `<origin>/<size>.checkpoint` (the signed note, verbatim), plus `<origin>/latest`.
 * A copy is never overwritten: a different checkpoint for a size already held is an
 * alarm (the log signed two different trees of the same size), reported as an error.
 * Point it at storage the database's operators cannot rewrite (another host, a
 * write-once bucket, a synced share) for it to mean anything.
 */
export function createDirectoryWitness(dir: string): Witness {
  return {
    name: `dir:${dir}`,
    every: true,
    async push(cp, origin) {
      const folder = join(dir, encodeURIComponent(origin));
      mkdirSync(folder, { recursive: true });
      const file = join(folder, `${String(cp.size).padStart(16, '0')}.checkpoint`);
      writeOnce(file, cp.note);
      writeReplacing(join(folder, 'latest'), cp.note);
      return [];
    },
  };
}

function tempOf(file: string): string {
  return `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
}

function writeSynced(file: string, text: string): void {
  const fd = openSync(file, 'wx', 0o644);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function writeOnce(file: string, text: string): void {
  const tmp = tempOf(file);
  writeSynced(tmp, text);
  try {
    linkSync(tmp, file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    const held = readFileSync(file, 'utf8');
    if (held !== text) throw new Error(`${file} already holds a different checkpoint for this size: the log signed two different trees of the same size`, { cause: e });
  } finally {
    unlinkSync(tmp);
  }
}

function writeReplacing(file: string, text: string): void {
  const tmp = tempOf(file);
  writeSynced(tmp, text);
  renameSync(tmp, file);
}

/** Every checkpoint copy under a witness folder (any origin), for `audit verify --witness`. */
export function readWitnessDirectory(dir: string): Array<{ source: string; note: string }> {
  const out: Array<{ source: string; note: string }> = [];
  const walk = (d: string, depth: number) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory() && depth < 2) walk(p, depth + 1);
      else if (e.isFile() && e.name.endsWith('.checkpoint')) out.push({ source: p, note: readFileSync(p, 'utf8') });
    }
  };
  walk(dir, 0);
  return out;
}
