import { describe, expect, it } from 'vitest';
import type { Grant } from '../domain/grant.js';
import type { Principal } from '../domain/identity.js';
import { grantAudienceOf } from '../domain/grant-access.js';
import type { GrantStore } from '../ports/grant-store.js';
import { AppError } from '../domain/errors.js';
import type { PolicyService } from './policy-service.js';
import { createGrantService } from './grant-service.js';

const NOW = new Date('2030-01-01T00:00:00.000Z');

async function expectRefusal(p: Promise<unknown>, code: string): Promise<void> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(AppError);
  expect((e as AppError).code).toBe(code);
}

function grant(id: string, over: Partial<Grant> = {}): Grant {
  return {
    id,
    actionId: `act_${id}`,
    ruleIds: ['releases'],
    ruleDigests: {},
    policyVersion: 'sha256:p',
    kind: 'http',
    agent: 'deploy-bot',
    target: 'github',
    scope: { 'http.method': 'PUT' },
    text: 'PUT on github',
    approvers: ['group:release'],
    grantedBy: ['alice@example.com'],
    createdAt: '2029-12-31T23:00:00.000Z',
    expiresAt: '2030-01-01T01:00:00.000Z',
    maxUses: 3,
    uses: 0,
    ...over,
  };
}

const human = (id: string, groups: string[] = []): Principal => ({ type: 'human', id, groups });

/**
 * The reads and the revocation the service makes, over a list of grants; a listing by
 * audience keeps the grants indexed under one of its keys, as the stores do (unless told
 * to ignore it, as a store whose index disagreed with the rule would).
 */
function fakeStore(grants: Grant[], ignoreAudience = false): GrantStore & { revoked: string[]; audiences: (readonly string[] | undefined)[] } {
  const revoked: string[] = [];
  const audiences: (readonly string[] | undefined)[] = [];
  const store = {
    revoked,
    audiences,
    getGrant: async (id: string) => grants.find((g) => g.id === id),
    listGrants: async (q: { limit: number; audience?: readonly string[] }) => {
      audiences.push(q.audience);
      const keep = (g: Grant) => ignoreAudience || !q.audience || grantAudienceOf(g).some((k) => q.audience!.includes(k));
      return grants.filter(keep).slice(0, q.limit);
    },
    revokeGrant: async (id: string, by: string) => {
      revoked.push(id);
      return { ...grants.find((g) => g.id === id)!, revokedAt: NOW.toISOString(), revokedBy: by };
    },
  };
  return store as unknown as GrantStore & { revoked: string[]; audiences: (readonly string[] | undefined)[] };
}

function service(grants: Grant[], ignoreAudience = false) {
  const store = fakeStore(grants, ignoreAudience);
  const policy = { current: () => undefined } as unknown as PolicyService;
  return { store, grants: createGrantService({ store, policy, clock: { now: () => NOW }, auditorGroups: ['auditor'] }) };
}

