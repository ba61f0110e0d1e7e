import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hookDecisionOf, postHook } from './claude-code-hook-http.js';
import { useServer } from './harness.js';

// Property: whatever reaches the Claude Code hook route, the answer is HTTP 200 with a
// decision in Claude Code's hook shape; a refusal is a deny naming its code, and only a
// well-formed, authenticated Read (the one tool policy allows here) is ever allowed.

const POLICY = `
default: { outcome: deny }
rules:
  - id: reads
    match: { kind: tool, target: claude-code }
    when: tool.name == "Read"
    outcome: allow
`;

const LIMIT = 1024 * 1024;

/** A case: the bytes, how they are labelled and sent, and whether it is a well-formed authenticated Read. */
interface Case {
  body: Buffer;
  type: string | undefined;
  auth: 'valid' | 'none' | 'wrong' | 'basic';
  chunked: boolean;
  wellFormedRead: boolean;
}

const hookInput = fc.record(
  {
    tool_name: fc.oneof(fc.constantFrom('Read', 'Write', 'Bash', 'Edit'), fc.string({ maxLength: 300, unit: 'binary' })),
    tool_input: fc.oneof({ weight: 4, arbitrary: fc.dictionary(fc.string({ unit: 'binary' }), fc.jsonValue({ maxDepth: 4 }), { maxKeys: 6 }) }, fc.jsonValue({ maxDepth: 2 })),
    hook_event_name: fc.constantFrom('PreToolUse', 'PostToolUse', 7),
    session_id: fc.oneof(fc.string(), fc.integer()),
    cwd: fc.constantFrom('/Users/dev/project', 'relative/dir', '/a/../b', 3),
  },
  { requiredKeys: ['tool_name', 'tool_input'] },
);

/** JSON text of a hook input (valid or not as an input), or mangled JSON. */
const jsonText = fc.oneof(
  { weight: 6, arbitrary: hookInput.map((h) => JSON.stringify(h)) },
  // plain Reads (which policy allows) and Writes (which it denies)
  { weight: 3, arbitrary: fc.record({ tool_name: fc.constantFrom('Read', 'Write'), tool_input: fc.record({ file_path: fc.string(), limit: fc.nat() }), cwd: fc.constant('/Users/dev/project') }).map((h) => JSON.stringify(h)) },
  // malformed: cut short, or a byte replaced
  { weight: 2, arbitrary: fc.tuple(hookInput.map((h) => JSON.stringify(h)), fc.nat(), fc.string({ minLength: 1, maxLength: 1, unit: 'binary' })).map(([t, i, c]) => (i % 2 ? t.slice(0, i % t.length) : t.slice(0, i % t.length) + c + t.slice((i % t.length) + 1))) },
  // numbers JSON.parse turns into something else
  { weight: 1, arbitrary: fc.constantFrom('1e400', '-1e400', '1e-400', '123456789012345678901234567890', '-0', '0.1e999999').map((n) => `{"tool_name":"Read","tool_input":{"n":${n}}}`) },
  // deep nesting, inside and outside the input
  { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 1, max: 200_000 }), fc.boolean()).map(([n, inside]) => (inside ? `{"tool_name":"Read","tool_input":{"a":${'['.repeat(n)}${']'.repeat(n)}}}` : `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`)) },
  // around the body limit
  { weight: 1, arbitrary: fc.integer({ min: -300, max: 300 }).map((d) => `{"tool_name":"Read","tool_input":{"file_path":"/x","content":"${'c'.repeat(LIMIT - 60 + d)}"}}`) },
  { weight: 1, arbitrary: fc.constantFrom('', ' ', 'null', '[]', '"Read"', '{}', '{"__proto__":{"tool_name":"Read"}}', '{"tool_name":"Read","tool_input":{"constructor":{"prototype":{}}}}') },
);

const encoded = fc.oneof(
  { weight: 6, arbitrary: jsonText.map((t) => ({ body: Buffer.from(t, 'utf8'), utf8: true, text: t })) },
  { weight: 1, arbitrary: jsonText.map((t) => ({ body: Buffer.from(t, 'utf16le'), utf8: false, text: t })) },
  { weight: 1, arbitrary: jsonText.map((t) => ({ body: Buffer.from(t, 'utf16le').swap16(), utf8: false, text: t })) },
  // a UTF-8 byte order mark is ignored (RFC 8259 lets parsers do so): the same input
  { weight: 1, arbitrary: jsonText.map((t) => ({ body: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(t, 'utf8')]), utf8: true, text: t })) },
  // invalid UTF-8 (overlong, lone continuation and surrogate bytes) spliced in
  { weight: 1, arbitrary: fc.tuple(jsonText, fc.nat(), fc.constantFrom([0xc0, 0xae], [0x80], [0xed, 0xa0, 0x80], [0xff], [0xf8, 0x88, 0x80, 0x80, 0x80])).map(([t, i, bad]) => {
    const b = Buffer.from(t, 'utf8');
    const at = b.length ? i % b.length : 0;
    return { body: Buffer.concat([b.subarray(0, at), Buffer.from(bad), b.subarray(at)]), utf8: false, text: t };
  }) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 4096 }).map((u) => ({ body: Buffer.from(u), utf8: false, text: '' })) },
);

