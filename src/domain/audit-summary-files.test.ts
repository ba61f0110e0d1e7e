import { describe, expect, it } from 'vitest';
import { BundleSummary, firstDifference } from './audit-summary-files.js';

const entry = (seq: number, type: string, data: Record<string, unknown>, actionId?: string) =>
  JSON.stringify({ ...(actionId ? { actionId } : {}), data, seq, ts: new Date(Date.UTC(2030, 0, 1, 0, 0, seq)).toISOString(), type });
const frame = { origin: 'example.com/log', root: 'cm9vdA==', checkpoint: { size: 9, root: 'Y3A=' } };

function build(deny: boolean) {
  const s = new BundleSummary(1, 3);
  s.add(0, entry(0, 'policy.loaded', { version: 'p1', trigger: 'startup' }), false);
  s.add(1, entry(1, 'action.submitted', { kind: 'http', requester: { id: 'bot' } }, 'a1'), true);
  s.add(2, entry(2, 'action.decided', { outcome: deny ? 'deny' : 'allow', rules: ['r'], policyVersion: 'p1' }, 'a1'), true);
  return s.files(frame).files;
}

describe('the bundle summary files', () => {
  it('the same entries give the same bytes, and the frame (origin, root, checkpoint) is in them', () => {
    const a = build(true);
    expect(build(true)).toEqual(a);
    const json = JSON.parse(a.json) as { governance: { violations: unknown } };
    expect(json).toMatchObject({ origin: frame.origin, root: frame.root, checkpoint: frame.checkpoint, decisions: { byOutcome: { deny: 1 } } });
    expect(typeof json.governance.violations).toBe('number');
    expect(a.markdown).toContain('# Audit summary: example.com/log');
  });

  it('a different entry gives a difference, named by its first line', () => {
    const a = build(true);
    const b = build(false);
    const d = firstDifference(a.markdown, b.markdown);
    expect(d).toMatchObject({ expected: '| allow | 0 |', found: '| allow | 1 |' });
    expect(a.markdown.split('\n')[d!.line - 1]).toBe(d!.expected);
    expect(firstDifference(a.json, a.json)).toBeUndefined();
  });

  it('a file cut short names the end of the file', () => {
    expect(firstDifference('a\nb\n', 'a\n')).toEqual({ line: 2, expected: 'b', found: '' });
    expect(firstDifference('a\n', 'a\nb\n')).toEqual({ line: 2, expected: '', found: 'b' });
    expect(firstDifference('a', 'a\nb')).toEqual({ line: 2, expected: '(end of file)', found: 'b' });
  });
});
