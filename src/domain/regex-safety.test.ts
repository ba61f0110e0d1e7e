import { describe, expect, it } from 'vitest';
import { regexProblem } from './regex-safety.js';

describe('policy regular expressions', () => {
  it.each(['^/repos/[^/]+/[^/]+/releases$', '^(GET|HEAD)$', '(^|[;&|]\\s*)rm\\s', 'a{2,5}b', '^[a-z]+(-[a-z]+)?$', '[(+*)]+'])('accepts %s', (p) => {
    expect(regexProblem(p)).toBeUndefined();
  });

  it.each(['(a+)+$', '(a*)*', '^(\\w+\\s?)*$', '((ab)*c)+', '(x+){2,}', '(?:a|b+)*'])('refuses the nested repetition in %s', (p) => {
    expect(regexProblem(p)).toMatch(/nested repetition/);
  });

  it('refuses back-references', () => {
    expect(regexProblem('(a)\\1')).toMatch(/back-references/);
    expect(regexProblem('(?<x>a)\\k<x>')).toMatch(/back-references/);
  });

  it('reports a pattern that does not compile', () => {
    expect(regexProblem('([a-z]')).toMatch(/invalid regular expression/);
  });
});
