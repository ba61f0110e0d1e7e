import type { Logger } from 'pino';
import type { ConsoleConfig } from '../config/console-schema.js';
import type { AuditLog } from '../ports/audit-log.js';
import type { Clock } from '../ports/clock.js';
import type { ChatLinkStore, ConsoleSessionStore } from '../ports/console-sessions.js';
import type { Store } from '../ports/store.js';
import type { ActionEvents } from '../services/action-events.js';
import type { AuditQueryService } from '../services/audit-query-service.js';
import type { GrantService } from '../services/grant-service.js';
import type { QueryService } from '../services/query-service.js';
import type { ReviewService } from '../services/review-service.js';
import type { ConsoleOidc } from './console-oidc.js';
import type { ConsoleSessions, SignedIn } from './console-sessions.js';

declare module 'fastify' {
  interface FastifyRequest {
    consoleUser?: SignedIn;
  }
}

/** What every console route group is given (wired in src/app/console-wiring.ts). */
export interface ConsoleDeps {
  config: ConsoleConfig;
  humans: ReadonlyArray<{ id: string; groups: readonly string[] }>;
  publicUrl(): string;
  store: Store & AuditLog & { console: ConsoleSessionStore & ChatLinkStore };
  queries: QueryService;
  reviews: ReviewService;
  /** Standing grants: listed and revoked on the Grants page. */
  grants: Pick<GrantService, 'list' | 'get' | 'revoke'>;
  audit: AuditQueryService;
  /** Changes committed by this replica and, on PostgreSQL, by the others (replica-action-events.ts). */
  events: Pick<ActionEvents, 'subscribe'>;
  clock: Clock;
  oidc: ConsoleOidc;
  sessions: ConsoleSessions;
  auditorGroups: readonly string[];
  /** The log's verifier keys (`<name>+<id>+<base64>`), for the browser's checks. */
  verifierKeys: readonly string[];
  logger: Logger;
}

export const SESSION_PATH = '/console';

/** The session cookie: __Host- prefixed over https (no Domain, Path=/, Secure), plain over http (local use). */
export function sessionCookieName(publicUrl: string): string {
  return publicUrl.startsWith('https:') ? '__Host-cs_session' : 'cs_session';
}

export function isSecure(publicUrl: string): boolean {
  return publicUrl.startsWith('https:');
}

export function isAuditor(s: SignedIn, auditorGroups: readonly string[]): boolean {
  return s.session.known && s.principal.type === 'human' && s.principal.groups.some((g) => auditorGroups.includes(g));
}
