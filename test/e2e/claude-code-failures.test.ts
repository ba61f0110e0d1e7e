import { describe, expect, it } from 'vitest';
import { HOOK_PATH, hookDecisionOf, postHook } from './claude-code-hook-http.js';
import type { HookAnswer } from './claude-code-hook-http.js';
import { runCli, startTarget, until, useServer } from './harness.js';

// Claude Code runs the tool when an HTTP hook answers anything but 2xx: every failure
// on the hook route must be a 200 deny that names its error code.

const POLICY = `
default: { outcome: review, review: { approvers: [group:oncall], quorum: 1, timeout: 15m } }
rules:
  - id: writes
    match: { kind: tool, target: claude-code }
    when: tool.name == "Write"
    outcome: allow
`;

const hook = (tool_input: Record<string, unknown>, tool_name = 'Write') => ({
  session_id: 'abc123',
  cwd: '/Users/dev/my-project',
  permission_mode: 'default',
  hook_event_name: 'PreToolUse',
  tool_name,
  tool_input,
  tool_use_id: 'toolu_01ABC123',
});

describe('Claude Code PreToolUse: every failure is a 200 deny naming its code', () => {
  const ctx = useServer({ policy: POLICY, extraConfig: 'integrations: { claudeCode: { wait: 1s } }\n' });
  const json = () => ({ 'content-type': 'application/json', authorization: `Bearer ${ctx.ws.tokens.agent}` });
  const count = async () => (await ctx.server.client(ctx.ws.tokens.agent).list({ limit: 100 })).actions.length;
  const expectDeny = (a: HookAnswer, code: string, reason?: RegExp) => {
    expect(a.status).toBe(200);
    const d = hookDecisionOf(a);
    expect(d.permissionDecision).toBe('deny');
    expect(d.permissionDecisionReason).toContain(`[${code}]`);
    if (reason) expect(d.permissionDecisionReason).toMatch(reason);
    expect(a.headers['x-countersign-error']).toBe(code);
  };

  it('a Write whose content is larger than the body limit is denied (PAYLOAD_TOO_LARGE), as Claude Code sends it', async () => {
    const before = await count();
    const body = JSON.stringify(hook({ file_path: '/Users/dev/my-project/big.txt', content: 'x'.repeat(1_100_000) }));
    // fetch, as an HTTP hook client would: the answer must reach it, not a reset.
    const res = await fetch(`${ctx.server.url}${HOOK_PATH}`, { method: 'POST', headers: json(), body });
    const a = { status: res.status, headers: Object.fromEntries(res.headers), text: await res.text() };
    expectDeny(a, 'PAYLOAD_TOO_LARGE', /server\.bodyLimitBytes \(1048576 bytes\)/);
    // The same Write, small enough, is allowed: the limit is what denied it.
    const small = await postHook(ctx.server.url, { headers: json(), body: JSON.stringify(hook({ file_path: '/Users/dev/my-project/big.txt', content: 'x' })) });
    expect(hookDecisionOf(small).permissionDecision).toBe('allow');
    expect(await count()).toBe(before + 1);
  });

  it('a chunked body that grows past the limit is denied (PAYLOAD_TOO_LARGE) without waiting for a Content-Length', async () => {
    const head = Buffer.from(JSON.stringify(hook({ file_path: '/x', content: '' })).slice(0, -3));
    const chunks = [head, ...Array.from({ length: 20 }, () => Buffer.alloc(64 * 1024, 'y')), Buffer.from('"}}')];
    expectDeny(await postHook(ctx.server.url, { headers: json(), chunks }), 'PAYLOAD_TOO_LARGE');
  });

  it('a body that is not JSON, not UTF-8, or carries __proto__ is denied (VALIDATION_FAILED)', async () => {
    expectDeny(await postHook(ctx.server.url, { headers: json(), body: 'tool_name=Write' }), 'VALIDATION_FAILED', /not JSON/);
    expectDeny(await postHook(ctx.server.url, { headers: json(), body: '{"tool_name":"Write","tool_input":{' }), 'VALIDATION_FAILED', /not JSON/);
    const invalidUtf8 = Buffer.concat([Buffer.from('{"tool_name":"Write","tool_input":{"file_path":"/x","content":"'), Buffer.from([0xc0, 0xae, 0xff]), Buffer.from('"}}')]);
    expectDeny(await postHook(ctx.server.url, { headers: json(), body: invalidUtf8 }), 'VALIDATION_FAILED', /not valid UTF-8/);
    const utf16 = Buffer.from(JSON.stringify(hook({ file_path: '/x', content: 'x' })), 'utf16le');
    expectDeny(await postHook(ctx.server.url, { headers: json(), body: utf16 }), 'VALIDATION_FAILED');
    expectDeny(await postHook(ctx.server.url, { headers: json(), body: '{"tool_name":"Write","tool_input":{"__proto__":{"x":1}}}' }), 'VALIDATION_FAILED');
  });

  it('a number JSON cannot hold exactly (1e400 parses as Infinity) is denied as invalid input, not as an internal error', async () => {
    const body = '{"tool_name":"Write","tool_input":{"file_path":"/x","content":"a","n":1e400}}';
    expectDeny(await postHook(ctx.server.url, { headers: json(), body }), 'VALIDATION_FAILED', /numbers must be finite/);
  });

  it('a wrong, missing or malformed content type is denied (UNSUPPORTED_MEDIA_TYPE)', async () => {
    const body = JSON.stringify(hook({ file_path: '/x', content: 'x' }));
    const auth = { authorization: `Bearer ${ctx.ws.tokens.agent}` };
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=utf-16', 'a/b/c', 'application/jsonx']) {
      expectDeny(await postHook(ctx.server.url, { headers: { ...auth, 'content-type': type }, body }), 'UNSUPPORTED_MEDIA_TYPE');
    }
    expectDeny(await postHook(ctx.server.url, { headers: auth, body }), 'UNSUPPORTED_MEDIA_TYPE', /without a Content-Type/);
  });

  it('an empty body is denied (VALIDATION_FAILED), with or without a content type', async () => {
    expectDeny(await postHook(ctx.server.url, { headers: json(), body: '' }), 'VALIDATION_FAILED');
    expectDeny(await postHook(ctx.server.url, { headers: { authorization: `Bearer ${ctx.ws.tokens.agent}` } }), 'VALIDATION_FAILED', /must be a JSON object/);
  });

  it('no token or a wrong token is denied (UNAUTHENTICATED) before the body is parsed, saying nothing more, and is logged', async () => {
    const before = await count();
    const body = JSON.stringify(hook({ file_path: '/x', content: 'x' }));
    const big = JSON.stringify(hook({ file_path: '/x', content: 'x'.repeat(1_100_000) }));
    const attempts: Array<Record<string, string>> = [{ 'content-type': 'application/json' }, { 'content-type': 'application/json', authorization: 'Bearer not-a-valid-token-at-all' }, { 'content-type': 'application/json', authorization: `Basic ${ctx.ws.tokens.agent}` }];
    for (const headers of attempts) {
      for (const b of [body, big, 'not json']) {
        const a = await postHook(ctx.server.url, { headers, body: b });
        expectDeny(a, 'UNAUTHENTICATED');
        expect(hookDecisionOf(a).permissionDecisionReason).toMatch(/\[UNAUTHENTICATED\]: (Invalid credentials|Missing Authorization: Bearer <token>)$/);
        expect(a.headers['www-authenticate']).toBeUndefined();
      }
    }
    expect(await count()).toBe(before);
    // The access log names the refusal at info, as it does a 401 on /v1.
    const line = await until(
      async () => ctx.server.logs.find((l) => l.includes('"error":"UNAUTHENTICATED"')),
      (l) => l !== undefined,
    );
    expect(JSON.parse(line!)).toMatchObject({ level: 30, url: HOOK_PATH, status: 200, error: 'UNAUTHENTICATED' });
    expect(line).not.toContain('not-a-valid-token-at-all');
  });

  it('a refused body still being sent is read to its end first, so the client gets the deny and not a closed connection', async () => {
    // Refused before the body is parsed (bad token) while the client is still writing: a
    // server that answered at once would close the connection under the client's writes.
    const headers = { 'content-type': 'application/json', authorization: 'Bearer wrong-token-0123456789' };
    for (let i = 0; i < 5; i++) {
      const chunks = Array.from({ length: 17 }, () => Buffer.alloc(64 * 1024, 'z'));
      expectDeny(await postHook(ctx.server.url, { headers, chunks }), 'UNAUTHENTICATED');
    }
    // And past the body limit, for an authenticated agent.
    for (let i = 0; i < 5; i++) {
      const chunks = Array.from({ length: 20 }, () => Buffer.alloc(64 * 1024, 'z'));
      expectDeny(await postHook(ctx.server.url, { headers: json(), chunks }), 'PAYLOAD_TOO_LARGE');
    }
  });

  it('nothing was created by any refused call', async () => {
    // Only the small Write allowed in the first test made an action.
    const all = (await ctx.server.client(ctx.ws.tokens.agent).list({ limit: 100 })).actions;
    expect(all.map((a) => a.status)).toEqual(['approved']);
  });
});

