import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { Gateway } from '../../src/app/main.js';
import { startGateway } from '../../src/app/main.js';
import { createClient } from '../../src/client/client.js';
import type { CountersignClient } from '../../src/client/client.js';
import { loadConfig } from '../../src/config/load.js';
import { envFor, tokens } from './harness.js';
import type { Tokens } from './harness.js';

/*
 * Issue 17's end-to-end fixtures: three http targets on one recording server, and a
 * policy with a counter, a first-time trigger, a time-of-day trigger, a shadow rule
 * and a rule whose approvals may grant.
 */

export const REVIEWS_POLICY = `
default: { outcome: allow }
counters:
  deploys: { match: { kind: http, target: github }, when: 'http.method == "POST"', by: [agent], window: 1h }
rules:
  - id: deploy-burst
    match: { kind: http, target: github }
    when: http.method == "POST" && counters.deploys >= 5
    outcome: review
    review: { approvers: [group:release], quorum: 1, timeout: 2h }
  - id: releases
    match: { kind: http, target: github }
    when: http.method == "PUT"
    outcome: review
    review: { approvers: [group:release], quorum: 2, timeout: 2h, grants: { maxTtl: 1h, maxUses: 3, scope: [agent, target, http.method, http.path] } }
  - id: first-time-target
    match: { kind: http, target: fresh }
    when: history.firstTime(requester.id, action.target)
    outcome: review
    review: { approvers: [group:release], quorum: 1, timeout: 2h }
  - id: night-changes
    match: { kind: http, target: night }
    when: now.hour("Europe/Berlin") < 7 && http.method != "GET"
    outcome: review
    review: { approvers: [group:oncall], quorum: 1, timeout: 2h }
  - id: no-deletes-soon
    mode: shadow
    match: { kind: http, target: night }
    when: http.method == "DELETE"
    outcome: deny
    reason: deletes will be refused from next week
`;

export function reviewsConfig(targetUrl: string): string {
  const t = (name: string) => `  ${name}: { kind: http, baseUrl: "${targetUrl}/${name}", timeout: 60s }`;
  return `listen: 127.0.0.1:0
store: { sqlite: ./countersign.db }
policy: ./policy.yaml
agents:
  - { id: deploy-bot, token: "\${T_AGENT}", owner: carol@example.com }
  - { id: other-bot, token: "\${T_OTHER}", owner: olga@example.com }
humans:
  - { id: alice@example.com, groups: [release], token: "\${T_ALICE}" }
  - { id: bob@example.com, groups: [release, oncall], token: "\${T_BOB}" }
  - { id: carol@example.com, groups: [release, admin], token: "\${T_CAROL}" }
  - { id: dave@example.com, groups: [release], token: "\${T_DAVE}" }
  - { id: olga@example.com, groups: [oncall], token: "\${T_OLGA}" }
  - { id: eve@example.com, groups: [marketing], token: "\${T_EVE}" }
targets:
${t('github')}
${t('fresh')}
${t('night')}
scheduler: { intervalMs: 100 }
log: { level: info }
`;
}

export interface ReviewsWorkspace {
  dir: string;
  configPath: string;
  policyPath: string;
  tokens: Tokens;
  env: NodeJS.ProcessEnv;
  cleanup(): void;
}

export function reviewsWorkspace(targetUrl: string, policy = REVIEWS_POLICY): ReviewsWorkspace {
  const dir = mkdtempSync(join(tmpdir(), 'countersign-reviews-'));
  const t = tokens();
  const configPath = join(dir, 'countersign.yaml');
  const policyPath = join(dir, 'policy.yaml');
  writeFileSync(configPath, reviewsConfig(targetUrl));
  writeFileSync(policyPath, policy);
  return { dir, configPath, policyPath, tokens: t, env: envFor(t), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A clock the test moves (the gateway's Clock port). */
export function testClock(startIso: string): { now(): Date; set(iso: string): void; advance(ms: number): void } {
  let ms = Date.parse(startIso);
  return { now: () => new Date(ms), set: (iso) => void (ms = Date.parse(iso)), advance: (d) => void (ms += d) };
}

/** The gateway in this process, on a real port, with the test's clock. */
export async function startInProcess(ws: ReviewsWorkspace, clock: { now(): Date }): Promise<{ gw: Gateway; client(token: string): CountersignClient }> {
  const gw = await startGateway(loadConfig(ws.configPath, { ...process.env, ...ws.env }), { clock, logger: pino({ level: 'silent' }) });
  return { gw, client: (token) => createClient({ url: gw.url, token }) };
}
