import type { ActionPreview, ActionRecord } from '../domain/action-record.js';
import { partiesOf } from '../domain/lifecycle.js';
import { redactHeaders } from '../domain/redact.js';
import { approversCounted } from '../domain/review.js';
import { reviewStanding } from '../domain/review-standing.js';
import type { Principal } from '../domain/identity.js';
import { grantableView } from './grants-view.js';


/**
 * A preview's sample rows are data nobody approved the requester to read: an agent could
 * otherwise read any table by submitting a write that goes to review. Agents and the
 * action's parties (requester, the human it acts for, the agent's owner) see the figures
 * only; reviewers and auditors see the rows. Without a known viewer, nobody does.
 */
function previewFor(a: ActionRecord, preview: ActionPreview, viewer: Principal | undefined): ActionPreview {
  const parties = partiesOf(a);
  const id = viewer?.id.toLowerCase();
  const party = id === undefined || [parties.requester, parties.owner, parties.onBehalfOf].some((p) => p?.toLowerCase() === id);
  if (viewer?.type === 'human' && !party) return preview;
  // A dry run's output (an object as the cluster holds it, a plan with values) is read
  // with the target's credentials: the parties see its status and hash, not its text.
  if (preview.mode === 'command') return { ...preview, stdout: '', stderr: '', outputHidden: true };
  return {
    ...preview,
    statements: preview.statements.map(({ before: _b, after: _a, columns: _c, ...s }) => ({ ...s, ...(_b || _a ? { samplesHidden: true } : {}) })),
  };
}

/** The API's view of an action: what agents and reviewers see. Credential headers are redacted; the runner is internal. */
export function actionView(a: ActionRecord, publicUrl: string, viewer?: Principal): Record<string, unknown> {
  const input = a.kind === 'http' && a.input.headers ? { ...a.input, headers: redactHeaders(a.input.headers as Record<string, string>) } : a.input;
  const view: Record<string, unknown> = {
    id: a.id,
    status: a.status,
    kind: a.kind,
    target: a.target,
    input,
    mode: a.mode,
    fingerprint: a.fingerprint,
    requester: a.requester,
    decision: a.decision,
    createdAt: a.createdAt,
    updatedAt: a.updatedAt,
    links: { self: `${publicUrl}/v1/actions/${a.id}` },
  };
  if (a.justification !== undefined) view.justification = a.justification;
  if (a.context !== undefined) view.context = a.context;
  if (a.onBehalfOf !== undefined) view.onBehalfOf = a.onBehalfOf;
  if (a.review) {
    const parties = partiesOf(a);
    view.review = {
      requirements: a.review.requirements.map((q) => ({ ...q, approvedBy: approversCounted(q, a.review!.reviews, a.fingerprint, parties) })),
      approvals: a.review.reviews.filter((r) => r.verdict === 'approve'),
      reviews: a.review.reviews,
      expiresAt: a.review.expiresAt,
      // Whether the viewer may decide it, so that `pending` lists only what they can act on.
      ...(viewer ? { you: reviewStanding(viewer, a) } : {}),
    };
  }
  if (a.result) {
    const { runner: _runner, ...result } = a.result;
    view.result = result;
  }
  if (a.facts) view.facts = a.facts;
  if (a.preview) view.preview = previewFor(a, a.preview, viewer);
  if (a.drift) view.drift = a.drift;
  if (a.auditSeqs) view.auditSeqs = a.auditSeqs;
  if (a.grant) view.grant = a.grant;
  const grantable = grantableView(a);
  if (grantable) view.grantable = grantable;
  return view;
}