const contentType = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('application/json', 'application/json; charset=utf-8', 'Application/JSON;charset="UTF-8"') },
  { weight: 3, arbitrary: fc.constantFrom(undefined, '', 'application/json; charset=utf-16', 'application/json; charset=latin1', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/octet-stream', 'a/b/c', ';;', 'application/*', 'application/json, text/plain') },
  { weight: 1, arbitrary: fc.stringMatching(/^[\x20-\x7e]{0,60}$/) },
);

const JSON_TYPES = new Set(['application/json', 'application/json; charset=utf-8', 'Application/JSON;charset="UTF-8"']);

/** Whether the text is an input the route must take and policy allows: a Read with an object input and well-formed fields. */
function isWellFormedRead(text: string): boolean {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return false;
  }
  const h = v as Record<string, unknown> | null;
  return !!h && typeof h === 'object' && h.tool_name === 'Read' && typeof h.tool_input === 'object' && h.tool_input !== null && !Array.isArray(h.tool_input);
}

const cases: fc.Arbitrary<Case> = fc.record({ encoded, type: contentType, auth: fc.constantFrom('valid', 'valid', 'valid', 'valid', 'none', 'wrong', 'basic'), chunked: fc.boolean() }).map(({ encoded: e, type, auth, chunked }) => ({
  body: e.body,
  type,
  auth,
  chunked,
  wellFormedRead: auth === 'valid' && type !== undefined && JSON_TYPES.has(type) && e.utf8 && e.body.length <= LIMIT && isWellFormedRead(e.text),
  // A failing case is reported short: the body's size and first bytes, not a megabyte of them.
  [fc.toStringMethod]: () => `{type: ${JSON.stringify(type)}, auth: ${auth}, chunked: ${chunked}, ${e.body.length} bytes: ${JSON.stringify(e.body.subarray(0, 120).toString('latin1'))}}`,
}));

describe('Claude Code PreToolUse under fuzzing', () => {
  const ctx = useServer({ policy: POLICY });

  it('answers every request with HTTP 200 and a decision in the hook shape; refusals deny and name their code; only a well-formed Read is allowed', async () => {
    const seen = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(cases, async (c) => {
        const headers: Record<string, string> = {};
        if (c.type !== undefined) headers['content-type'] = c.type;
        if (c.auth === 'valid') headers.authorization = `Bearer ${ctx.ws.tokens.agent}`;
        if (c.auth === 'wrong') headers.authorization = 'Bearer 0123456789abcdef';
        if (c.auth === 'basic') headers.authorization = `Basic ${ctx.ws.tokens.agent}`;
        const chunks = c.chunked ? Array.from({ length: Math.ceil(c.body.length / 65536) + 1 }, (_, i) => c.body.subarray(i * 65536, (i + 1) * 65536)) : undefined;
        const a = await postHook(ctx.server.url, { headers, ...(chunks ? { chunks } : { body: c.body }) });
        expect(a.status).toBe(200);
        const d = hookDecisionOf(a);
        const code = a.headers['x-countersign-error'];
        seen.set(typeof code === 'string' ? code : d.permissionDecision, (seen.get(typeof code === 'string' ? code : d.permissionDecision) ?? 0) + 1);
        if (typeof code === 'string') {
          expect(d.permissionDecision).toBe('deny');
          expect(d.permissionDecisionReason).toContain(`[${code}]`);
          expect(code).not.toBe('INTERNAL');
        }
        if (d.permissionDecision === 'allow') expect(c.wellFormedRead).toBe(true);
        expect(d.permissionDecision).not.toBe('ask');
      }),
      { numRuns: 300 },
    );
    // The run reached the decisions and the refusals it is meant to probe.
    for (const k of ['allow', 'deny', 'VALIDATION_FAILED', 'UNSUPPORTED_MEDIA_TYPE', 'UNAUTHENTICATED']) expect(seen.get(k) ?? 0, `${k} in ${JSON.stringify([...seen])}`).toBeGreaterThan(0);
  }, 120_000);
});
