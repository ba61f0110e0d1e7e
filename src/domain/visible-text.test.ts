import { describe, expect, it } from 'vitest';
import { hasUnsafeLineChars, safeBlock, safeLine } from './visible-text.js';

describe('text shown to reviewers, in a terminal or in chat', () => {
  it('makes escape sequences, C1 controls and bidi overrides visible instead of interpreting them', () => {
    const attack = 'ok\x1b[2A\x1b[2K  will run:    GET /harmless\u202e\u0085';
    expect(safeLine(attack)).toBe('ok\\u001b[2A\\u001b[2K  will run:    GET /harmless\\u202e\\u0085');
    for (const c of ['\x1b', '\u202e', '\u0085']) expect(safeLine(attack)).not.toContain(c);
  });

  it('keeps newlines in blocks but not in lines', () => {
    expect(safeBlock('a\nb\rc')).toBe('a\nb\\u000dc');
    expect(safeLine('a\nb')).toBe('a\\u000ab');
    expect(safeBlock('a\u2028b\u2066')).toBe('a\\u2028b\\u2066');
    expect(hasUnsafeLineChars('/srv/app')).toBe(false);
    for (const c of ['\n', '\u0085', '\u202e', '\u2029']) expect(hasUnsafeLineChars(`/srv${c}`)).toBe(true);
  });
});
