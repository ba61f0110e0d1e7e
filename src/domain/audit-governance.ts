import type { Finding } from './audit-finding.js';
import type { AuditActor } from './audit-entry.js';
import { AUDIT_TYPES } from './audit-entry.js';
import type { ApproverRef } from './identity.js';
import { refMatches } from './identity.js';
import type { Parties, Requirement, Review } from './review.js';
import { approversCounted, eligibleRefs, isParty, reviewOutcome } from './review.js';

/**
 * Governance, checked from the entries alone (offline): every execution was preceded
 * by an allow decision or by approvals meeting every requirement, from distinct
 * eligible humans who are not parties, of the decided fingerprint, before it started;
 * nothing ran after a deny, an expiry or a cancel, nor twice, nor in decide mode;
 * every decision names a policy version that was loaded before it.
 *
 * The checker trusts what each entry says about who did what (the reviewer's groups
 * are recorded as the identity provider gave them); the integrity checks say whether
 * the entries are the ones written.
 */

/** An entry as parsed from its canonical bytes. */
export interface ParsedEntry {
  seq: number;
  ts: string;
  type: string;
  actionId?: string;
  actor?: AuditActor;
  data: Record<string, unknown>;
}

type Closed = 'denied' | 'expired' | 'cancelled';

/**
 * How an action ended. Once an action can change no more, its state is dropped and
 * only this is kept (as seq * 8 + code), so that memory stays flat over a long log
 * while anything written after the end is still caught.
 */
const ENDS = ['executed', 'denied', 'expired', 'cancelled', 'decided in decide mode'] as const;
type End = (typeof ENDS)[number];

interface ActionState {
  submitted?: { seq: number; ts: string; fingerprint: string; mode: string; parties: Parties };
  decided?: { seq: number; ts: string; outcome: string; fingerprint: string; policyVersion: string; requirements: Requirement[]; expiresAt?: string };
  reviews: Review[];
  reviewSeqs: number[];
  approved?: { seq: number; ts: string };
  started?: { seq: number; ts: string };
}

/** Entries about the gateway, not about one action: rejected policies, config reloads, MCP tool pins, wire log-ins, grants, runners, console sessions and linked chat accounts. */
const aboutGateway = (t: string): boolean =>
  t === 'policy.rejected' || t === 'config.loaded' || t === 'config.rejected' || t === 'mcp.tool.pinned' || t === 'mcp.tool.changed' || t === 'mcp.tool.repinned' || t === 'pgwire.login' || t === 'grant.created' || t === 'grant.revoked' || t === 'grant.ended' || t.startsWith('runner.') || t.startsWith('console.session.') || t === 'chat.identity.linked';

/** Every known type and what governance does with it: one lookup per entry rather than a dozen comparisons (measured). */
const ROLES: ReadonlyMap<string, 'action' | 'policy' | 'gateway'> = new Map(AUDIT_TYPES.map((t) => [t, t === 'policy.loaded' ? 'policy' : aboutGateway(t) ? 'gateway' : 'action']));

/**
 * A copy of a string that holds no reference to a larger one: an id read out of a long
 * decoded text (the verifier's fast paths) would otherwise keep all of it alive for as
 * long as the action is remembered, which is to the end of the log.
 */
const ownCopy = (s: string): string => (' ' + s).slice(1);

const str = (x: unknown): x is string => typeof x === 'string';
const strs = (x: unknown): x is string[] => Array.isArray(x) && x.every(str);

