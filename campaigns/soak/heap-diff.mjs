#!/usr/bin/env node
// What grew between two heap snapshots, per constructor: count and self size, divided
// by the number of waiters added (`npm run campaign:soak -- --waiters N --heap-snapshot`
// writes one before the waiters open and one while they all wait).
//
//   node campaigns/soak/heap-diff.mjs BEFORE.heapsnapshot AFTER.heapsnapshot [--per N] [--top 40]
import { readFileSync } from 'node:fs';
import { parseArgs } from '../lib/args.mjs';

const [before, after, ...rest] = process.argv.slice(2);
if (!before || !after) {
  process.stderr.write('usage: heap-diff.mjs BEFORE.heapsnapshot AFTER.heapsnapshot [--per N] [--top 40]\n');
  process.exit(2);
}
const args = parseArgs(rest, { per: 1, top: 40 });

/** Count and self size per "type: name" (objects by constructor, closures by function name, strings and arrays by type). */
function census(file) {
  const snap = JSON.parse(readFileSync(file, 'utf8'));
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const width = fields.length;
  const iType = fields.indexOf('type');
  const iName = fields.indexOf('name');
  const iSize = fields.indexOf('self_size');
  const out = new Map();
  let total = 0;
  const nodes = snap.nodes;
  for (let i = 0; i < nodes.length; i += width) {
    const type = types[nodes[i + iType]];
    const size = nodes[i + iSize];
    total += size;
    // Strings, numbers and code are counted by type; their "name" is their content.
    const name = type === 'object' || type === 'closure' || type === 'native' ? snap.strings[nodes[i + iName]] : '';
    const key = `${type}${name ? `: ${name}` : ''}`;
    const c = out.get(key) ?? { count: 0, size: 0 };
    c.count++;
    c.size += size;
    out.set(key, c);
  }
  return { byKey: out, total };
}

const a = census(before);
const b = census(after);
const rows = [];
for (const [key, cb] of b.byKey) {
  const ca = a.byKey.get(key) ?? { count: 0, size: 0 };
  rows.push({ key, count: (cb.count - ca.count) / args.per, size: (cb.size - ca.size) / args.per });
}
rows.sort((x, y) => y.size - x.size);
const fmt = (x) => (Math.abs(x) >= 100 ? x.toFixed(0) : x.toFixed(2));
process.stdout.write(`heap ${(a.total / 2 ** 20).toFixed(1)} MB -> ${(b.total / 2 ** 20).toFixed(1)} MB; per ${args.per}: ${fmt((b.total - a.total) / args.per)} bytes\n`);
process.stdout.write(`${'bytes'.padStart(9)} ${'count'.padStart(8)}  type: constructor\n`);
for (const r of rows.slice(0, args.top)) process.stdout.write(`${fmt(r.size).padStart(9)} ${fmt(r.count).padStart(8)}  ${r.key}\n`);
