const UNITS: Record<string, number> = { B: 1, KB: 1000, MB: 1000 ** 2, GB: 1000 ** 3, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 };
const SIZE = /^(\d+)\s*(B|KB|MB|GB|KiB|MiB|GiB)$/;

/** Sizes such as `1MiB`, `512KiB`, `10MB` (or a plain number of bytes) in bytes; undefined when malformed. */
export function parseByteSize(v: string | number): number | undefined {
  if (typeof v === 'number') return Number.isSafeInteger(v) && v > 0 ? v : undefined;
  const m = SIZE.exec(v.trim());
  if (!m) return undefined;
  const n = Number(m[1]) * UNITS[m[2]!]!;
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}
