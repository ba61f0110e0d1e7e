import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { verifyConsistency, verifyInclusion } from '../../src/domain/merkle.js';

// The transparency-dev/merkle vectors (test/vectors/rfc9162/README.md).
const VECTORS = fileURLToPath(new URL('./rfc9162/', import.meta.url));

function cases<T>(kind: string): Array<{ name: string; c: T & { desc: string; wantErr: boolean } }> {
  const out: Array<{ name: string; c: T & { desc: string; wantErr: boolean } }> = [];
  const walk = (rel: string): void => {
    for (const e of readdirSync(join(VECTORS, rel), { withFileTypes: true })) {
      const next = `${rel}/${e.name}`;
      if (e.isDirectory()) walk(next);
      else if (e.name.endsWith('.json')) out.push({ name: next, c: JSON.parse(readFileSync(join(VECTORS, next), 'utf8')) as T & { desc: string; wantErr: boolean } });
    }
  };
  walk(kind);
  return out;
}

const b64 = (s: string | null) => Buffer.from(s ?? '', 'base64');
const proofOf = (p: string[] | null) => (p ?? []).map(b64);

interface InclusionCase {
  leafIdx: number;
  treeSize: number;
  root: string;
  leafHash: string;
  proof: string[] | null;
}
interface ConsistencyCase {
  size1: number;
  size2: number;
  root1: string;
  root2: string;
  proof: string[] | null;
}

describe('RFC 9162 proofs: the transparency-dev vectors', () => {
  const inc = cases<InclusionCase>('inclusion');
  const con = cases<ConsistencyCase>('consistency');

  it('has the vectors', () => {
    expect(inc.length).toBeGreaterThan(50);
    expect(con.length).toBeGreaterThan(50);
    expect(inc.some(({ c }) => !c.wantErr)).toBe(true);
    expect(con.some(({ c }) => c.wantErr)).toBe(true);
  });

  it.each(inc)('inclusion $name', ({ c }) => {
    expect(verifyInclusion(c.leafIdx, c.treeSize, b64(c.leafHash), proofOf(c.proof), b64(c.root))).toBe(!c.wantErr);
  });

  it.each(con)('consistency $name', ({ c }) => {
    expect(verifyConsistency(c.size1, c.size2, b64(c.root1), b64(c.root2), proofOf(c.proof))).toBe(!c.wantErr);
  });
});

