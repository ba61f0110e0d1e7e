import { describe, expect, it } from 'vitest';
import { isAppError } from '../../../domain/errors.js';
import { slackSignature, verifySlackRequest } from './slack-signature.js';

// Edges the mutation campaign found unpinned: anchors of the header formats, repeated
// headers (arrays), and the messages a caller is told.
const secret = 'slack-signing-secret-for-tests';
const body = Buffer.from('payload=%7B%7D');
const now = 1_800_000_000_000;
const ts = String(now / 1000);
const good = slackSignature(secret, ts, body);

function refusal(timestamp: string | string[] | undefined, signature: string | string[] | undefined): { code: string; message: string } | 'accepted' {
  try {
    verifySlackRequest({ signingSecret: secret, rawBody: body, timestamp, signature, nowMs: now });
    return 'accepted';
  } catch (e) {
    if (isAppError(e)) return { code: e.code, message: e.message };
    throw e;
  }
}

describe('Slack request verification, edges', () => {
  it('accepts the genuine request', () => {
    expect(refusal(ts, good)).toBe('accepted');
  });

  it('refuses a timestamp with anything before or after its digits, or sent twice, saying it is malformed', () => {
    for (const t of [`x${ts}`, `${ts}x`, ` ${ts}`, [ts], [ts, ts]]) {
      expect(refusal(t, good)).toEqual({ code: 'SLACK_TIMESTAMP_INVALID', message: 'Missing or malformed X-Slack-Request-Timestamp' });
    }
  });

  it('says a stale timestamp is too far from now', () => {
    expect(refusal(String(now / 1000 - 301), good)).toEqual({ code: 'SLACK_TIMESTAMP_INVALID', message: 'X-Slack-Request-Timestamp is more than 5 minutes from now' });
  });

  it('refuses a signature with anything before or after it, or sent twice, saying it is malformed', () => {
    for (const s of [`x${good}`, `${good}0`, `${good}\n`, [good], [good, good]]) {
      expect(refusal(ts, s)).toEqual({ code: 'SLACK_SIGNATURE_INVALID', message: 'Missing or malformed X-Slack-Signature' });
    }
  });
});
