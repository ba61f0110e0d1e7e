import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createRedactor } from './domain/redact-secrets.js';
import { createLogger } from './logger.js';

const SECRET = 'tok_live_Wq8Zr2Kx7Pm4';

function capture(): { lines: string[]; stream: Writable } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  return { lines, stream };
}

describe('the logger', () => {
  it('removes a configured secret in any form from every line, which stays valid JSON', async () => {
    const { lines, stream } = capture();
    const log = createLogger('info', stream, createRedactor([SECRET]));
    const hex = Buffer.from(SECRET).toString('hex');
    const b64 = Buffer.from(`u:${SECRET}`).toString('base64');
    log.error({ err: new Error(`target said ${SECRET.toUpperCase()} and ${hex}`), note: b64 }, `echo ${encodeURIComponent(SECRET)}`);
    await new Promise((r) => setImmediate(r));
    expect(lines).toHaveLength(1);
    const line = lines[0]!;
    for (const form of [SECRET, SECRET.toUpperCase(), hex, b64.slice(4), encodeURIComponent(SECRET)]) expect(line).not.toContain(form);
    const parsed = JSON.parse(line) as { msg: string; err: { message: string } };
    expect(parsed.msg).toBe('echo [REDACTED]');
    expect(parsed.err.message).toBe('target said [REDACTED] and [REDACTED]');
  });

  it('still removes credentials by path', async () => {
    const { lines, stream } = capture();
    createLogger('info', stream).info({ headers: { authorization: 'Bearer abc' } }, 'x');
    await new Promise((r) => setImmediate(r));
    expect(JSON.parse(lines[0]!)).toMatchObject({ headers: { authorization: '[REDACTED]' } });
  });
});
