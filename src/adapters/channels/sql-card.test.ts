import { describe, expect, it } from 'vitest';
import type { Action } from '../../client/types.js';
import type { ActionRecord } from '../../domain/action-record.js';
import { createAction } from '../../domain/lifecycle.js';
import { eventBody } from '../../domain/notify-feed.js';
import { reviewCard } from '../../domain/review-card.js';
import type { SqlFacts } from '../../domain/sql-facts.js';
import type { SqlPreview } from '../../domain/sql-preview.js';
import { formatAction } from '../../cli/action-format.js';
import { actionView } from '../../http/action-view.js';
import { slackMessage } from './slack/slack-blocks.js';
import { teamsCard } from './teams/teams-card.js';

const facts: SqlFacts = {
  statements: [{ type: 'update', tables: ['public.users'], writes: ['public.users'], where: true, limit: null, functions: ['lower'] }],
  types: ['update'],
  tables: ['public.users'],
  writes: ['public.users'],
  reads: [],
  readOnly: false,
  ddl: false,
  privilege: false,
  export: false,
  unbounded: false,
  dynamic: false,
  columns: ['public.users.email', 'public.users.id'],
};

const preview: SqlPreview = {
  mode: 'rollback',
  status: 'ok',
  statements: [
    {
      index: 0,
      type: 'update',
      rows: 3,
      columns: ['id', 'email'],
      before: [[1, 'A@EXAMPLE.COM'], [2, '***']],
      after: [[1, 'a@example.com'], [2, '***']],
      schemaChanges: [{ object: 'public.users.vat_id', change: 'added', detail: 'column vat_id text' }],
      privilegeChanges: [{ grantee: 'analyst', change: 'gains', privilege: 'SELECT', object: 'public.users' }],
      note: 'a trigger would fire',
    },
  ],
  summary: { rows: [3] },
  tookMs: 12,
};

function sqlAction(statement: string, extra: { preview?: SqlPreview; params?: unknown[] } = {}): ActionRecord {
  return createAction({
    id: 'act_0123456789ab',
    request: { kind: 'sql', target: 'billing-db', input: { statement, ...(extra.params ? { params: extra.params } : {}) } },
    requester: { id: 'bot', type: 'agent', owner: 'owner@example.com' },
    decision: { outcome: 'review', rules: ['db-writes'], policyVersion: 'sha256:p', reason: 'writes', requirements: [{ ruleId: 'db-writes', approvers: ['group:dba'], quorum: 1, timeoutMs: 60_000 }] },
    now: new Date('2030-01-01T00:00:00Z'),
    facts: { sql: facts },
    ...(extra.preview ? { preview: { preview: extra.preview, drift: { kind: 'percent', value: 10 } } } : {}),
  }).next;
}

const STATEMENT = 'UPDATE users SET email = lower(email) WHERE id = ANY($1)';

describe('review cards for sql actions', () => {
  it('show the summary, the statement, params, facts and the preview, on the shared card', () => {
    const card = reviewCard(sqlAction(STATEMENT, { preview, params: [[1, 2, 3]] }), 'https://cs.example.com');
    expect(card.title).toBe('update on billing-db: writes public.users');
    expect(card.bodyLabel).toBe('Statement');
    expect(card.body?.text).toBe(STATEMENT);
    const sections = Object.fromEntries((card.sections ?? []).map((s) => [s.heading, s.text]));
    expect(sections.Params).toBe('$1 = [1,2,3]');
    expect(sections['What policy saw']).toContain('types: update');
    expect(sections['What policy saw']).toContain('writes: public.users');
    expect(sections.Preview).toContain('#1 update: 3 rows');
    expect(sections.Preview).toContain('before: [1,"A@EXAMPLE.COM"]');
    expect(sections.Preview).toContain('after: [1,"a@example.com"]');
    expect(sections.Preview).toContain('schema: added public.users.vat_id (column vat_id text)');
    expect(sections.Preview).toContain('privilege: analyst gains SELECT on public.users');
    expect(sections.Preview).toContain('note: a trigger would fire');
  });

  it('say why there is no preview when it was skipped or failed', () => {
    const skipped: SqlPreview = { mode: 'rollback', status: 'skipped', reason: 'CREATE INDEX CONCURRENTLY cannot run in a transaction', statements: [], summary: { rows: [] }, tookMs: 0 };
    const card = reviewCard(sqlAction('CREATE INDEX CONCURRENTLY i ON t (a)', { preview: skipped }), 'https://x');
    expect(card.sections?.find((s) => s.heading === 'Preview')?.text).toBe('rollback preview: skipped (CREATE INDEX CONCURRENTLY cannot run in a transaction), 0 ms');
  });

  it('render on Slack and Teams with agent text escaped, and a long statement cut visibly', () => {
    const hostile = `SELECT '<!channel> \`\`\` *bold*' -- \u202e\n${'x'.repeat(5000)}; DROP TABLE x`;
    const card = reviewCard(sqlAction(hostile, { preview }), 'https://cs.example.com');
    expect(card.body?.truncated).toBe(true);
    const slack = JSON.stringify(slackMessage(card).blocks);
    expect(slack).toContain('*Statement* (truncated: <https://cs.example.com/v1/actions/act_0123456789ab|full detail>)');
    expect(slack).not.toContain('<!channel>');
    expect(slack).toContain('&lt;!channel&gt;');
    expect(slack).not.toContain('DROP TABLE x');
    expect(slack).toContain('\\\\u202e');
    expect(slack).toContain('*Preview*');
    const teams = JSON.stringify(teamsCard(card));
    expect(teams).toContain('Statement (truncated: see Full detail)');
    expect(teams).toContain('#1 update: 3 rows');
  });

  it('appear in the API view and the CLI show output', () => {
    const a = sqlAction(STATEMENT, { preview, params: [[1, 2]] });
    const view = actionView(a, 'https://cs.example.com') as unknown as Action;
    expect(view).toMatchObject({ facts: { sql: { types: ['update'] } }, preview: { summary: { rows: [3] } }, drift: { kind: 'percent', value: 10 } });
    const text = formatAction(view);
    expect(text).toContain('will run:    update on billing-db: writes public.users');
    expect(text).toContain(`    ${STATEMENT}`);
    expect(text).toContain('    $1 = [1,2]');
    expect(text).toContain('    #1 update: 3 rows');
    expect(text).toContain('drift:       up to 10% more or fewer rows');
  });

  it('send webhooks the statement, facts and preview figures, without params or sample rows', () => {
    const a = sqlAction(STATEMENT, { preview, params: ['secret-param-value'] });
    const body = eventBody('action.pending', { seq: 3, ts: a.createdAt, type: 'action.decided', data: {} }, a, 'https://cs.example.com');
    const data = body.data as Record<string, unknown>;
    expect(data.operation).toEqual({
      statement: STATEMENT,
      params: 1,
      facts: { types: ['update'], tables: ['public.users'], writes: ['public.users'], readOnly: false, ddl: false, privilege: false, export: false, unbounded: false, dynamic: false },
      preview: { mode: 'rollback', status: 'ok', rows: [3] },
    });
    expect(JSON.stringify(body)).not.toContain('secret-param-value');
    expect(JSON.stringify(body)).not.toContain('A@EXAMPLE.COM');
  });
});
