import { AppError } from './errors.js';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION = /^(\d+)(ms|s|m|h|d)$/;

/** Parses durations such as `45s`, `15m`, `2h`, `1d`, `500ms` into milliseconds. */
export function parseDuration(text: string): number {
  const m = DURATION.exec(text.trim());
  if (!m) throw new AppError('VALIDATION_FAILED', `invalid duration "${text}": use a number followed by ms, s, m, h or d (e.g. 45s, 15m, 2h)`);
  const ms = Number(m[1]) * (UNITS[m[2] as string] as number);
  if (!Number.isSafeInteger(ms) || ms <= 0) throw new AppError('VALIDATION_FAILED', `invalid duration "${text}": must be positive`);
  return ms;
}

export function isDuration(text: string): boolean {
  return DURATION.test(text.trim()) && !/^0+(ms|s|m|h|d)$/.test(text.trim());
}

export function formatDuration(ms: number): string {
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