function requirementsOf(x: unknown): Requirement[] | undefined {
  if (!Array.isArray(x)) return undefined;
  const out: Requirement[] = [];
  for (const q of x as Array<Record<string, unknown>>) {
    // A non-object has no string ruleId, so `typeof q !== 'object'` is a second guard (equivalent).
    // The checks read only ruleId, approvers, quorum and escalate.to (review.ts): mutants of timeoutMs,
    // escalate.afterMs and escalate.at, and of the `typeof esc` test (a non-object has no `to`), are equivalent.
    if (!q || typeof q !== 'object' || !str(q.ruleId) || !strs(q.approvers) || typeof q.quorum !== 'number') return undefined;
    const req: Requirement = { ruleId: q.ruleId, approvers: q.approvers as ApproverRef[], quorum: q.quorum, timeoutMs: typeof q.timeoutMs === 'number' ? q.timeoutMs : 0 };
    const esc = q.escalate as Record<string, unknown> | undefined;
    if (esc && typeof esc === 'object' && strs(esc.to)) req.escalate = { afterMs: Number(esc.afterMs ?? 0), to: esc.to as ApproverRef[], at: str(esc.at) ? esc.at : '', done: false };
    out.push(req);
  }
  return out;
}

export interface GovernanceStats {
  actions: number;
  executions: number;
  reviews: number;
  policyVersions: number;
}

export class GovernanceChecker {
  /** Live actions, and ended ones as tombstones (seq * 8 + index in ENDS). */
  private readonly actions = new Map<string, ActionState | number>();
  private readonly loaded = new Set<string>();
  /** The action of the last entry and its state: an action's entries often follow each other, and then skip the map. */
  private lastId = '';
  private last: ActionState | number | undefined;
  readonly findings: Finding[] = [];
  readonly stats: GovernanceStats = { actions: 0, executions: 0, reviews: 0, policyVersions: 0 };

  /** `limit` bounds the findings kept (the count goes on in `violations`). */
  constructor(private readonly limit = 1000) {}
  violations = 0;

  /** Records a violation at an entry (counted always, kept up to the limit). */
  bad(e: Pick<ParsedEntry, 'seq' | 'actionId'>, check: string, message: string, extra: { expected?: string; found?: string } = {}): void {
    this.violations++;
    if (this.findings.length < this.limit) this.findings.push({ kind: 'governance', check, seq: e.seq, ...(e.actionId ? { actionId: e.actionId } : {}), message, ...extra });
  }

  private end(id: string, seq: number, how: End): void {
    const tomb = seq * 8 + ENDS.indexOf(how);
    this.actions.set(id, tomb);
    if (id === this.lastId) this.last = tomb;
  }

  /** Something was written for an action after it ended. */
  private afterEnd(e: ParsedEntry, tomb: number): void {
    const seq = Math.floor(tomb / 8);
    const how = ENDS[tomb % 8]!;
    if (e.type === 'execution.started') {
      if (how === 'executed') return this.bad(e, 'executed-twice', `the action already ran (finished at entry ${seq}): execution is at most once`);
      if (how === 'decided in decide mode') return this.bad(e, 'decide-mode-executed', 'the gateway ran a decide-mode action (the agent runs those)');
      return this.bad(e, 'execution-after-close', `the action ran after it was ${how} (entry ${seq})`);
    }
    if (e.type === 'action.submitted') return this.bad(e, 'submitted-twice', `the action was already submitted and ${how} (entry ${seq})`);
    this.bad(e, 'entry-after-end', `${e.type} after the action was ${how} (entry ${seq})`);
  }

  protected loadPolicy(_e: ParsedEntry, version: string): void {
    if (!this.loaded.has(version)) this.stats.policyVersions++;
    this.loaded.add(version);
  }

  /** A decision names a version not loaded before it (a range read apart defers this: audit-governance-range.ts). */
  protected unknownPolicy(e: ParsedEntry, version: string): void {
    this.bad(e, 'unknown-policy-version', 'the decision names a policy version that was never loaded before it', { found: version, expected: [...this.loaded].slice(-3).join(', ') || 'none loaded' });
  }

  /** The first entry of an action not seen yet: true when it is set aside for later (a range read apart). */
  protected setAside(_e: ParsedEntry): boolean {
    return false;
  }

  /** The actions seen (live or ended). */
  actionIds(): IterableIterator<string> {
    return this.actions.keys();
  }

