import { describe, expect, it } from 'vitest';
import { targetFacts } from './config-facts.js';
import { parseConfigText } from './load.js';

const config = (headers: string) =>
  parseConfigText(
    `agents: [{ id: bot, token: "0123456789abcdef0123", owner: o@example.com }]
humans: [{ id: o@example.com }]
targets: { api: { kind: http, baseUrl: https://api.example.com/v1, headers: ${headers} } }
`,
    '/etc/countersign.yaml',
    { API_TOKEN: 'api-secret-0123456789' },
  ).config;

describe('http target facts', () => {
  it('carry the content type the target injects, so policy reads the body by the label that is sent', () => {
    expect(targetFacts(config('{ Content-Type: "application/json", Authorization: "Bearer ${API_TOKEN}" }'), 'api')).toEqual({
      name: 'api',
      kind: 'http',
      host: 'api.example.com',
      labels: {},
      contentType: 'application/json',
    });
  });

  it('have no content type when the target injects none, and never carry other header values', () => {
    const facts = targetFacts(config('{ Authorization: "Bearer ${API_TOKEN}" }'), 'api');
    expect(facts).toEqual({ name: 'api', kind: 'http', host: 'api.example.com', labels: {} });
    expect(JSON.stringify(facts)).not.toContain('api-secret');
  });
});
