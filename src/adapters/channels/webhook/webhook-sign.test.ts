import { describe, expect, it } from 'vitest';
import { signWebhook, verifyWebhook, webhookKey } from './webhook-sign.js';

describe('Standard Webhooks signatures', () => {
  it('reproduces the specification\'s published test vector', () => {
    const key = webhookKey('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw');
    expect(signWebhook(key, 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, '{"test": 2432232314}')).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('verifies like a receiver: another body, id, secret or a stale timestamp fails', () => {
    const key = webhookKey('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw');
    const sig = signWebhook(key, 'msg_1', 1000, '{"a":1}');
    expect(verifyWebhook(key, { id: 'msg_1', timestamp: '1000', signature: `v1,bm9wZQ== ${sig}` }, '{"a":1}', 1000)).toBe(true);
    expect(verifyWebhook(key, { id: 'msg_1', timestamp: '1000', signature: sig }, '{"a":2}', 1000)).toBe(false);
    expect(verifyWebhook(key, { id: 'msg_2', timestamp: '1000', signature: sig }, '{"a":1}', 1000)).toBe(false);
    expect(verifyWebhook(webhookKey(`whsec_${Buffer.alloc(32, 7).toString('base64')}`), { id: 'msg_1', timestamp: '1000', signature: sig }, '{"a":1}', 1000)).toBe(false);
    expect(verifyWebhook(key, { id: 'msg_1', timestamp: '1000', signature: sig }, '{"a":1}', 1000 + 301)).toBe(false);
  });

  it('takes the key with or without its whsec_ prefix', () => {
    const b64 = 'MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    expect(webhookKey(b64)).toEqual(webhookKey(`whsec_${b64}`));
  });

  it('refuses a timestamp that is not all digits, even when the signature covers what it parses to', () => {
    const key = webhookKey('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw');
    const sig = signWebhook(key, 'msg_1', 1000, '{"a":1}');
    for (const timestamp of ['+1000', '1000.0', ' 1000']) expect(verifyWebhook(key, { id: 'msg_1', timestamp, signature: sig }, '{"a":1}', 1000), timestamp).toBe(false);
    // Number('1000x') is NaN, whose comparisons are all false: the format check is what refuses it.
    expect(verifyWebhook(key, { id: 'msg_1', timestamp: '1000x', signature: signWebhook(key, 'msg_1', NaN, '{"a":1}') }, '{"a":1}', 1000)).toBe(false);
    expect(verifyWebhook(key, { id: 'msg_1', timestamp: 'x1000', signature: signWebhook(key, 'msg_1', NaN, '{"a":1}') }, '{"a":1}', 1000)).toBe(false);
  });

  it('accepts a timestamp exactly at the tolerance, and only signatures of version v1', () => {
    const key = webhookKey('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw');
    const sig = signWebhook(key, 'msg_1', 1000, '{"a":1}');
    expect(verifyWebhook(key, { id: 'msg_1', timestamp: '1000', signature: sig }, '{"a":1}', 1300)).toBe(true);
    expect(verifyWebhook(key, { id: 'msg_1', timestamp: '1000', signature: sig }, '{"a":1}', 700)).toBe(true);
    expect(verifyWebhook(key, { id: 'msg_1', timestamp: '1000', signature: `v2,${sig.slice(3)}` }, '{"a":1}', 1000)).toBe(false);
    expect(verifyWebhook(key, { id: 'msg_1', timestamp: '1000', signature: `v2,${sig.slice(3)} ${sig}` }, '{"a":1}', 1000)).toBe(true);
  });

  it('refuses a secret too short to be a key', () => {
    expect(() => webhookKey('whsec_c2hvcnQ=')).toThrow(/24 bytes/);
  });
});