describe('who reads and revokes standing grants', () => {
  const release = grant('grt_release');
  const db = grant('grt_db', { approvers: ['group:dba'], grantedBy: ['dora@example.com'], target: 'warehouse' });

  it('a human lists only the grants they granted or may approve for; auditors list all', async () => {
    const { grants } = service([release, db]);
    expect((await grants.list(human('alice@example.com'), { limit: 10 })).map((g) => g.id)).toEqual(['grt_release']);
    expect((await grants.list(human('bob@example.com', ['release']), { limit: 10 })).map((g) => g.id)).toEqual(['grt_release']);
    expect((await grants.list(human('dora@example.com'), { limit: 10 })).map((g) => g.id)).toEqual(['grt_db']);
    expect((await grants.list(human('eve@example.com', ['marketing']), { limit: 10 })).map((g) => g.id)).toEqual([]);
    expect((await grants.list(human('ada@example.com', ['auditor']), { limit: 10 })).map((g) => g.id)).toEqual(['grt_release', 'grt_db']);
  });

  it("others' grants, however many and however new, do not crowd a human's own out of the first page", async () => {
    const others = Array.from({ length: 300 }, (_, i) => grant(`grt_other${i}`, { approvers: ['group:dba'], grantedBy: ['dora@example.com'] }));
    const { grants } = service([...others, release, grant('grt_release2')]);
    expect((await grants.list(human('alice@example.com'), { limit: 1 })).map((g) => g.id)).toEqual(['grt_release']);
    expect((await grants.list(human('alice@example.com'), { limit: 100 })).map((g) => g.id)).toEqual(['grt_release', 'grt_release2']);
    expect(await grants.list(human('ada@example.com', ['auditor']), { limit: 100 })).toHaveLength(100);
  });

  it("a human's listing asks the store for their own keys only; an auditor's for every grant", async () => {
    const { grants, store } = service([release, db]);
    await grants.list(human('Bob@Example.com', ['release', 'oncall']), { limit: 10 });
    await grants.list(human('ada@example.com', ['auditor']), { limit: 10 });
    expect(store.audiences).toEqual([['user:bob@example.com', 'group:release', 'group:oncall'], undefined]);
  });

  it('grants the store returns but the listing leaves out (a changed rule not yet swept) do not shorten the page', async () => {
    const changed = Array.from({ length: 5 }, (_, i) => grant(`grt_changed${i}`, { ruleDigests: { releases: 'old' } }));
    const store = fakeStore([...changed, grant('grt_release', { ruleDigests: { releases: 'new' } }), grant('grt_release2', { ruleDigests: { releases: 'new' } })]);
    const policy = { current: () => ({ ruleDigest: () => 'new' }) } as unknown as PolicyService;
    const grants = createGrantService({ store, policy, clock: { now: () => NOW }, auditorGroups: ['auditor'] });
    expect((await grants.list(human('alice@example.com'), { limit: 2, active: true })).map((g) => g.id)).toEqual(['grt_release', 'grt_release2']);
  });

  it('should a store return grants outside the audience, the rule still keeps them from the listing', async () => {
    const { grants } = service([release, db], true);
    expect((await grants.list(human('eve@example.com', ['marketing']), { limit: 10 })).map((g) => g.id)).toEqual([]);
    expect((await grants.list(human('dora@example.com'), { limit: 10 })).map((g) => g.id)).toEqual(['grt_db']);
  });

  it('a grant a human may not read is not found to them, as one that does not exist', async () => {
    const { grants } = service([release, db]);
    const eve = human('eve@example.com', ['marketing']);
    await expectRefusal(grants.get(eve, 'grt_db'), 'GRANT_NOT_FOUND');
    await expectRefusal(grants.get(eve, 'grt_none'), 'GRANT_NOT_FOUND');
    expect((await grants.get(human('x@example.com', ['dba']), 'grt_db')).id).toBe('grt_db');
    expect((await grants.get(human('ada@example.com', ['auditor']), 'grt_db')).id).toBe('grt_db');
  });

  it('revoking: a stranger is told not found and an auditor not eligible; nothing is revoked; an approver revokes', async () => {
    const { grants, store } = service([release, db]);
    await expectRefusal(grants.revoke(human('eve@example.com', ['marketing']), 'grt_db', undefined), 'GRANT_NOT_FOUND');
    await expectRefusal(grants.revoke(human('ada@example.com', ['auditor']), 'grt_db', undefined), 'NOT_ELIGIBLE');
    expect(store.revoked).toEqual([]);
    expect((await grants.revoke(human('x@example.com', ['dba']), 'grt_db', 'done')).revokedBy).toBe('x@example.com');
    expect(store.revoked).toEqual(['grt_db']);
  });

  it('agents read no grants', async () => {
    const { grants } = service([release]);
    await expectRefusal(grants.list({ type: 'agent', id: 'deploy-bot', owner: 'carol@example.com', labels: {} }, { limit: 10 }), 'FORBIDDEN');
  });
});