  /** Whether an action has been seen (live or ended). */
  knows(actionId: string): boolean {
    return this.actions.has(actionId);
  }

  /** Versions of the policies loaded so far. */
  policyVersions(): ReadonlySet<string> {
    return this.loaded;
  }

  add(e: ParsedEntry): void {
    const role = ROLES.get(e.type);
    if (role === undefined) return this.bad(e, 'unknown-entry-type', `unknown entry type "${e.type}"`);
    if (role === 'policy') {
      if (str(e.data.version)) this.loadPolicy(e, e.data.version);
      else this.bad(e, 'malformed-entry', 'policy.loaded names no version');
      return;
    }
    if (role === 'gateway') return;
    const id = e.actionId;
    if (!str(id)) return this.bad(e, 'malformed-entry', `${e.type} names no action`);
    let a = id === this.lastId ? this.last : this.actions.get(id);
    // An outcome is handed to the agent that asked (a held MCP call) once the action has ended.
    if (typeof a === 'number') return e.type === 'action.delivered' ? undefined : this.afterEnd(e, a);
    if (!a) {
      if (this.setAside(e)) return;
      // reviewSeqs is written, never read: what it starts with changes nothing (an equivalent mutant).
      a = { reviews: [], reviewSeqs: [] };
      this.actions.set(ownCopy(id), a);
    }
    this.lastId = id;
    this.last = a;
    switch (e.type) {
      case 'action.submitted':
        return this.submitted(e, a);
      case 'action.decided':
        return this.decided(e, a);
      case 'action.escalated':
        return this.escalated(e, a);
      case 'action.reviewed':
        return this.reviewed(e, a);
      case 'action.expired':
      case 'action.cancelled':
        return this.closedBy(e, a, e.type === 'action.expired' ? 'expired' : 'cancelled');
      case 'execution.started':
        return this.started(e, a);
      case 'execution.finished':
        if (!a.started) this.bad(e, 'finished-without-start', 'an execution finished that never started');
        return this.end(id, e.seq, 'executed');
      case 'action.delivered':
        return this.bad(e, 'delivered-before-outcome', 'an outcome was delivered before the action ended');
    }
  }

  /**
   * An execution.finished entry, known from its bytes alone (`{"actionId":"…",` …
   * `,"type":"execution.finished","v":1}`): the checker needs nothing else of it, so
   * the verifier skips parsing the largest results.
   */
  finished(seq: number, actionId: string): void {
    // No check reads the time of an execution.finished entry (an equivalent mutant).
    this.add({ seq, ts: '', type: 'execution.finished', actionId, data: {} });
  }

  private submitted(e: ParsedEntry, a: ActionState): void {
    if (a.submitted) return this.bad(e, 'submitted-twice', `the action was already submitted at entry ${a.submitted.seq}`);
    const d = e.data;
    const req = d.requester as { id?: unknown; owner?: unknown } | undefined;
    if (!str(d.fingerprint) || !str(d.mode) || !req || !str(req.id)) return this.bad(e, 'malformed-entry', 'the submission lacks its fingerprint, mode or requester');
    this.stats.actions++;
    a.submitted = {
      seq: e.seq,
      ts: e.ts,
      fingerprint: d.fingerprint,
      mode: d.mode,
      parties: { requester: req.id, owner: str(req.owner) ? req.owner : undefined, onBehalfOf: str(d.onBehalfOf) ? d.onBehalfOf : undefined },
    };
  }

