import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../src/domain/errors.js';
import type { Action } from '../../src/client/types.js';
import { blockAction, denySubmission, signedInteraction } from '../fakes/slack-fake.js';
import { AAD, CHANNEL, CONVERSATION, SLACK, TEAM, TENANT, TEAMS_USER, slackPost, submitRelease, teamsCard, useChannelServer } from './channels-harness.js';

// Properties of the Slack and Teams callbacks under mutated input, through the real
// gateway with the fakes' real signatures and tokens: never a 5xx, never a dropped
// connection; every HTTP refusal has a code of the catalog with its documented status
// and changes nothing (the audit log keeps its size); a callback whose signature or
// token does not cover it exactly is refused as unauthenticated, whatever it says.

const ctx = useChannelServer();
const RUNS = Number(process.env.COUNTERSIGN_FUZZ_RUNS ?? 150);
const SEED = process.env.COUNTERSIGN_FUZZ_SEED ? { seed: Number(process.env.COUNTERSIGN_FUZZ_SEED) } : {};

const json = fc.jsonValue({ maxDepth: 3 });
const hostile = fc.constantFrom<unknown>(null, '', '\u0000', '\ud800', 'a'.repeat(5_000), -1, 1e308, [], {}, { __proto__: null }, '__proto__', [[[[[]]]]], true);

/** A copy of `value` with one part (at a path chosen by `steps`) replaced, removed or wrapped. */
function mutateAt(value: unknown, steps: number[], how: 'replace' | 'delete' | 'wrap' | 'keep', other: unknown): unknown {
  if (how === 'keep' || typeof value !== 'object' || value === null) return how === 'replace' ? other : value;
  const copy = structuredClone(value) as Record<string, unknown>;
  let node = copy;
  let key: string | undefined;
  for (const step of steps) {
    const keys = Object.keys(node);
    if (keys.length === 0) break;
    key = keys[step % keys.length]!;
    const next = node[key];
    if (typeof next !== 'object' || next === null || step % 3 === 0) break;
    node = next as Record<string, unknown>;
    key = undefined;
  }
  key ??= Object.keys(node)[0] ?? 'x';
  if (how === 'delete') delete node[key];
  else if (how === 'wrap') node[key] = [node[key], other];
  else node[key] = other;
  return copy;
}

const mutation = fc.record({
  steps: fc.array(fc.nat(50), { minLength: 1, maxLength: 5 }),
  how: fc.constantFrom<'replace' | 'delete' | 'wrap' | 'keep'>('replace', 'delete', 'wrap', 'keep'),
  other: fc.oneof(json, hostile),
});

async function auditSize(): Promise<number> {
  const res = await fetch(`${ctx.server.url}/v1/audit/entries?start=0&end=0`, { headers: { authorization: `Bearer ${ctx.ws.tokens.carol}` } });
  return ((await res.json()) as { size: number }).size;
}

/** Posts and checks what every answer must satisfy; returns the status and the parsed body. */
async function post(path: string, headers: Record<string, string>, body: string) {
  const res = await fetch(`${ctx.server.url}${path}`, { method: 'POST', headers, body, signal: AbortSignal.timeout(15_000) });
  const text = await res.text();
  expect(res.status, text).toBeLessThan(500);
  let parsed: { error?: { code?: string } } | undefined;
  try {
    parsed = text ? (JSON.parse(text) as typeof parsed) : undefined;
  } catch {
    parsed = undefined;
  }
  if (res.status >= 400) {
    const code = parsed?.error?.code as keyof typeof ERROR_CODES;
    expect(Object.keys(ERROR_CODES), text).toContain(code);
    expect(res.status, text).toBe(ERROR_CODES[code].status);
  }
  return { status: res.status, code: parsed?.error?.code, text };
}

let action: Action;
let slackTs: string;
let approveValue: string;
let forged: string;
beforeAll(async () => {
  forged = await ctx.teams.forgedToken(); // a new RSA key each call: once is enough
  // A release needs two approvals: a mutated callback that still approves leaves it pending.
  action = await submitRelease(ctx);
  const m = await slackPost(ctx, action.id);
  slackTs = m.ts;
  approveValue = ctx.slack.buttons(m).find((b) => b.action_id === 'countersign_approve')!.value;
  await teamsCard(ctx, action.id);
});

