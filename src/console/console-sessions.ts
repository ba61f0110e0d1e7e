import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ConsoleHuman } from '../domain/console-identity.js';
import type { Principal } from '../domain/identity.js';
import type { Clock } from '../ports/clock.js';
import type { ConsoleSession, ConsoleSessionStore } from '../ports/console-sessions.js';

export interface SignedIn {
  session: ConsoleSession;
  principal: Principal;
  /** The anti-forgery token every state-changing form of this session carries. */
  csrf: string;
}

export type Resolved = { ok: true; signedIn: SignedIn } | { ok: false; reason: 'none' | 'ended' | 'expired' | 'idle' };

export interface ConsoleSessions {
  start(human: ConsoleHuman): Promise<{ token: string; session: ConsoleSession }>;
  resolve(token: string | undefined): Promise<Resolved>;
  end(session: ConsoleSession, reason: string, by: string): Promise<boolean>;
  csrfMatches(token: string, presented: unknown): boolean;
}

const TOKEN = /^[A-Za-z0-9_-]{43}$/;
export const tokenHash = (token: string) => createHash('sha256').update(token).digest('hex');
const csrfOf = (token: string) => createHmac('sha256', token).update('countersign console csrf v1').digest('base64url');

/**
 * Server-side sessions. The cookie holds 256 random bits; the store keeps their hash.
 * The CSRF token is an HMAC of the session token: stateless, so any replica checks it,
 * and seeing it reveals nothing of the session token. Activity is recorded at most
 * once a minute (or a tenth of the idle timeout), not on every request.
 */
export function createConsoleSessions(deps: {
  store: ConsoleSessionStore;
  clock: Clock;
  ttlMs: number;
  idleMs: number;
  /** Whether a human is still configured (the running config, after reloads). Default: always. */
  stillConfigured?: (humanId: string) => boolean;
}): ConsoleSessions {
  const { store, clock } = deps;
  const touchEveryMs = Math.min(60_000, Math.max(1000, Math.floor(deps.idleMs / 10)));

  const ended = (s: ConsoleSession, reason: string, at: string, by: string) =>
    store.endSession(s.id, at, reason, [{ type: 'console.session.ended', ts: at, actor: { type: by === 'system' ? 'system' : 'human', id: by === 'system' ? 'countersign' : by }, data: { session: s.id, human: s.human, reason } }]);

  return {
    async start(human) {
      const now = clock.now();
      const token = randomBytes(32).toString('base64url');
      const session: ConsoleSession = {
        id: `cs_${randomBytes(9).toString('base64url')}`,
        human: human.id,
        known: human.known,
        groups: human.groups,
        createdAt: now.toISOString(),
        lastSeenAt: now.toISOString(),
        expiresAt: new Date(now.getTime() + deps.ttlMs).toISOString(),
      };
      await store.createSession(session, tokenHash(token), [
        { type: 'console.session.started', ts: session.createdAt, actor: { type: 'human', id: human.id }, data: { session: session.id, human: human.id, known: human.known, groups: human.groups } },
      ]);
      return { token, session };
    },
    async resolve(token) {
      if (!token || !TOKEN.test(token)) return { ok: false, reason: 'none' };
      const s = await store.sessionByToken(tokenHash(token));
      if (!s) return { ok: false, reason: 'none' };
      if (s.endedAt) return { ok: false, reason: s.endReason === 'expired' || s.endReason === 'idle' ? s.endReason : 'ended' };
      const now = clock.now();
      const at = now.toISOString();
      if (now.getTime() >= Date.parse(s.expiresAt)) {
        await ended(s, 'expired', at, 'system');
        return { ok: false, reason: 'expired' };
      }
      const idle = now.getTime() - Date.parse(s.lastSeenAt);
      if (idle >= deps.idleMs) {
        await ended(s, 'idle', at, 'system');
        return { ok: false, reason: 'idle' };
      }
      // A configured human removed by a reload is signed out at once, not at the session's end.
      if (s.known && deps.stillConfigured && !deps.stillConfigured(s.human)) {
        await ended(s, 'removed', at, 'system');
        return { ok: false, reason: 'ended' };
      }
      if (idle >= touchEveryMs) await store.touchSession(s.id, at);
      return { ok: true, signedIn: { session: s, principal: { type: 'human', id: s.human, groups: s.groups }, csrf: csrfOf(token) } };
    },
    end: (s, reason, by) => ended(s, reason, clock.now().toISOString(), by),
    csrfMatches(token, presented) {
      if (typeof presented !== 'string' || presented.length > 64) return false;
      const want = Buffer.from(csrfOf(token));
      const got = Buffer.from(presented);
      return got.length === want.length && timingSafeEqual(got, want);
    },
  };
}
