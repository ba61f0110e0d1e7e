import type { AuditDraft } from '../domain/audit-entry.js';

/**
 * A console sign-in, kept server-side: the browser holds only a random token whose
 * SHA-256 (`tokenHash`) finds the record. `id` is the public handle (`countersign
 * sessions revoke <id>`); it is not the token and grants nothing.
 */
export interface ConsoleSession {
  id: string;
  /** The human the verified claim maps to, or the claim itself for an unknown user. */
  human: string;
  /** False when the claim names no configured human: an empty, read-only view. */
  known: boolean;
  /** The groups the session acts with (configured ∪ IdP claim), fixed at sign-in. */
  groups: string[];
  createdAt: string;
  lastSeenAt: string;
  /** The absolute end (sign-in + ttl); idleness ends it earlier. */
  expiresAt: string;
  endedAt?: string;
  /** `logout`, `revoked`, ... */
  endReason?: string;
}

export interface SessionQuery {
  /** Only sessions active at this instant: begun, not ended, not past `expiresAt`. */
  activeAt?: string;
  human?: string;
  limit: number;
}

/**
 * Console sessions and chat-account links, in the gateway's store. Writes with audit
 * drafts commit with their entries, like every other state change.
 */
export interface ConsoleSessionStore {
  createSession(session: ConsoleSession, tokenHash: string, audit: readonly AuditDraft[]): Promise<void>;
  /** The session this token hash names (ended or not: the caller judges validity). */
  sessionByToken(tokenHash: string): Promise<ConsoleSession | undefined>;
  getSession(id: string): Promise<ConsoleSession | undefined>;
  /** Records activity; never revives an ended session. */
  touchSession(id: string, at: string): Promise<void>;
  /** Ends a session; false (and no entry) when it had already ended or does not exist. */
  endSession(id: string, at: string, reason: string, audit: readonly AuditDraft[]): Promise<boolean>;
  /** Newest first. */
  listSessions(q: SessionQuery): Promise<ConsoleSession[]>;
}

/** A chat account (Slack user, Teams AAD object) bound to a human through an OIDC sign-in. */
export interface ChatLink {
  channel: 'slack' | 'teams';
  chatUserId: string;
  human: string;
  linkedAt: string;
}

export interface ChatLinkOffer {
  channel: ChatLink['channel'];
  chatUserId: string;
  expiresAt: string;
}

export interface ChatLinkStore {
  /** Records a one-time link offer; the code itself is never stored, only its hash. */
  offerLink(codeHash: string, offer: ChatLinkOffer, createdAt: string): Promise<void>;
  /** The offer behind a code, if it is unused and not expired at `at`. */
  linkOffer(codeHash: string, at: string): Promise<ChatLinkOffer | undefined>;
  /**
   * Uses the offer once and binds its chat account to `human` (replacing an earlier
   * binding), appending a `chat.identity.linked` entry in the same transaction.
   * Undefined (and nothing written) when the code is unknown, used or expired.
   */
  claimLink(codeHash: string, human: string, at: string): Promise<ChatLink | undefined>;
  linkedHuman(channel: ChatLink['channel'], chatUserId: string): Promise<string | undefined>;
}
