import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createSqliteStore } from '../adapters/store/sqlite/sqlite-store.js';
import type { SqliteStore } from '../adapters/store/sqlite/sqlite-store.js';
import { createConsoleSessions } from './console-sessions.js';

const open: Array<{ store: SqliteStore; dir: string }> = [];
afterEach(async () => {
  for (const { store, dir } of open.splice(0)) {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

function setup(stillConfigured?: (id: string) => boolean) {
  const dir = mkdtempSync(join(tmpdir(), 'countersign-sessions-'));
  const store = createSqliteStore({ path: join(dir, 'c.db') });
  open.push({ store, dir });
  let now = Date.parse('2026-01-01T00:00:00.000Z');
  const clock = { now: () => new Date(now) };
  const sessions = createConsoleSessions({ store: store.console, clock, ttlMs: 3_600_000, idleMs: 600_000, ...(stillConfigured ? { stillConfigured } : {}) });
  return { store, sessions, advance: (ms: number) => (now += ms) };
}

const alice = { id: 'alice@example.com', known: true, groups: ['release'] };

describe('console sessions', () => {
  it('a human a config reload removed is signed out at their next request, and it is audited', async () => {
    const configured = new Set(['alice@example.com']);
    const { store, sessions } = setup((id) => configured.has(id));
    const { token } = await sessions.start(alice);
    expect((await sessions.resolve(token)).ok).toBe(true);
    configured.delete('alice@example.com');
    expect(await sessions.resolve(token)).toEqual({ ok: false, reason: 'ended' });
    configured.add('alice@example.com');
    expect(await sessions.resolve(token)).toEqual({ ok: false, reason: 'ended' });
    const ends = (await store.readAudit(0, 100)).filter((e) => e.type === 'console.session.ended').map((e) => e.data.reason);
    expect(ends).toEqual(['removed']);
  });

  it('a session is found by its token only, and acts as its human with the groups of sign-in', async () => {
    const { sessions } = setup();
    const { token } = await sessions.start(alice);
    const r = await sessions.resolve(token);
    expect(r.ok && r.signedIn.principal).toEqual({ type: 'human', id: 'alice@example.com', groups: ['release'] });
    expect(await sessions.resolve(`${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`)).toEqual({ ok: false, reason: 'none' });
    expect(await sessions.resolve('not a token')).toEqual({ ok: false, reason: 'none' });
  });

  it('activity keeps a session alive until its maximum length; idleness ends it; both are audited', async () => {
    const { store, sessions, advance } = setup();
    const { token } = await sessions.start(alice);
    for (let i = 0; i < 5; i++) {
      advance(9 * 60_000);
      expect((await sessions.resolve(token)).ok).toBe(true);
    }
    advance(16 * 60_000); // 61 minutes after sign-in
    expect(await sessions.resolve(token)).toEqual({ ok: false, reason: 'expired' });

    const second = await sessions.start(alice);
    advance(10 * 60_000);
    expect(await sessions.resolve(second.token)).toEqual({ ok: false, reason: 'idle' });
    expect(await sessions.resolve(second.token)).toEqual({ ok: false, reason: 'idle' });
    const types = (await store.readAudit(0, 100)).map((e) => [e.type, e.data.reason ?? null]);
    expect(types).toEqual([
      ['console.session.started', null],
      ['console.session.ended', 'expired'],
      ['console.session.started', null],
      ['console.session.ended', 'idle'],
    ]);
  });

  it('the CSRF token belongs to its session and is compared whole', async () => {
    const { sessions } = setup();
    const a = await sessions.start(alice);
    const b = await sessions.start(alice);
    const ra = await sessions.resolve(a.token);
    const csrf = ra.ok ? ra.signedIn.csrf : '';
    expect(sessions.csrfMatches(a.token, csrf)).toBe(true);
    expect(sessions.csrfMatches(b.token, csrf)).toBe(false);
    expect(sessions.csrfMatches(a.token, csrf.slice(0, -1))).toBe(false);
    expect(sessions.csrfMatches(a.token, undefined)).toBe(false);
    expect(sessions.csrfMatches(a.token, ['x'])).toBe(false);
  });
});
