import { describe, expect, it } from 'vitest';
import type { ActionRecord } from '../../domain/action-record.js';
import { createAction } from '../../domain/lifecycle.js';
import { reviewCard, truncateText } from '../../domain/review-card.js';
import { createHumanDirectory } from '../../services/chat-review.js';
import { slackMessage } from './slack/slack-blocks.js';
import { teamsCard } from './teams/teams-card.js';

function action(body: unknown, justification = 'why'): ActionRecord {
  return createAction({
    id: 'act_0123456789ab',
    request: { kind: 'http', target: 'github', input: { method: 'POST', path: '/repos/a/b/releases', headers: { Authorization: 'Bearer agent-secret' }, body }, justification, onBehalfOf: 'dana@example.com' },
    requester: { id: 'bot', type: 'agent', owner: 'owner@example.com' },
    decision: { outcome: 'review', rules: ['releases'], policyVersion: 'sha256:p', reason: 'two people', requirements: [{ ruleId: 'releases', approvers: ['group:release'], quorum: 2, timeoutMs: 60_000 }] },
    now: new Date('2030-01-01T00:00:00Z'),
  }).next;
}

describe('review messages', () => {
  it('truncate long content without splitting a character, and say so', () => {
    expect(truncateText('ab😀c', 3)).toEqual({ text: 'ab', truncated: true });
    const card = reviewCard(action({ notes: 'x'.repeat(10_000) }), 'https://cs.example.com/');
    expect(card.body!.truncated).toBe(true);
    expect(card.body!.text.length).toBeLessThanOrEqual(2500);
    expect(JSON.stringify(slackMessage(card).blocks)).toContain('truncated: <https://cs.example.com/v1/actions/act_0123456789ab|full detail>');
    for (const b of slackMessage(card).blocks) {
      const t = (b as { text?: { text: string } }).text?.text;
      if (t) expect(t.length).toBeLessThanOrEqual(3000);
    }
  });

  it('mark a cut "what will run": padding cannot push the end of a request out of sight unannounced', () => {
    const padded = createAction({
      id: 'act_0123456789ab',
      request: { kind: 'http', target: 'github', input: { method: 'POST', path: '/repos/a/b/releases', query: { note: 'x'.repeat(600), force: 'true' } } },
      requester: { id: 'bot', type: 'agent', owner: 'owner@example.com' },
      decision: { outcome: 'review', rules: ['releases'], policyVersion: 'sha256:p', reason: 'r', requirements: [{ ruleId: 'releases', approvers: ['group:release'], quorum: 1, timeoutMs: 60_000 }] },
      now: new Date('2030-01-01T00:00:00Z'),
    }).next;
    const card = reviewCard(padded, 'https://cs.example.com');
    expect(card.operation.truncated).toBe(true);
    expect(card.operation.text).not.toContain('force=true');
    expect(card.operation.text.endsWith('…')).toBe(true);
    expect(card.title.endsWith('…')).toBe(true);
    const slack = slackMessage(card);
    const run = slack.blocks.map((b) => (b as { text?: { text: string } }).text?.text ?? '').find((t) => t.startsWith('*What will run*'))!;
    expect(run).toContain('(truncated: <https://cs.example.com/v1/actions/act_0123456789ab|full detail>)');
    const buttons = slack.blocks.find((b) => b.type === 'actions') as { elements: Array<{ confirm?: { text: { text: string } } }> };
    const confirm = buttons.elements[0]!.confirm!.text.text;
    expect(confirm.length).toBeLessThanOrEqual(300);
    expect(confirm).toContain(card.shortFingerprint);
    expect(confirm).toMatch(/…```$/);
    const teams = JSON.stringify(teamsCard(card));
    expect(teams).toContain('What will run (truncated: see Full detail)');
    // A short request is shown whole, unmarked.
    const whole = reviewCard(action({ a: 1 }), 'https://x');
    expect(whole.operation).toEqual({ text: 'POST github /repos/a/b/releases', truncated: false });
    const wholeButtons = slackMessage(whole).blocks.find((b) => b.type === 'actions') as { elements: Array<{ confirm?: { text: { text: string } } }> };
    expect(wholeButtons.elements[0]!.confirm!.text.text).toContain('```POST github /repos/a/b/releases```');
  });

  it('say "truncated" when escaping is what makes content too long for Slack, and keep the end of the block', () => {
    const card = reviewCard(action({ note: '&'.repeat(2000), delete_all: true }), 'https://cs.example.com');
    expect(card.body!.truncated).toBe(false); // 2,000 characters fit the card; escaped, they do not fit Slack
    const body = slackMessage(card).blocks.map((b) => (b as { text?: { text: string } }).text?.text ?? '').find((t) => t.startsWith('*Body / input*'))!;
    expect(body.length).toBeLessThanOrEqual(3000);
    expect(body).toContain('(truncated: <https://cs.example.com/v1/actions/act_0123456789ab|full detail>)');
    expect(body).toMatch(/…```$/);
    const why = reviewCard(action({}, '<'.repeat(1400) + ' and then something else'), 'https://x');
    const quoted = slackMessage(why).blocks.map((b) => (b as { text?: { text: string } }).text?.text ?? '').find((t) => t.startsWith('*Justification*'))!;
    expect(quoted.length).toBeLessThanOrEqual(3000);
    expect(quoted).toContain('(truncated: <https://x/v1/actions/act_0123456789ab|full detail>)');
    expect(quoted.endsWith('…')).toBe(true);
  });

  it('make bidi overrides and control characters visible, and show the directory a tool runs in', () => {
    const tool = createAction({
      id: 'act_0123456789ab',
      request: { kind: 'tool', target: 'claude-code', input: { tool: 'Bash', input: { command: 'rm -rf build\u202e txt.exe' }, cwd: '/home/dev/proj' }, justification: 'clean\u0085up', mode: 'decide' },
      requester: { id: 'bot', type: 'agent', owner: 'owner@example.com' },
      decision: { outcome: 'review', rules: ['r'], policyVersion: 'sha256:p', reason: 'r', requirements: [{ ruleId: 'r', approvers: ['group:release'], quorum: 1, timeoutMs: 60_000 }] },
      now: new Date('2030-01-01T00:00:00Z'),
    }).next;
    const card = reviewCard(tool, 'https://x');
    expect(card.facts).toContainEqual({ label: 'Directory', value: '/home/dev/proj' });
    const all = JSON.stringify([slackMessage(card), teamsCard(card)]);
    expect(all).not.toMatch(/[\u202e\u0085]/);
    expect(card.body!.text).toContain('rm -rf build\\u202e txt.exe');
    expect(card.justification!.text).toBe('clean\\u0085up');
  });

  it('never show the agent\'s credential headers', () => {
    const text = JSON.stringify(slackMessage(reviewCard(action({ a: 1 }), 'https://x')));
    expect(text).not.toContain('agent-secret');
    expect(text).toContain('[REDACTED]');
    expect(JSON.stringify(teamsCard(reviewCard(action({ a: 1 }), 'https://x')))).not.toContain('agent-secret');
  });

  it('escape Slack markup in agent text; Teams gets it only as TextRuns (never markdown)', () => {
    const a = action({ note: '<!here> ``` <@U1>' }, '<https://evil.example|Approve here> & *now*');
    const slack = JSON.stringify(slackMessage(reviewCard(a, 'https://x')));
    expect(slack).not.toMatch(/<!here>|<@U1>|<https:\/\/evil/);
    expect(slack).toContain('&lt;https://evil.example|Approve here&gt; &amp; *now*');
    const card = teamsCard(reviewCard(a, 'https://x'));
    const blocks = JSON.stringify((card.body as Array<{ type: string; text?: string }>).filter((b) => b.type === 'TextBlock'));
    expect(blocks).not.toContain('evil.example');
    expect(JSON.stringify(card)).toContain('"type":"TextRun","text":"<https://evil.example|Approve here> & *now*"');
  });

  it('show who acts for whom, and drop the buttons once closed', () => {
    const a = action({});
    const card = reviewCard(a, 'https://x');
    expect(card.facts.map((f) => f.label)).toEqual(['Requester', 'Owner', 'On behalf of', 'Target', 'Mode']);
    expect(slackMessage(card).blocks.some((b) => b.type === 'actions')).toBe(true);
    const closed = reviewCard({ ...a, status: 'expired' }, 'https://x');
    expect(slackMessage(closed).blocks.some((b) => b.type === 'actions')).toBe(false);
    expect((teamsCard(closed).actions as Array<{ type: string }>).map((x) => x.type)).toEqual(['Action.OpenUrl']);
  });
});

