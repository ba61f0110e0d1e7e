import { describe, expect, it } from 'vitest';
import type { ActionRequest } from '../../domain/action.js';
import type { Requester } from '../../domain/action-record.js';
import { encodeAuditEntry } from '../../domain/audit-entry.js';
import type { ParsedEntry } from '../../domain/audit-governance.js';
import { GovernanceChecker } from '../../domain/audit-governance.js';
import { applyReview, createAction, finishExecution, startExecution } from '../../domain/lifecycle.js';
import type { Decision } from '../../domain/policy-types.js';
import { finishedAction, reviewedEntry, submittedEntry } from './entry-shapes.js';
import { governChunk } from './verify-pass.js';

const now = new Date('2030-01-01T00:00:00.000Z');
const allow: Decision = { outcome: 'allow', rules: ['r'], policyVersion: `sha256:${'c'.repeat(64)}`, reason: 'ok', requirements: [] };
const agent: Requester = { id: 'deploy-bot', type: 'agent', owner: 'olga@example.com' };

function submission(request: ActionRequest, requester: Requester = agent, seq = 7): string {
  const t = createAction({ id: 'act_shape0000000001', request, requester, decision: allow, now });
  return Buffer.from(encodeAuditEntry(seq, t.audit[0]!).bytes).toString('utf8');
}

/** What the governance checker reads of a submission: the fast reading must say exactly this. */
function facts(e: ParsedEntry) {
  const req = e.data.requester as { id?: unknown; owner?: unknown };
  return { seq: e.seq, ts: e.ts, type: e.type, actionId: e.actionId, actor: e.actor, fingerprint: e.data.fingerprint, mode: e.data.mode, requester: req.id, owner: req.owner, onBehalfOf: e.data.onBehalfOf };
}

const inputs: Array<ActionRequest['input']> = [
  { method: 'GET', path: '/' },
  { method: 'POST', path: '/repos/a/releases', headers: { accept: 'application/json' }, body: { tag_name: 'v1', draft: false, n: -1.5e-7, none: null, list: [1, 'two', [3, 4e21], {}] } },
  { method: 'POST', path: '/q"uo\\te', body: { text: 'line\nbreak \u2028 ✓ ünïcode \u0001', '"mode":"decide"': '"requester":{"id":"x"}' } },
];

describe('submissions read without JSON.parse', () => {
  it('read what JSON.parse reads, whatever the input, requester and optional fields hold', () => {
    const requesters: Requester[] = [agent, { id: 'h"uman\\@example.com', type: 'human' }];
    let read = 0;
    for (const input of inputs) {
      for (const requester of requesters) {
        for (const extra of [{}, { onBehalfOf: 'ann@example.com', justification: 'ship "it"' }, { mode: 'decide' as const }]) {
          const p = submission({ kind: 'http', target: 'github', input, ...extra }, requester);
          const fast = submittedEntry(p, 7);
          expect(fast, p).toBeDefined();
          expect(facts(fast!)).toEqual(facts({ ...(JSON.parse(p) as ParsedEntry), seq: 7 }));
          read++;
        }
      }
    }
    expect(read).toBe(18);
  });

  it('leaves to JSON.parse what it cannot vouch for: deeper input, other keys, garbled bytes', () => {
    const p = submission({ kind: 'http', target: 'github', input: { method: 'GET', path: '/' } });
    expect(submittedEntry(p, 1)).toBeDefined();
    const deep = submission({ kind: 'http', target: 't', input: { method: 'POST', path: '/', body: { a: { b: { c: { d: 1 } } } } } });
    expect(submittedEntry(deep, 1)).toBeUndefined();
    expect(submittedEntry(submission({ kind: 'http', target: 't', input: { method: 'GET', path: '/' }, context: { ticket: 'T-1' } }), 1)).toBeUndefined();
    const garbled = [
      p.replace('"path":"/"', '"path":"/",'), // a trailing comma
      p.replace('"path":"/"', '"path":"/\u0001"'), // a raw control character
      p.replace('"path":"/"', '"path":"/\\x"'), // an escape JSON does not have
      p.replace('"method":"GET"', '"method":GET'), // a bare word
      p.replace('"type":"agent"},"target"', '"type":"agent","target"'), // a brace missing
      p.replace('"mode":"execute"', '"mode":"execute","mode":"decide"'), // a key twice
      p.replace('{"actionId"', '{ "actionId"'), // other spacing
    ];
    for (const g of garbled) {
      expect(g).not.toBe(p);
      expect(submittedEntry(g, 1), g).toBeUndefined();
    }
  });

  it('a garbled submission is still reported as not JSON, with its sequence number', () => {
    const p = submission({ kind: 'http', target: 'github', input: { method: 'GET', path: '/' } }, agent, 0);
    const broken = p.replace('"path":"/"', '"path":"/",');
    const g = new GovernanceChecker();
    const bad: unknown[] = [];
    governChunk(g, { first: 0, blob: Buffer.from(`\u0000${broken}`) }, (f) => bad.push(f));
    expect(bad).toEqual([expect.objectContaining({ kind: 'tampering', check: 'malformed-entry', seq: 0 })]);
    expect(g.stats.actions).toBe(0);
  });
});

