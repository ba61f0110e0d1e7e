import { describe, expect, it } from 'vitest';
import type { ActionRecord } from './action-record.js';
import { eventBody } from './notify-feed.js';
import { actionLink, reviewCard } from './review-card.js';

const action = {
  id: 'act_0123456789abcdef',
  kind: 'http',
  target: 'github',
  input: { method: 'PUT', path: '/deploys/1' },
  mode: 'execute',
  requester: { id: 'deploy-bot', type: 'agent', owner: 'carol@example.com' },
  fingerprint: `sha256:${'a'.repeat(64)}`,
  status: 'pending',
  decision: { outcome: 'review', rules: ['deploys'], policyVersion: 'sha256:x', reason: 'review' },
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
  version: 1,
} as unknown as ActionRecord;

describe('links to an action', () => {
  it('chat cards link to the console\'s detail page when the console is on, else to the API', () => {
    expect(actionLink('https://cs.example.com/', action.id, true)).toBe('https://cs.example.com/console/actions/act_0123456789abcdef');
    expect(reviewCard(action, 'https://cs.example.com', { consoleLinks: true }).link).toBe('https://cs.example.com/console/actions/act_0123456789abcdef');
    expect(reviewCard(action, 'https://cs.example.com').link).toBe('https://cs.example.com/v1/actions/act_0123456789abcdef');
  });

  it('webhook events keep the API link and add the console link when the console is on', () => {
    const entry = { seq: 4, ts: action.createdAt, type: 'action.decided' as const, data: {} };
    expect(eventBody('action.pending', entry, action, 'https://cs.example.com', true).data).toMatchObject({
      link: 'https://cs.example.com/v1/actions/act_0123456789abcdef',
      consoleLink: 'https://cs.example.com/console/actions/act_0123456789abcdef',
    });
    expect(eventBody('action.pending', entry, action, 'https://cs.example.com').data).not.toHaveProperty('consoleLink');
  });
});
