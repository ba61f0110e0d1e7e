// Shared helpers for benchmarks: percentiles and fragment output.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

/** Times `fn` `n` times one by one (after `warmup` runs); returns sorted nanosecond samples. */
export function sampleNs(fn, n, warmup = Math.min(n, 10_000)) {
  for (let i = 0; i < warmup; i++) fn(i);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    fn(i);
    out[i] = Number(process.hrtime.bigint() - t);
  }
  return out.sort();
}

export function fmtUs(ns) {
  return (ns / 1000).toFixed(ns < 10_000 ? 2 : 1);
}

/** A target's verdict, stated next to the number it is about: `**met**` or `**missed**`. */
export function verdict(ok) {
  return ok ? '**met**' : '**missed**';
}

/** Writes this benchmark's section of docs/benchmarks.md. */
export function writeFragment(name, markdown) {
  const dir = process.env.BENCH_OUT;
  if (!dir) throw new Error('run benchmarks with npm run bench');
  writeFileSync(join(dir, `${name}.md`), `${markdown.trim()}\n`);
}
