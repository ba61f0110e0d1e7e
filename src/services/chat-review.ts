import type { ActionRecord } from '../domain/action-record.js';
import { AppError, isAppError } from '../domain/errors.js';
import type { Principal } from '../domain/identity.js';
import type { GrantAsk } from '../domain/grant.js';
import type { Verdict } from '../domain/review.js';
import type { Store } from '../ports/store.js';
import type { ReviewService } from './review-service.js';

/** A configured human, as chat identities map to them. */
export interface DirectoryHuman {
  id: string;
  groups: readonly string[];
  slackUserId?: string | undefined;
  teamsAadObjectId?: string | undefined;
}

/** How a chat user is known: an explicit id, or an email the chat service vouches for. */
export type ChatIdentity = { slackUserId: string; email?: string | undefined } | { teamsAadObjectId: string; email?: string | undefined };

/**
 * Maps chat users to configured humans. An explicit mapping (`slackUserId`,
 * `teamsAadObjectId`) wins; otherwise the email the chat service returns is matched to
 * human ids (case-insensitive), skipping humans whose explicit mapping for that chat
 * names someone else. No match is refused, and so is more than one: the directory never
 * guesses who clicked. Humans known only through OIDC are not in it: their groups come
 * from their identity provider's token, which a chat click does not carry.
 */
export interface HumanDirectory {
  /** The human, or AppError CHAT_USER_UNKNOWN / CHAT_USER_AMBIGUOUS. */
  resolve(who: ChatIdentity): DirectoryHuman;
  /** Whether an explicit mapping exists for this chat id (no email look-up needed). */
  hasExplicit(who: ChatIdentity): boolean;
  /** Every configured human. */
  all(): readonly DirectoryHuman[];
}

export function createHumanDirectory(humans: readonly DirectoryHuman[]): HumanDirectory {
  const list = humans.map((h) => Object.freeze({ ...h, groups: [...h.groups] }));
  const explicit = (who: ChatIdentity) =>
    'slackUserId' in who
      ? list.filter((h) => h.slackUserId === who.slackUserId)
      : list.filter((h) => h.teamsAadObjectId?.toLowerCase() === who.teamsAadObjectId.toLowerCase());
  const one = (found: DirectoryHuman[]): DirectoryHuman => {
    if (found.length === 1) return found[0]!;
    if (found.length > 1) throw new AppError('CHAT_USER_AMBIGUOUS', 'This chat user maps to more than one configured human: ask an administrator to fix the mapping');
    throw new AppError('CHAT_USER_UNKNOWN', 'You are not mapped to a Countersign reviewer: ask an administrator to add your chat id or email to `humans`');
  };
  return {
    resolve(who) {
      const byId = explicit(who);
      if (byId.length) return one(byId);
      const email = who.email?.trim().toLowerCase();
      if (!email) return one([]);
      const slack = 'slackUserId' in who;
      return one(list.filter((h) => h.id.toLowerCase() === email && (slack ? h.slackUserId === undefined : h.teamsAadObjectId === undefined)));
    },
    hasExplicit: (who) => explicit(who).length > 0,
    all: () => list,
  };
}

export interface ChatDecision {
  actionId: string;
  /** The fingerprint the button carried: the action the human saw. */
  fingerprint: string;
  verdict: Verdict;
  comment?: string | undefined;
  /** `slack`, `teams`. */
  via: string;
  /** Approve + grant: the standing grant asked for with this approval (checked like the API's `grant`). */
  grant?: GrantAsk | undefined;
}

export interface ChatReviews {
  /** Records a click through the review service, so every API rule applies (separation of duties, eligibility, quorum, fingerprint). */
  decide(human: DirectoryHuman, d: ChatDecision): Promise<ActionRecord>;
}

export function createChatReviews(deps: { reviews: ReviewService; store: Pick<Store, 'getAction'> }): ChatReviews {
  return {
    async decide(human, d) {
      const principal: Principal = { type: 'human', id: human.id, groups: human.groups };
      // The button names the action it was rendered for; refuse a click on anything else (deny too).
      const current = await deps.store.getAction(d.actionId);
      if (!current) throw new AppError('NOT_FOUND', `No action ${d.actionId}`);
      if (current.fingerprint !== d.fingerprint) {
        throw new AppError('FINGERPRINT_MISMATCH', 'The message shows another version of this action: nothing was recorded', { expected: current.fingerprint });
      }
      return deps.reviews.review(principal, d.actionId, { verdict: d.verdict, fingerprint: d.fingerprint, comment: d.comment, via: d.via, ...(d.grant ? { grant: d.grant } : {}) });
    },
  };
}

/** What a chat user is told when a click is refused: the rule, never internals. */
export function refusalText(e: unknown): string {
  if (isAppError(e) && e.status < 500) return `Not recorded (${e.code}): ${e.message}`;
  return 'Not recorded: Countersign could not record this right now; try again.';
}
