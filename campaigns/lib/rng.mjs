// A seeded PRNG (mulberry32): a campaign's run is reproduced from its seed.
export function rng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: (xs) => xs[Math.floor(next() * xs.length)],
    chance: (p) => next() < p,
    hex: (n) => Array.from({ length: n }, () => Math.floor(next() * 16).toString(16)).join(''),
  };
}

/** Weighted choice: `[[weight, value], ...]`. */
export function weighted(r, table) {
  const total = table.reduce((s, [w]) => s + w, 0);
  let x = r.next() * total;
  for (const [w, v] of table) {
    if ((x -= w) < 0) return v;
  }
  return table.at(-1)[1];
}
