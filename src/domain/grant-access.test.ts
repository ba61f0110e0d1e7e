import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { audienceKeysOf, grantAudienceOf, mayRevokeGrant, maySeeGrant } from './grant-access.js';

const grant = { grantedBy: ['alice@example.com'], approvers: ['group:release' as const, 'user:dave@example.com' as const] };
const human = (id: string, groups: string[] = []) => ({ type: 'human' as const, id, groups });

describe('who sees and revokes a grant', () => {
  it('its grantors (any case) and the approvers of its rules may revoke it; others may not', () => {
    expect(mayRevokeGrant(human('Alice@Example.com'), grant)).toBe(true);
    expect(mayRevokeGrant(human('bob@example.com', ['release']), grant)).toBe(true);
    expect(mayRevokeGrant(human('dave@example.com'), grant)).toBe(true);
    expect(mayRevokeGrant(human('olga@example.com', ['oncall']), grant)).toBe(false);
  });

  it('auditors see every grant but revoke none of theirs by that alone', () => {
    expect(maySeeGrant(human('ann@example.com', ['auditor']), grant, ['auditor'])).toBe(true);
    expect(mayRevokeGrant(human('ann@example.com', ['auditor']), grant)).toBe(false);
    expect(maySeeGrant(human('olga@example.com', ['oncall']), grant, ['auditor'])).toBe(false);
  });
});

describe('the keys stores index grants under', () => {
  // Stores filter a human's grant listing by these keys; this pins that the filter keeps
  // exactly the grants maySeeGrant shows to a non-auditor.
  it('a human shares a key with a grant exactly when they may revoke it', () => {
    const name = fc.constantFrom('alice', 'Alice', 'ALICE', 'bob', 'Émile', 'émile', 'release', 'ops');
    const id = fc.tuple(name, fc.constantFrom('@example.com', '@Example.COM', '')).map(([a, b]) => a + b);
    const ref = fc.oneof(id.map((x) => `user:${x}` as const), name.map((x) => `group:${x}` as const));
    fc.assert(
      fc.property(fc.array(id, { maxLength: 3 }), fc.array(ref, { maxLength: 3 }), id, fc.array(name, { maxLength: 3 }), (grantedBy, approvers, who, groups) => {
        const g = { grantedBy, approvers };
        const h = human(who, groups);
        const keys = new Set(grantAudienceOf(g));
        expect(audienceKeysOf(h).some((k) => keys.has(k))).toBe(mayRevokeGrant(h, g));
      }),
      { numRuns: 2000 },
    );
  });
});