describe('execution results read without JSON.parse', () => {
  const finished = (body: unknown) => {
    const t = createAction({ id: 'act_shape0000000002', request: { kind: 'http', target: 'github', input: { method: 'GET', path: '/' } }, requester: agent, decision: allow, now });
    const s = startExecution(t.next, now, { host: 'h', pid: 1, instance: 'i', leaseUntil: now.toISOString() });
    const f = finishExecution(s.next, { ok: true, status: 200, headers: { 'content-type': 'application/json' }, body }, now);
    return Buffer.from(encodeAuditEntry(9, f.audit[0]!).bytes).toString('utf8');
  };

  it('name the action JSON.parse names, whatever the result holds', () => {
    for (const body of [{ id: 1 }, 'text "quoted" ✓', [1, { a: null }], null]) {
      const p = finished(body);
      expect(finishedAction(p), p).toBe((JSON.parse(p) as ParsedEntry).actionId);
    }
  });

  it('a garbled one, or one shaped otherwise, is left to JSON.parse, and a garbled one reported', () => {
    const p = finished({ id: 1 });
    const garbled = p.replace('"data":{', '"data":{,');
    for (const q of [garbled, p.replace(/"data":\{.*\},"seq"/, '"data":5,"seq"'), p.replace('"data":{', '"data":{"a":{"b":{"c":{"d":{"e":1}}}},')]) {
      expect(q).not.toBe(p);
      expect(finishedAction(q), q).toBeUndefined();
    }
    const g = new GovernanceChecker();
    const bad: unknown[] = [];
    governChunk(g, { first: 0, blob: Buffer.from(`\u0000${garbled}`) }, (f) => bad.push(f));
    expect(bad).toEqual([expect.objectContaining({ kind: 'tampering', check: 'malformed-entry', seq: 0 })]);
  });
});