  private decided(e: ParsedEntry, a: ActionState): void {
    if (!a.submitted) return this.bad(e, 'decision-without-submission', 'a decision for an action whose submission is not in the log');
    if (a.decided) return this.bad(e, 'decided-twice', `the action was already decided at entry ${a.decided.seq}`);
    const d = e.data;
    if (!str(d.outcome) || !str(d.fingerprint) || !str(d.policyVersion)) return this.bad(e, 'malformed-entry', 'the decision lacks its outcome, fingerprint or policy version');
    const requirements = d.outcome === 'review' ? requirementsOf(d.requirements) : [];
    if (!requirements) return this.bad(e, 'malformed-entry', 'a review decision without well-formed requirements');
    if (d.outcome === 'review' && requirements.length === 0) this.bad(e, 'review-without-requirements', 'a review decision that requires nothing');
    if (d.fingerprint !== a.submitted.fingerprint) {
      this.bad(e, 'fingerprint-mismatch', 'the decision is for another fingerprint than the one submitted', { expected: a.submitted.fingerprint, found: d.fingerprint });
    }
    if (!this.loaded.has(d.policyVersion)) this.unknownPolicy(e, d.policyVersion);
    a.decided = {
      seq: e.seq,
      ts: e.ts,
      outcome: d.outcome,
      fingerprint: d.fingerprint,
      policyVersion: d.policyVersion,
      requirements,
      ...(str(d.expiresAt) ? { expiresAt: d.expiresAt } : {}),
    };
    if (d.outcome === 'deny') this.end(e.actionId!, e.seq, 'denied');
    else if (d.outcome === 'allow') this.approve(e, a);
    else if (d.outcome !== 'review') this.bad(e, 'malformed-entry', `unknown outcome "${d.outcome}"`);
  }

  private pending(e: ParsedEntry, a: ActionState, what: string): boolean {
    if (!a.decided || a.decided.outcome !== 'review') {
      this.bad(e, `${what}-without-review`, `${what} of an action that did not need review`);
      return false;
    }
    if (a.approved) {
      this.bad(e, `${what}-after-close`, `${what} after the action was approved (entry ${a.approved.seq})`);
      return false;
    }
    return true;
  }

  private escalated(e: ParsedEntry, a: ActionState): void {
    if (!this.pending(e, a, 'escalation')) return;
    const req = a.decided!.requirements.find((q) => q.ruleId === e.data.ruleId);
    if (!req?.escalate) return this.bad(e, 'escalation-unknown-rule', `escalation of rule "${String(e.data.ruleId)}", which has no escalation`);
    req.escalate.done = true;
  }

  private reviewed(e: ParsedEntry, a: ActionState): void {
    if (!this.pending(e, a, 'review')) return;
    const d = e.data;
    if (!str(d.reviewer) || !str(d.verdict) || !strs(d.groups)) return this.bad(e, 'malformed-entry', 'the review lacks its reviewer, verdict or groups');
    const reviewer = d.reviewer;
    this.stats.reviews++;
    const decided = a.decided!;
    const parties = a.submitted!.parties;
    // Fail closed: a review by an agent, or recorded for someone else than who made it, never counts.
    if (e.actor?.type === 'agent') return this.bad(e, 'agent-reviewed', `an agent (${e.actor.id}) reviewed the action`);
    if (e.actor && e.actor.id.toLowerCase() !== d.reviewer.toLowerCase()) {
      return this.bad(e, 'reviewer-mismatch', 'the review is recorded for someone else than its actor', { expected: e.actor.id, found: d.reviewer });
    }
    if (isParty(d.reviewer, parties)) {
      this.bad(e, 'self-approval', `${d.reviewer} reviewed an action they are a party to (requester, onBehalfOf or the agent's owner)`);
    }
    if (a.reviews.some((r) => r.reviewer.toLowerCase() === reviewer.toLowerCase())) this.bad(e, 'reviewed-twice', `${d.reviewer} already reviewed this action`);
    const human = { id: d.reviewer, groups: d.groups };
    const eligible = decided.requirements.filter((q) => eligibleRefs(q).some((ref) => refMatches(ref, human))).map((q) => q.ruleId);
    if (eligible.length === 0) this.bad(e, 'not-eligible', `${d.reviewer} is named by none of the action's requirements`);
    if (decided.expiresAt && Date.parse(e.ts) >= Date.parse(decided.expiresAt)) {
      this.bad(e, 'review-after-expiry', 'the review came after the action expired', { expected: `before ${decided.expiresAt}`, found: e.ts });
    }
    if (d.verdict === 'approve' && d.fingerprint !== decided.fingerprint) {
      this.bad(e, 'fingerprint-mismatch', 'the approval is for another fingerprint than the decided one', { expected: decided.fingerprint, found: String(d.fingerprint) });
    }
    // `via` and the expiry given to reviewOutcome are not read by it: their mutants are equivalent.
    const review: Review = {
      reviewer: d.reviewer,
      groups: d.groups,
      verdict: d.verdict === 'approve' ? 'approve' : 'deny',
      via: str(d.via) ? d.via : '',
      at: e.ts,
      // Eligibility as judged now, not as recorded: a record claiming more does not count.
      countsFor: eligible,
      ...(str(d.fingerprint) ? { fingerprint: d.fingerprint } : {}),
    };
    a.reviews.push(review);
    a.reviewSeqs.push(e.seq);
    const outcome = reviewOutcome({ requirements: decided.requirements, reviews: a.reviews, expiresAt: decided.expiresAt ?? '' }, decided.fingerprint, parties);
    if (str(d.outcome) && d.outcome !== outcome) {
      this.bad(e, 'review-outcome-mismatch', 'the entry records another outcome than its reviews give', { expected: outcome, found: d.outcome });
    }
    if (outcome === 'approved') this.approve(e, a);
    else if (outcome === 'denied') this.end(e.actionId!, e.seq, 'denied');
  }

