import { describe, expect, it } from 'vitest';
import { parseYamlSource } from './yaml-source.js';

describe('parseYamlSource', () => {
  it('an alias whose anchor is not set before it is a located issue, not a thrown error, and does not echo the alias', () => {
    const src = parseYamlSource('a: 1\nurl: *s3cretValue\n', 'c.yaml');
    expect(src.value).toBeUndefined();
    expect(src.errors).toEqual([{ file: 'c.yaml', line: 2, column: 6, path: '', message: 'an alias (*name) refers to an anchor (&name) not set before it' }]);
    expect(JSON.stringify(src.errors)).not.toContain('s3cret');
  });

  it('an alias bomb beyond 100 aliases is refused as an issue', () => {
    const lines = ['a: &a [x, x]'];
    for (let i = 0; i < 12; i++) lines.push(`${'b'.repeat(i + 1)}: &${'b'.repeat(i + 1)} [*${i ? 'b'.repeat(i) : 'a'}, *${i ? 'b'.repeat(i) : 'a'}]`);
    const src = parseYamlSource(`${lines.join('\n')}\n`, 'bomb.yaml');
    expect(src.value).toBeUndefined();
    expect(src.errors.map((e) => e.message)).toEqual(['too many aliases (more than 100)']);
  });

  it('anchors set before their aliases still resolve', () => {
    const src = parseYamlSource('a: &x 5\nb: *x\n', 'ok.yaml');
    expect(src.errors).toEqual([]);
    expect(src.value).toEqual({ a: 5, b: 5 });
  });
});
