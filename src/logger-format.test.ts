import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createRedactor } from './domain/redact-secrets.js';
import { createLogger, prettyLogs, prettyStream } from './logger.js';

const SECRET = 'tok_live_Wq8Zr2Kx7Pm4';

function sink(): { text: () => string; stream: Writable } {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      text += chunk.toString();
      done();
    },
  });
  return { text: () => text, stream };
}

describe('log formats', () => {
  it('auto is pretty at a terminal and JSON anywhere else; json and pretty are what they say', () => {
    expect(prettyLogs('auto', true)).toBe(true);
    expect(prettyLogs('auto', false)).toBe(false);
    expect(prettyLogs('json', true)).toBe(false);
    expect(prettyLogs('pretty', false)).toBe(true);
  });

  it('pretty lines are readable, not JSON, and carry no secret, by name or by value', async () => {
    const out = sink();
    const log = createLogger('info', prettyStream(out.stream), createRedactor([SECRET]));
    log.info({ actionId: 'act_1', headers: { authorization: `Bearer ${SECRET}` } }, `policy loaded; the target echoed ${SECRET}`);
    await new Promise((r) => setImmediate(r));
    const text = out.text();
    expect(text).toMatch(/INFO.*policy loaded; the target echoed/);
    expect(text).toContain('actionId: "act_1"');
    expect(text).not.toContain(SECRET);
    expect(text).toContain('[REDACTED]');
    expect(() => JSON.parse(text) as unknown).toThrow();
  });
});
