import { describe, expect, it } from 'vitest';
import { mayRevokeGrant, maySeeGrant } from './grant-access.js';

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
