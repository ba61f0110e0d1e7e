import { describe, expect, it } from 'vitest';
import { isAppError } from '../../../domain/errors.js';
import { slackSignature, verifySlackRequest } from './slack-signature.js';

const secret = '8f742231b10e8888abcd99yyyzzz85a5';
const now = 1_700_000_000_000;
const body = Buffer.from('payload=%7B%22type%22%3A%22block_actions%22%7D');
const ts = String(now / 1000);

function code(fn: () => void): string | undefined {
  try {
    fn();
  } catch (e) {
    if (isAppError(e)) return e.code;
    throw e;
  }
  return undefined;
}

describe('Slack request signatures (v0)', () => {
  it('matches the example in Slack\'s documentation', () => {
    // https://api.slack.com/authentication/verifying-requests-from-slack
    const raw = 'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
    expect(slackSignature(secret, '1531420618', raw)).toBe('v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503');
  });

  it('accepts a correctly signed, fresh request', () => {
    expect(code(() => verifySlackRequest({ signingSecret: secret, rawBody: body, timestamp: ts, signature: slackSignature(secret, ts, body), nowMs: now }))).toBeUndefined();
  });

  it('refuses a forged signature, a signature of another body, and a malformed one', () => {
    const forged = slackSignature('another-secret-of-16+', ts, body);
    expect(code(() => verifySlackRequest({ signingSecret: secret, rawBody: body, timestamp: ts, signature: forged, nowMs: now }))).toBe('SLACK_SIGNATURE_INVALID');
    const other = slackSignature(secret, ts, Buffer.from('payload=x'));
    expect(code(() => verifySlackRequest({ signingSecret: secret, rawBody: body, timestamp: ts, signature: other, nowMs: now }))).toBe('SLACK_SIGNATURE_INVALID');
    for (const bad of [undefined, '', 'v0=zz', 'v1=' + 'a'.repeat(64), ['v0=' + 'a'.repeat(64)]]) {
      expect(code(() => verifySlackRequest({ signingSecret: secret, rawBody: body, timestamp: ts, signature: bad, nowMs: now }))).toBe('SLACK_SIGNATURE_INVALID');
    }
  });

  it('refuses timestamps more than five minutes away, past or future, even when correctly signed', () => {
    for (const delta of [-301, 301, -3600, 86_400]) {
      const t = String(now / 1000 + delta);
      expect(code(() => verifySlackRequest({ signingSecret: secret, rawBody: body, timestamp: t, signature: slackSignature(secret, t, body), nowMs: now }))).toBe('SLACK_TIMESTAMP_INVALID');
    }
    for (const delta of [-300, 300]) {
      const t = String(now / 1000 + delta);
      expect(code(() => verifySlackRequest({ signingSecret: secret, rawBody: body, timestamp: t, signature: slackSignature(secret, t, body), nowMs: now }))).toBeUndefined();
    }
    for (const bad of [undefined, '', '12.5', '-1', 'abc']) {
      expect(code(() => verifySlackRequest({ signingSecret: secret, rawBody: body, timestamp: bad, signature: slackSignature(secret, String(bad), body), nowMs: now }))).toBe('SLACK_TIMESTAMP_INVALID');
    }
  });
});
