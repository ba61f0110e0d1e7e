// What reading an http body for policy costs (src/domain/http-body-read.ts): the strict
// JSON parse of string bodies, the form decode, the check of object bodies, against
// JSON.parse. Each body is read once per submission (memoised per input object), so
// this is added once to the submit path, not per rule.
import { readHttpBody } from '../dist/domain/http-body-read.js';
import { fmtUs, percentile, sampleNs, verdict, writeFragment } from './bench-util.mjs';

const item = (i) => ({ id: i, name: `item-${i}`, price: i * 1.25, tags: ['a', 'b'], nested: { ok: true, n: null } });
const small = { role: 'viewer', name: 'Ada', teams: ['eng', 'ops'], quota: 12.5 };
const large = { items: Array.from({ length: 1000 }, (_, i) => item(i)) };
const form = Array.from({ length: 20 }, (_, i) => `field${i}=value%20${i}`).join('&');

const JSON_CT = { 'content-type': 'application/json' };
const cases = [
  ['JSON string, small', JSON.stringify(small), JSON_CT, () => JSON.parse(JSON.stringify(small))],
  ['JSON string, 90 KB', JSON.stringify(large), JSON_CT, undefined],
  ['JSON value (object body), small', small, {}, undefined],
  ['JSON value (object body), 90 KB', large, {}, undefined],
  ['form, 20 fields', form, { 'content-type': 'application/x-www-form-urlencoded' }, undefined],
  ['text', 'hello, this is plain text and not JSON at all', { 'content-type': 'text/plain' }, undefined],
];

const TARGET_SMALL_US = 50;
const rows = [];
for (const [name, body, headers] of cases) {
  const size = typeof body === 'string' ? body.length : JSON.stringify(body).length;
  const big = size > 10_000;
  // A fresh input object per read: the memo never hits, as for a new submission.
  const read = () => {
    const r = readHttpBody({ method: 'POST', path: '/x', headers, body });
    if (!r.ok) throw new Error(`${name}: ${r.problem.message}`);
  };
  const s = sampleNs(read, big ? 300 : 20_000, big ? 30 : 2_000);
  const baseline = typeof body === 'string' && body.startsWith('{') ? percentile(sampleNs(() => JSON.parse(body), big ? 300 : 20_000, big ? 30 : 2_000), 50) : undefined;
  rows.push({ name, size, p50: percentile(s, 50), p99: percentile(s, 99), baseline });
  process.stdout.write(`${name}: ${size} B, p50 ${fmtUs(percentile(s, 50))} µs\n`);
}
const memoInput = { method: 'POST', path: '/x', headers: JSON_CT, body: JSON.stringify(large) };
readHttpBody(memoInput);
const memo = percentile(sampleNs(() => readHttpBody(memoInput), 50_000, 5_000), 50);

const smallJson = rows[0];
writeFragment(
  'body-read-bench',
  `## Reading http bodies for policy

\`node bench/body-read-bench.mjs\`. Each body is read once per submission, with a new
input object every time (no memo); the policy facts then reuse that reading
(${fmtUs(memo)} µs for a second read of the same input).

| body | size | p50 µs | p99 µs | JSON.parse p50 µs |
|---|---|---|---|---|
${rows.map((r) => `| ${r.name} | ${r.size} B | ${fmtUs(r.p50)} | ${fmtUs(r.p99)} | ${r.baseline === undefined ? '' : fmtUs(r.baseline)} |`).join('\n')}

Target: a small JSON string body reads in under ${TARGET_SMALL_US} µs at p50 — ${verdict(smallJson.p50 < TARGET_SMALL_US * 1000)}
(${fmtUs(smallJson.p50)} µs). A JSON string is parsed by JSON.parse, then scanned once for
duplicate keys and numbers that could be imprecise, and its keys are checked for case
duplicates and lone surrogates; lossless-json reads only a body with a duplicate key, to
name it. That is a few times JSON.parse, once per submission.
`,
);
