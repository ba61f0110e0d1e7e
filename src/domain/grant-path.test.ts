import { describe, expect, it } from 'vitest';
import { narrowestPattern, parsePathPattern, pathMatches, pathPatternProblem, patternWithin, formatPathPattern } from './grant-path.js';
import { PolicyError, compilePolicy } from './policy-compile.js';

const p = parsePathPattern;

describe('path patterns in grants', () => {
  it('accepts literal segments and whole-segment wildcards', () => {
    for (const ok of ['/', '/v1/customers/*/export', '/*', '/a-b_c.d~e/%41/x:y@z', '/v1/$batch']) expect(pathPatternProblem(ok)).toBeUndefined();
  });

  it.each([
    ['', 'non-empty'],
    ['v1/x', 'must start with /'],
    ['/v1//x', 'empty segment'],
    ['/v1/x/', 'trailing /'],
    ['/v1/cust*/export', 'whole segment'],
    ['/v1/**/export', 'whole segment'],
    ['/v1/../admin', '".."'],
    ['/v1/./x', '"."'],
    ['/v1/%2e%2E/x', '".."'],
    ['/v1/a%2Fb', 'encoded /'],
    ['/v1/a%5cb', 'encoded /'],
    ['/v1/a%00', 'encoded /'],
    ['/v1/%zz', 'RFC 3986'],
    ['/v1/(.*)', 'whole segment'],
    ['/v1/[a-z]+', 'RFC 3986'],
    ['/v1/a?b', 'RFC 3986'],
    ['/v1/a#b', 'RFC 3986'],
    ['/v1/a b', 'RFC 3986'],
    ['/v1/a\\b', 'RFC 3986'],
    [`/${'a/'.repeat(64)}a`, 'at most 64 segments'],
    [`/${'a'.repeat(2048)}`, 'at most 2048 characters'],
  ])('refuses %j (%s)', (text, why) => {
    expect(pathPatternProblem(text)).toContain(why);
  });

  it('* stands for exactly one safe, non-empty segment; literals match exactly', () => {
    const pat = p('/v1/customers/*/export');
    expect(pathMatches(pat, '/v1/customers/c_42/export')).toBe(true);
    expect(pathMatches(pat, '/v1/customers/c%2042/export')).toBe(true);
    for (const no of ['/v1/customers/export', '/v1/customers/a/b/export', '/v1/customers//export', '/v1/customers/../export', '/v1/customers/%2E%2e/export', '/v1/customers/a%2fb/export', '/v1/Customers/c/export', '/v1/customers/c/export/x', 'v1/customers/c/export', undefined]) {
      expect(pathMatches(pat, no), String(no)).toBe(false);
    }
    expect(pathMatches(p('/'), '/')).toBe(true);
    expect(pathMatches(p('/'), '/x')).toBe(false);
  });

  it('a pattern is within another when each of its segments is the same or the other has * there', () => {
    expect(patternWithin(p('/v1/customers/*/export'), p('/v1/customers/*/export'))).toBe(true);
    expect(patternWithin(p('/v1/customers/c1/export'), p('/v1/customers/*/export'))).toBe(true);
    expect(patternWithin(p('/v1/*/*/export'), p('/v1/customers/*/export'))).toBe(false);
    expect(patternWithin(p('/v1/customers/*/export'), p('/v1/customers/*/*'))).toBe(true);
    expect(patternWithin(p('/v1/customers/*'), p('/v1/customers/*/export'))).toBe(false);
  });

  it('the narrowest of several patterns keeps * only where all have it', () => {
    expect(formatPathPattern(narrowestPattern([p('/v1/*/*/export'), p('/v1/customers/*/*')]))).toBe('/v1/customers/*/export');
  });
});

describe('grants.paths in the policy', () => {
  const groups = { groupExists: () => true };
  const policy = (grants: string) => `default: { outcome: allow }
rules:
  - id: exports
    match: { kind: http }
    outcome: review
    review: { approvers: [group:sre], timeout: 1h, grants: ${grants} }
`;

  it('keeps the patterns of a rule that pins http.path', () => {
    const { policy: c } = compilePolicy(policy('{ maxTtl: 1h, maxUses: 3, scope: [http.path], paths: ["/v1/customers/*/export"] }'), 'p.yaml', groups);
    expect(c.evaluate({ action: { kind: 'http', target: 't', input: { method: 'POST', path: '/x' }, mode: 'execute' }, requester: { id: 'a', type: 'agent', labels: {} }, target: { name: 't', kind: 'http', labels: {} } }).requirements[0]!.grants).toEqual({
      maxTtlMs: 3_600_000,
      maxUses: 3,
      scope: ['http.path'],
      paths: ['/v1/customers/*/export'],
    });
  });

  it.each([
    ['{ maxTtl: 1h, maxUses: 3, scope: [http.method], paths: ["/v1/*"] }', 'add http.path to scope'],
    ['{ maxTtl: 1h, maxUses: 3, scope: [http.path], paths: ["/v1/../x"] }', '".."'],
    ['{ maxTtl: 1h, maxUses: 3, scope: [http.path], paths: ["^/v1/.*$"] }', 'must start with /'],
    ['{ maxTtl: 1h, maxUses: 3, scope: [http.path], paths: "/v1/*" }', 'paths must be a list'],
  ])('refuses %s', (grants, why) => {
    let caught: unknown;
    try {
      compilePolicy(policy(grants), 'p.yaml', groups);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(PolicyError);
    expect((caught as PolicyError).message).toContain(why);
  });
});
