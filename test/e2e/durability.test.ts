import { afterAll, describe, expect, it } from 'vitest';
import { createSqliteStore } from '../../src/adapters/store/sqlite/sqlite-store.js';
import type { Workspace } from './harness.js';
import { startServer, startTarget, until, workspace } from './harness.js';
import { join } from 'node:path';

const cleanups: Array<() => Promise<void> | void> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function auditTypes(ws: Workspace, actionId: string): Promise<string[]> {
  const store = createSqliteStore({ path: join(ws.dir, 'countersign.db') });
  try {
    const seqs = await store.auditSeqsFor(actionId);
    const out: string[] = [];
    for (const s of seqs) out.push(...(await store.readAudit(s, s + 1)).map((e) => e.type));
    return out;
  } finally {
    await store.close();
  }
}

describe('durability, end to end', () => {
  it('a server crash mid-review loses nothing that was acknowledged', async () => {
    const target = await startTarget();
    const ws = workspace(target.url);
    cleanups.push(() => target.close(), () => ws.cleanup());
    let server = await startServer(ws);
    const a = await server.client(ws.tokens.agent).submit({ kind: 'http', target: 'github', input: { method: 'POST', path: '/repos/acme/r/releases', body: { tag_name: 'v1' } } });
    await server.client(ws.tokens.alice).approve(a.id, a.fingerprint);
    // Killed, not stopped: only what was committed before each response survives.
    await server.stop('SIGKILL');

    server = await startServer(ws);
    cleanups.push(() => server.stop().then(() => undefined));
    const after = await server.client(ws.tokens.agent).get(a.id);
    expect(after.status).toBe('pending');
    expect(after.review?.requirements[0]?.approvedBy).toEqual(['alice@example.com']);
    // The same human still cannot approve twice after the restart; a second human completes it.
    await expect(server.client(ws.tokens.alice).approve(a.id, a.fingerprint)).rejects.toMatchObject({ code: 'ALREADY_REVIEWED' });
    await server.client(ws.tokens.bob).approve(a.id, a.fingerprint);
    const done = await server.client(ws.tokens.agent).wait(a.id, { timeoutSeconds: 10 });
    expect(done.status).toBe('succeeded');
    expect(target.received.filter((r) => r.url === '/api/repos/acme/r/releases')).toHaveLength(1);
    expect(await auditTypes(ws, a.id)).toEqual(['action.submitted', 'action.decided', 'action.reviewed', 'action.reviewed', 'execution.started', 'execution.finished']);
  });

  it('an expiry and an escalation that fall due while the server is down are applied when it is back', async () => {
    const target = await startTarget();
    const ws = workspace(target.url);
    cleanups.push(() => target.close(), () => ws.cleanup());
    let server = await startServer(ws);
    const agent = server.client(ws.tokens.agent);
    // quick: expires after 2 s; escalating: group oncall becomes eligible after 1 s.
    const expiring = await agent.submit({ kind: 'http', target: 'github', input: { method: 'PUT', path: '/quick/down' } });
    const escalating = await agent.submit({ kind: 'http', target: 'github', input: { method: 'PATCH', path: '/repos/acme/down' }, mode: 'decide' });
    await server.stop('SIGKILL');
    await new Promise((r) => setTimeout(r, 2500));

    server = await startServer(ws);
    cleanups.push(() => server.stop().then(() => undefined));
    const alice = server.client(ws.tokens.alice);
    const olga = server.client(ws.tokens.olga);
    const expired = await until(() => alice.get(expiring.id), (x) => x.status === 'expired', 10_000);
    expect(expired.status).toBe('expired');
    expect(target.received.some((r) => r.url.startsWith('/api/quick/down'))).toBe(false);
    // olga is only in oncall: she may approve once the escalation is applied.
    await until(() => alice.get(escalating.id), (x) => (x.review?.requirements[0]?.escalate?.done ?? false) === true, 10_000);
    await olga.approve(escalating.id, escalating.fingerprint);
    expect((await server.client(ws.tokens.agent).get(escalating.id)).status).toBe('approved');
    expect(await auditTypes(ws, expiring.id)).toEqual(['action.submitted', 'action.decided', 'action.expired']);
    expect(await auditTypes(ws, escalating.id)).toEqual(['action.submitted', 'action.decided', 'action.escalated', 'action.reviewed']);
  });

  it('a server killed while running marks the action interrupted on start, and never re-runs it', async () => {
    // The target holds the request open and never answers.
    const target = await startTarget((r) => r.url.startsWith('/api/slow'));
    const ws = workspace(target.url);
    cleanups.push(() => target.close(), () => ws.cleanup());
    let server = await startServer(ws);
    const agent = server.client(ws.tokens.agent);
    const a = await agent.submit({ kind: 'http', target: 'github', input: { method: 'GET', path: '/slow/export' } });
    await until(() => agent.get(a.id), (x) => x.status === 'running');
    await until(async () => target.received.length, (n) => n === 1);
    await server.stop('SIGKILL');

    server = await startServer(ws);
    cleanups.push(() => server.stop().then(() => undefined));
    const after = await server.client(ws.tokens.agent).get(a.id);
    expect(after.status).toBe('failed');
    expect(after.result?.reason).toBe('interrupted');
    await new Promise((r) => setTimeout(r, 500));
    expect(target.received.filter((r) => r.url === '/api/slow/export')).toHaveLength(1);
    expect(await auditTypes(ws, a.id)).toEqual(['action.submitted', 'action.decided', 'execution.started', 'execution.finished']);
  });
});
