import { describe, expect, it } from 'vitest';
import type { ActionRecord } from '../../domain/action-record.js';
import { createAction } from '../../domain/lifecycle.js';
import { reviewCard } from '../../domain/review-card.js';
import { slackMessage } from './slack/slack-blocks.js';
import { teamsCard } from './teams/teams-card.js';

function approvedWithGrant(): ActionRecord {
  const a = createAction({
    id: 'act_0123456789ab',
    request: { kind: 'http', target: 'github', input: { method: 'PUT', path: '/releases/1' } },
    requester: { id: 'bot', type: 'agent', owner: 'owner@example.com' },
    decision: { outcome: 'review', rules: ['releases'], policyVersion: 'sha256:p', reason: 'r', requirements: [{ ruleId: 'releases', approvers: ['group:release'], quorum: 1, timeoutMs: 60_000 }] },
    now: new Date('2030-01-01T00:00:00Z'),
  }).next;
  return { ...a, status: 'approved', grant: { id: 'grt_abcdefghijkl', expiresAt: '2030-01-01T01:00:00.000Z', maxUses: 5, text: 'http actions of bot on github that rule releases would send to review: up to 5 more' } };
}

describe('chat messages and standing grants', () => {
  it('Slack and Teams say when an approval also created a grant, with its scope', () => {
    const card = reviewCard(approvedWithGrant(), 'https://cs.example.com');
    expect(JSON.stringify(slackMessage(card).blocks)).toContain('The approval also created standing grant grt_abcdefghijkl: http actions of bot on github');
    expect(JSON.stringify(teamsCard(card))).toContain('The approval also created standing grant grt_abcdefghijkl');
  });

  it('an action a grant allowed says so', () => {
    const a = approvedWithGrant();
    delete a.grant;
    a.decision = { ...a.decision, outcome: 'allow', grant: { id: 'grt_abcdefghijkl', use: 2, policyOutcome: 'review' } };
    expect(JSON.stringify(slackMessage(reviewCard(a, 'https://cs.example.com')).blocks)).toContain('Allowed by standing grant grt_abcdefghijkl (use 2)');
  });
});