// Mutations of callbacks from humans who may not decide this action (carol owns the agent, so
// her approval is self-approval; the stranger maps to nobody): whatever a mutant says, nothing
// may be recorded, now (a refused request) or later (Slack's work after the 3 s ack).
const slackPayloads = () => [
  blockAction({ team: TEAM, user: SLACK.carol, channel: CHANNEL, messageTs: slackTs, actionId: 'countersign_approve', value: approveValue }),
  blockAction({ team: TEAM, user: SLACK.stranger, channel: CHANNEL, messageTs: slackTs, actionId: 'countersign_deny', value: approveValue }),
  denySubmission({ team: TEAM, user: SLACK.stranger, view: { callback_id: 'countersign_deny', private_metadata: approveValue }, reason: 'no' }),
];

describe('Slack interactions under fuzzed input', () => {
  let baseline = 0;
  it('a mutated payload, signed as Slack signs it: never 5xx, a documented code, and nothing recorded', async () => {
    baseline = await auditSize();
    await fc.assert(
      fc.asyncProperty(fc.nat(2), mutation, fc.boolean(), async (which, m, raw) => {
        const payload = mutateAt(slackPayloads()[which], m.steps, m.how, m.other);
        // Either a form body whose payload is the mutated JSON, or mutated bytes as the whole body.
        const signed = raw
          ? signRaw(typeof m.other === 'string' ? m.other : JSON.stringify(payload) ?? '')
          : signedInteraction(payload as Record<string, unknown>, ctx.secrets.slackSigning);
        const r = await post('/integrations/slack/interactions', signed.headers, signed.body);
        expect(await auditSize(), r.text).toBe(baseline);
      }),
      { numRuns: RUNS, ...SEED },
    );
  }, 300_000);

  it('a valid interaction whose body, signature or timestamp was changed after signing is refused as unauthenticated and changes nothing', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.nat(2),
        fc.constantFrom('body', 'signature', 'timestamp', 'drop-signature', 'drop-timestamp', 'old', 'secret'),
        fc.nat(10_000),
        fc.string({ minLength: 1, maxLength: 8 }),
        async (which, where, at, junk) => {
          const payload = slackPayloads()[which]!;
          let signed = signedInteraction(payload, ctx.secrets.slackSigning);
          const headers = { ...signed.headers };
          let body = signed.body;
          if (where === 'body') {
            const i = at % (body.length + 1);
            body = body.slice(0, i) + junk + body.slice(i);
          } else if (where === 'signature') headers['x-slack-signature'] = flipHex(headers['x-slack-signature'], at);
          else if (where === 'timestamp') headers['x-slack-request-timestamp'] = String(Number(headers['x-slack-request-timestamp']) + 1 + (at % 100));
          else if (where === 'drop-signature') delete (headers as Record<string, string>)['x-slack-signature'];
          else if (where === 'drop-timestamp') delete (headers as Record<string, string>)['x-slack-request-timestamp'];
          else if (where === 'old') {
            signed = signedInteraction(payload, ctx.secrets.slackSigning, Math.floor(Date.now() / 1000) - 301 - at);
            Object.assign(headers, signed.headers);
            body = signed.body;
          } else {
            signed = signedInteraction(payload, `${ctx.secrets.slackSigning}${junk}`);
            Object.assign(headers, signed.headers);
            body = signed.body;
          }
          const before = await auditSize();
          const r = await post('/integrations/slack/interactions', headers, body);
          expect(r.status, r.text).toBe(401);
          expect(['SLACK_SIGNATURE_INVALID', 'SLACK_TIMESTAMP_INVALID'], r.text).toContain(r.code);
          expect(await auditSize(), r.text).toBe(before);
        },
      ),
      { numRuns: RUNS, ...SEED },
    );
  }, 300_000);

  it('and the work Slack callbacks started after their acknowledgement recorded nothing either', async () => {
    // Every mutant above came from a human who may not decide, or was refused before any work began;
    // the tamper property ran in between, long after those background tasks.
    expect(await auditSize()).toBe(baseline);
  });
});