describe('countersign hook claude-code against a gateway that answers something else than a decision', () => {
  it('denies (exit 0, a deny decision) on a non-2xx answer, an HTML error page or a 200 that is not a decision', async () => {
    const answers = [
      [413, 'application/json', '{"error":{"code":"PAYLOAD_TOO_LARGE","message":"too big"}}'],
      [502, 'text/html', '<html>Bad Gateway</html>'],
      [200, 'application/json', '{"ok":true}'],
      [200, 'application/json', '{"hookSpecificOutput":{"hookEventName":"PreToolUse","permissionDecision":"yes","permissionDecisionReason":""}}'],
    ] as const;
    let i = 0;
    const proxy = await startTarget((_r, res) => {
      const [status, type, body] = answers[i++]!;
      res.writeHead(status, { 'content-type': type }).end(body);
      return true;
    });
    try {
      for (const [status] of answers) {
        const r = await runCli(['hook', 'claude-code', '--url', proxy.url], { COUNTERSIGN_TOKEN: 'any' }, JSON.stringify(hook({ file_path: '/x', content: 'x' })));
        expect(r.code, `HTTP ${status}`).toBe(0);
        expect(JSON.parse(r.stdout)).toMatchObject({ hookSpecificOutput: { hookEventName: 'PreToolUse', permissionDecision: 'deny' } });
      }
    } finally {
      await proxy.close();
    }
  });
});

describe('Claude Code PreToolUse while the gateway shuts down', () => {
  const ctx = useServer({ policy: POLICY, extraConfig: 'integrations: { claudeCode: { wait: 30s } }\n' });

  it('a call held for review when the server stops is answered with a deny, not cut off', async () => {
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${ctx.ws.tokens.agent}` };
    const held = postHook(ctx.server.url, { headers, body: JSON.stringify(hook({ command: 'make deploy' }, 'Bash')) });
    await until(
      () => ctx.server.client(ctx.ws.tokens.bob).list({ status: ['pending'] }),
      (p) => p.actions.length > 0,
    );
    const stopped = ctx.server.stop('SIGTERM');
    const a = await held;
    expect(a.status).toBe(200);
    expect(hookDecisionOf(a).permissionDecision).toBe('deny');
    expect(hookDecisionOf(a).permissionDecisionReason).toMatch(/^Approval pending/);
    expect(await stopped).toBe(0);
  });
});