describe('the chat identity directory', () => {
  const dir = createHumanDirectory([
    { id: 'alice@example.com', groups: ['release'], slackUserId: 'UALICE' },
    { id: 'bob@example.com', groups: ['release'] },
    { id: 'twin@example.com', groups: [] },
    { id: 'Twin@example.com', groups: [] },
  ]);
  const code = (f: () => unknown) => {
    try {
      f();
      return 'ok';
    } catch (e) {
      return (e as { code: string }).code;
    }
  };

  it('maps an explicit id first, then an email case-insensitively; refuses unknown and ambiguous users', () => {
    expect(dir.resolve({ slackUserId: 'UALICE' }).id).toBe('alice@example.com');
    expect(dir.resolve({ slackUserId: 'UBOB', email: 'BOB@example.com' }).id).toBe('bob@example.com');
    expect(code(() => dir.resolve({ slackUserId: 'UX', email: 'nobody@example.com' }))).toBe('CHAT_USER_UNKNOWN');
    expect(code(() => dir.resolve({ slackUserId: 'UX' }))).toBe('CHAT_USER_UNKNOWN');
    expect(code(() => dir.resolve({ slackUserId: 'UT', email: 'twin@example.com' }))).toBe('CHAT_USER_AMBIGUOUS');
  });

  it('does not let an email claim a human whose explicit mapping names another chat user', () => {
    expect(code(() => dir.resolve({ slackUserId: 'UMALLORY', email: 'alice@example.com' }))).toBe('CHAT_USER_UNKNOWN');
    // The explicit mapping is per chat: Teams may still map alice by email.
    expect(dir.resolve({ teamsAadObjectId: '0a1b2c3d-0000-4000-8000-000000000000', email: 'alice@example.com' }).id).toBe('alice@example.com');
  });
});