describe('Teams invokes under fuzzed input', () => {
  const invoke = (verb: string) =>
    ctx.teams.invoke({ verb, data: { actionId: action.id, fingerprint: action.fingerprint }, aadObjectId: AAD.bob, userId: TEAMS_USER.dave, tenantId: TENANT, conversationId: CONVERSATION });

  it('a mutated activity with a valid Bot Connector token: never 5xx, a documented code, and an HTTP refusal changes nothing', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('countersign.approve', 'countersign.deny', 'other'), mutation, fc.boolean(), async (verb, m, rawBytes) => {
        const activity = mutateAt(invoke(verb), m.steps, m.how, m.other);
        const body = rawBytes && typeof m.other === 'string' ? m.other : (JSON.stringify(activity) ?? '');
        const before = await auditSize();
        const r = await post('/integrations/teams/messages', { 'content-type': 'application/json', authorization: `Bearer ${await ctx.teams.token()}` }, body);
        if (r.status >= 400) expect(await auditSize(), r.text).toBe(before);
      }),
      { numRuns: RUNS, ...SEED },
    );
  }, 300_000);

  it('a valid activity with a missing, mutated or foreign token is refused as unauthenticated and changes nothing', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('none', 'flip', 'truncate', 'scheme', 'forged', 'junk'), fc.nat(100_000), fc.string({ maxLength: 40 }), async (how, at, junk) => {
        const token = await ctx.teams.token();
        const headers: Record<string, string> = { 'content-type': 'application/json' };
        if (how === 'flip') headers.authorization = `Bearer ${flipBase64url(token, at)}`;
        else if (how === 'truncate') headers.authorization = `Bearer ${token.slice(0, at % token.length)}`;
        else if (how === 'scheme') headers.authorization = `Basic ${token}`;
        else if (how === 'forged') headers.authorization = `Bearer ${forged}`;
        else if (how === 'junk') headers.authorization = `Bearer ${junk}`;
        const before = await auditSize();
        const r = await post('/integrations/teams/messages', headers, JSON.stringify(invoke('countersign.approve')));
        expect(r.status, r.text).toBe(401);
        expect(r.code, r.text).toBe('TEAMS_UNAUTHENTICATED');
        expect(await auditSize(), r.text).toBe(before);
      }),
      { numRuns: RUNS, ...SEED },
    );
  }, 300_000);

  it('after all of it no human has approved twice, and the gateway still answers', async () => {
    const after = await ctx.server.client(ctx.ws.tokens.alice).get(action.id);
    // Refused callbacks recorded nothing; accepted mutants can only be alice (Slack) or bob (Teams) approving,
    // or a deny: never a second approval from the same human.
    const approvers = (after.review?.reviews ?? []).filter((r) => r.verdict === 'approve').map((r) => r.reviewer);
    expect(new Set(approvers).size).toBe(approvers.length);
    expect((await fetch(`${ctx.server.url}/healthz`)).status).toBe(200);
  });
});

function signRaw(body: string) {
  const timestamp = Math.floor(Date.now() / 1000);
  const signature = `v0=${createHmac('sha256', ctx.secrets.slackSigning).update(`v0:${timestamp}:${body}`).digest('hex')}`;
  return { body, headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': String(timestamp), 'x-slack-signature': signature } };
}

/** The signature with one hex digit changed (always a different digit). */
function flipHex(sig: string, at: number): string {
  const i = 3 + (at % (sig.length - 3));
  const c = sig[i]!;
  return sig.slice(0, i) + (c === '0' ? '1' : '0') + sig.slice(i + 1);
}

/** The token with one base64url character changed, anywhere (header, claims or signature). */
function flipBase64url(token: string, at: number): string {
  const positions = [...token].map((c, i) => (c === '.' ? -1 : i)).filter((i) => i >= 0);
  const i = positions[at % positions.length]!;
  // Changing the last character of a segment can leave its decoded bytes unchanged (unused low bits): pick a
  // replacement that differs in the high bits too.
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  return token.slice(0, i) + (alphabet.indexOf(token[i]!) < 32 ? 'g' : 'A') + token.slice(i + 1);
}
