import type { Action } from './types.js';

/** A standing grant as the API shows it. */
export interface Grant {
  id: string;
  status: 'active' | 'expired' | 'used-up' | 'revoked' | 'ended';
  actionId: string;
  ruleIds: string[];
  kind: string;
  agent: string;
  target: string;
  scope: Record<string, unknown>;
  text: string;
  grantedBy: string[];
  createdAt: string;
  expiresAt: string;
  maxUses: number;
  uses: number;
  revokedAt?: string;
  revokedBy?: string;
  revokeReason?: string;
  endedAt?: string;
  endReason?: 'used-up' | 'expired' | 'revoked' | 'policy-changed';
}

export type BatchResult = { id: string; ok: true; action: Action } | { id: string; ok: false; error: { code: string; message: string } };

export interface GrantsApi {
  list(q?: { active?: boolean; limit?: number }): Promise<Grant[]>;
  get(id: string): Promise<Grant>;
  revoke(id: string, reason?: string): Promise<Grant>;
  /** Approves or denies several actions, each with its own fingerprint, eligibility check and audit entry. */
  batch(verdict: 'approve' | 'deny', items: Array<{ id: string; fingerprint?: string }>, comment?: string): Promise<BatchResult[]>;
}

type Call = <T>(method: string, path: string, body?: unknown) => Promise<T>;

export function grantsApi(call: Call): GrantsApi {
  const enc = encodeURIComponent;
  return {
    async list(q = {}) {
      const p = new URLSearchParams();
      if (q.active) p.set('active', 'true');
      if (q.limit) p.set('limit', String(q.limit));
      const qs = p.toString();
      return (await call<{ grants: Grant[] }>('GET', `/v1/grants${qs ? `?${qs}` : ''}`)).grants;
    },
    get: (id) => call<Grant>('GET', `/v1/grants/${enc(id)}`),
    revoke: (id, reason) => call<Grant>('POST', `/v1/grants/${enc(id)}/revoke`, reason === undefined ? {} : { reason }),
    async batch(verdict, items, comment) {
      return (await call<{ results: BatchResult[] }>('POST', '/v1/reviews', { verdict, items, ...(comment === undefined ? {} : { comment }) })).results;
    },
  };
}
