import { describe, expect, it } from 'vitest';
import type { Action } from '../../client/types.js';
import type { ActionRecord } from '../../domain/action-record.js';
import { checkCommandInput } from '../../domain/command-input.js';
import { PRESETS } from '../../domain/command-preset.js';
import type { CommandPreview } from '../../domain/command-preview.js';
import { commandOutputHash } from '../../domain/command-preview.js';
import { createAction } from '../../domain/lifecycle.js';
import { eventBody } from '../../domain/notify-feed.js';
import { reviewCard } from '../../domain/review-card.js';
import { formatAction } from '../../cli/action-format.js';
import { actionView } from '../../http/action-view.js';
import { slackMessage } from './slack/slack-blocks.js';
import { teamsCard } from './teams/teams-card.js';

const ARGV = ['kubectl', 'scale', 'deploy/web', '--replicas=0', '-n', 'shop'];
const output = { exitCode: 0, stdout: 'apiVersion: apps/v1\nkind: Deployment\nspec:\n  replicas: 0\n', stderr: '' };
const preview: CommandPreview = { mode: 'command', status: 'ok', argv: [...ARGV, '--dry-run=server', '-o', 'yaml'], ...output, truncated: false, outputHash: commandOutputHash(output), tookMs: 40 };

function commandAction(argv: string[] = ARGV, p: CommandPreview | undefined = preview): ActionRecord {
  const input = { argv };
  const { facts } = checkCommandInput(input, { programs: new Map([['kubectl', PRESETS.kubectl]]), maxStdinBytes: 1024, maxFilesBytes: 1024 });
  return createAction({
    id: 'act_0123456789ab',
    request: { kind: 'command', target: 'prod-k8s', input },
    requester: { id: 'bot', type: 'agent', owner: 'owner@example.com' },
    decision: { outcome: 'review', rules: ['k8s-changes'], policyVersion: 'sha256:p', reason: 'changes', requirements: [{ ruleId: 'k8s-changes', approvers: ['group:oncall'], quorum: 1, timeoutMs: 60_000 }] },
    now: new Date('2030-01-01T00:00:00Z'),
    facts: { command: facts },
    ...(p ? { preview: { preview: p } } : {}),
  }).next;
}

describe('review cards for command actions', () => {
  it('show the summary, the exact argv, the facts policy saw and the dry run with its output hash', () => {
    const card = reviewCard(commandAction(), 'https://cs.example.com');
    expect(card.title).toBe('kubectl scale deployments/web in shop on prod-k8s');
    expect(card.bodyLabel).toBe('Command');
    expect(card.body?.text).toBe('kubectl scale deploy/web --replicas=0 -n shop');
    const sections = Object.fromEntries((card.sections ?? []).map((s) => [s.heading, s.text]));
    expect(sections['What policy saw']).toContain('namespace: shop');
    expect(sections['What policy saw']).toContain('flags: replicas=0 namespace=shop');
    expect(sections.Preview).toContain('preview ok (exit 0)');
    expect(sections.Preview).toContain(`output ${preview.outputHash}`);
    expect(sections.Preview).toContain('  replicas: 0');
  });

  it('render on Slack and Teams with the preview, and quote an argument with spaces so boundaries show', () => {
    const card = reviewCard(commandAction(['kubectl', 'annotate', 'deploy/web', 'note=a b <!channel>', '-n', 'shop']), 'https://cs.example.com');
    expect(card.body?.text).toBe("kubectl annotate deploy/web 'note=a b <!channel>' -n shop");
    const slack = JSON.stringify(slackMessage(card).blocks);
    expect(slack).toContain('*Preview*');
    expect(slack).not.toContain('<!channel>');
    expect(JSON.stringify(teamsCard(card))).toContain(preview.outputHash);
  });

  it('say on the API and the CLI what the reviewers see, and hide the dry run\'s output from the agent', () => {
    const a = commandAction();
    const forAgent = actionView(a, 'https://x', { type: 'agent', id: 'bot', owner: 'owner@example.com', labels: {} }) as unknown as Action;
    expect(forAgent.preview).toMatchObject({ mode: 'command', stdout: '', outputHidden: true, outputHash: preview.outputHash });
    const forReviewer = actionView(a, 'https://x', { type: 'human', id: 'rita@example.com', groups: ['oncall'] }) as unknown as Action;
    const text = formatAction(forReviewer);
    expect(text).toContain('will run:    kubectl scale deployments/web in shop on prod-k8s');
    expect(text).toContain('kind: Deployment');
    expect(text).toContain(preview.outputHash);
  });

  it('send webhooks the argv, facts and preview hash, without the preview\'s output', () => {
    const a = commandAction();
    const body = eventBody('action.pending', { seq: 3, ts: a.createdAt, type: 'action.decided', data: {} }, a, 'https://cs.example.com');
    const op = (body.data as { operation: Record<string, unknown> }).operation;
    expect(op).toMatchObject({ argv: 'kubectl scale deploy/web --replicas=0 -n shop', facts: { verb: 'scale', resource: 'deployments', name: 'web', namespace: 'shop' }, preview: { status: 'ok', exitCode: 0, outputHash: preview.outputHash } });
    expect(JSON.stringify(body)).not.toContain('kind: Deployment');
  });
});