  /** Approved: in decide mode nothing more may happen; in execute mode it may now run. */
  private approve(e: ParsedEntry, a: ActionState): void {
    // Reached only after a decision, which needs the submission: `a.submitted.mode` is equivalent.
    if (a.submitted?.mode === 'decide') return this.end(e.actionId!, e.seq, 'decided in decide mode');
    a.approved = { seq: e.seq, ts: e.ts };
  }

  private closedBy(e: ParsedEntry, a: ActionState, why: Closed): void {
    if (!this.pending(e, a, why === 'expired' ? 'expiry' : 'cancel')) return;
    if (why === 'cancelled' && e.actor && a.submitted && e.actor.id !== a.submitted.parties.requester) {
      this.bad(e, 'cancel-by-other', 'the action was cancelled by someone else than its requester', { expected: a.submitted.parties.requester, found: e.actor.id });
    }
    this.end(e.actionId!, e.seq, why);
  }

  private started(e: ParsedEntry, a: ActionState): void {
    this.stats.executions++;
    if (!a.submitted || !a.decided) return this.bad(e, 'execution-without-decision', 'an execution of an action with no recorded submission and decision');
    if (a.started) return this.bad(e, 'executed-twice', `the action already started at entry ${a.started.seq}: execution is at most once`);
    a.started = { seq: e.seq, ts: e.ts };
    if (a.submitted.mode !== 'execute') this.bad(e, 'decide-mode-executed', 'the gateway ran a decide-mode action (the agent runs those)');
    if (e.data.fingerprint !== a.decided.fingerprint) {
      this.bad(e, 'fingerprint-mismatch', 'the execution is for another fingerprint than the decided one', { expected: a.decided.fingerprint, found: String(e.data.fingerprint) });
    }
    if (!a.approved) {
      const have = a.decided.requirements
        .map((q) => `${q.ruleId}: ${approversCounted(q, a.reviews, a.decided!.fingerprint, a.submitted!.parties).length} of ${q.quorum}`)
        .join(', ');
      return this.bad(e, 'execution-without-approval', 'the action ran without the approvals its requirements need', { expected: 'every requirement met before execution', found: have || a.decided.outcome });
    }
    if (Date.parse(a.approved.ts) > Date.parse(e.ts)) {
      this.bad(e, 'approval-after-execution', 'the approval is dated after the execution started', { expected: `at or before ${e.ts}`, found: a.approved.ts });
    }
  }
}
