import { describe, expect, it } from 'vitest';
import { consoleIdentity } from './console-identity.js';
import { safeReturnPath } from './return-path.js';

const rules = {
  emailClaim: 'email',
  groupsClaim: 'groups',
  requireVerifiedEmail: true,
  mapping: { 'A.Smith@Corp.example': 'alice@example.com' },
  humans: [
    { id: 'alice@example.com', groups: ['release'] },
    { id: 'Bob@example.com', groups: ['oncall'] },
  ],
};

describe('console identity', () => {
  it('a configured human signs in with configured and token groups merged', () => {
    const r = consoleIdentity({ email: 'BOB@example.com', email_verified: true, groups: ['oncall', 'sre', 7] }, rules);
    expect(r).toEqual({ ok: true, human: { id: 'bob@example.com', known: true, groups: ['oncall', 'sre'] } });
  });

  it('a mapped claim value names its configured human, whatever its case', () => {
    const r = consoleIdentity({ email: 'a.smith@corp.EXAMPLE', email_verified: true }, rules);
    expect(r).toEqual({ ok: true, human: { id: 'alice@example.com', known: true, groups: ['release'] } });
  });

  it('an unknown user signs in with no groups, whatever groups the token claims', () => {
    const r = consoleIdentity({ email: 'eve@example.com', email_verified: true, groups: ['release'] }, rules);
    expect(r).toEqual({ ok: true, human: { id: 'eve@example.com', known: false, groups: [] } });
  });

  it('an unverified email or a missing or non-ASCII claim is refused with the reason', () => {
    expect(consoleIdentity({ email: 'alice@example.com', email_verified: false }, rules)).toMatchObject({ ok: false });
    expect(consoleIdentity({ email_verified: true }, rules)).toEqual({ ok: false, reason: "The identity provider's email claim is missing or not printable ASCII." });
    expect(consoleIdentity({ email: 'alice@exampl\u212a.com', email_verified: true }, rules)).toMatchObject({ ok: false });
  });
});

describe('post-login return path', () => {
  it('keeps paths of this console, with their query', () => {
    expect(safeReturnPath('/console/actions/act_1?x=1')).toBe('/console/actions/act_1?x=1');
    expect(safeReturnPath('/console')).toBe('/console');
  });

  it('refuses anything that could leave the origin or the console', () => {
    for (const bad of ['https://evil.example/', '//evil.example/console', '/\\evil.example', '/console/../../evil', '/other', 'javascript:alert(1)', '/console\nx', '/console/auth/callback', '', 5, undefined]) {
      expect(safeReturnPath(bad)).toBe('/console/inbox');
    }
  });
});