describe('reviews read without JSON.parse', () => {
  const review: Decision = { outcome: 'review', rules: ['rel'], policyVersion: `sha256:${'c'.repeat(64)}`, reason: 'two approvals', requirements: [{ ruleId: 'rel', approvers: ['group:release'], quorum: 2, timeoutMs: 60_000 }] };
  /** A review entry as applyReview writes it. */
  function reviewed(who: { id: string; groups: string[] }, verdict: 'approve' | 'deny', comment?: string): string {
    const t = createAction({ id: 'act_shape0000000003', request: { kind: 'http', target: 'github', input: { method: 'GET', path: '/' } }, requester: agent, decision: review, now });
    const a = { ...t.next, auditSeqs: [] };
    const r = applyReview(a, { type: 'human', ...who }, verdict, { fingerprint: verdict === 'approve' ? a.fingerprint : undefined, comment, via: 'cli', now });
    return Buffer.from(encodeAuditEntry(11, r.audit[0]!).bytes).toString('utf8');
  }
  /** What the governance checker reads of a review. */
  const reviewFacts = (e: ParsedEntry) => ({ seq: e.seq, ts: e.ts, type: e.type, actionId: e.actionId, actor: e.actor, reviewer: e.data.reviewer, groups: e.data.groups, verdict: e.data.verdict, via: e.data.via, outcome: e.data.outcome, fingerprint: e.data.fingerprint });

  it('read what JSON.parse reads: approvals and denials, with or without a comment, any groups and names', () => {
    const cases: Array<[{ id: string; groups: string[] }, 'approve' | 'deny', string | undefined]> = [
      [{ id: 'ann@example.com', groups: ['release'] }, 'approve', undefined],
      [{ id: 'ann@example.com', groups: ['release', 'ops "night" ✓', ''] }, 'deny', 'not "now"\nplease'],
      [{ id: 'vic"tor@example.com', groups: ['release'] }, 'approve', 'ok'],
    ];
    for (const [who, verdict, comment] of cases) {
      const p = reviewed(who, verdict, comment);
      const fast = reviewedEntry(p, 11);
      expect(fast, p).toBeDefined();
      expect(reviewFacts(fast!)).toEqual(reviewFacts({ ...(JSON.parse(p) as ParsedEntry), seq: 11 }));
    }
  });

  it('leaves to JSON.parse what it cannot vouch for, and a garbled review is reported with its sequence number', () => {
    const p = reviewed({ id: 'ann@example.com', groups: ['release'] }, 'approve');
    expect(reviewedEntry(p, 0)).toBeDefined();
    const garbled = [
      p.replace('"groups":["release"]', '"groups":["release",]'), // a trailing comma
      p.replace('"groups":["release"]', '"groups":"release"'), // groups not a list
      p.replace('"via":"cli"', '"via":"cli","via":"web"'), // a key twice
      p.replace('"verdict":"approve"', '"verdict":approve'), // a bare word
      p.replace('"reviewer":"ann@example.com"', '"reviewer":"ann\\q"'), // an escape JSON does not have
      p.replace('"data":{', '"data":{"grant":{"uses":1},'), // another key
    ];
    for (const q of garbled) {
      expect(q).not.toBe(p);
      expect(reviewedEntry(q, 0), q).toBeUndefined();
    }
    const g = new GovernanceChecker();
    const bad: unknown[] = [];
    governChunk(g, { first: 0, blob: Buffer.from(`\u0000${garbled[0]!}`) }, (f) => bad.push(f));
    expect(bad).toEqual([expect.objectContaining({ kind: 'tampering', check: 'malformed-entry', seq: 0 })]);
  });
});

describe('chunks longer than one decoded piece', () => {
  it('number every entry across pieces, non-ASCII included, and name a broken one in a later piece', () => {
    const big = 'é'.repeat(300_000); // one entry longer than a piece on its own
    const texts: string[] = [];
    for (let i = 0; i < 3000; i++) {
      const input = { method: 'POST', path: `/${i}`, body: { note: i === 1500 ? big : `n${i} ✓` } };
      const t = createAction({ id: `act_piece${String(i).padStart(10, '0')}`, request: { kind: 'http', target: 't', input }, requester: agent, decision: allow, now });
      for (const d of t.audit) texts.push(Buffer.from(encodeAuditEntry(texts.length, d).bytes).toString('utf8'));
    }
    const brokenAt = texts.length - 3;
    texts[brokenAt] = texts[brokenAt]!.slice(0, -1);
    const blob = Buffer.concat(texts.flatMap((t) => [Buffer.from([0]), Buffer.from(t, 'utf8')]));
    expect(blob.length).toBeGreaterThan(3 * 512 * 1024);
    const g = new GovernanceChecker(10_000);
    const bad: Array<{ seq?: number; check: string }> = [];
    expect(governChunk(g, { first: 0, blob }, (f) => bad.push(f))).toBe(texts.length);
    expect(bad).toEqual([expect.objectContaining({ check: 'malformed-entry', seq: brokenAt })]);
    // Every action submitted and decided; the decisions name a policy never loaded, each with its own entry.
    expect(g.stats.actions).toBe(3000);
    expect(g.findings.filter((f) => f.check === 'unknown-policy-version').map((f) => f.seq)).toEqual(texts.map((_, s) => s).filter((s) => s % 2 === 1 && s !== brokenAt));
  });
});
