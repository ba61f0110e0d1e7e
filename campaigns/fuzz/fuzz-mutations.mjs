// Valid requests to every way in, and the mutations the fuzz driver applies to them:
// JSON-aware (replace, delete, duplicate, retype a value; deep nesting; huge numbers;
// prototype keys), byte-level (flip, insert, delete, truncate), and to the envelope
// (method, path, query string, content type, credentials).

const ID = 'act_00000000000000000000000000';

/** `{ method, path, body?, auth }`, auth: the secret to present (agent, alice, auditor). */
export const TEMPLATES = [
  { method: 'POST', path: '/v1/actions', auth: 'agent', body: { kind: 'http', target: 'api', input: { method: 'GET', path: '/repos/acme/app', query: { page: '1' } } } },
  { method: 'POST', path: '/v1/actions', auth: 'agent', body: { kind: 'http', target: 'api', input: { method: 'POST', path: '/refunds', headers: { 'content-type': 'application/json' }, body: { amount: 4200 } }, justification: 'refund', context: { ticket: 'T-1' } } },
  { method: 'POST', path: '/v1/actions', auth: 'agent', body: { kind: 'http', target: 'api', input: { method: 'DELETE', path: '/repos/acme/app' }, mode: 'decide' } },
  { method: 'POST', path: '/v1/actions', auth: 'agent', body: { kind: 'tool', target: 'claude-code', input: { name: 'Read', arguments: { file_path: '/etc/hosts' } } } },
  { method: 'POST', path: '/v1/actions?wait=1', auth: 'agent', body: { kind: 'http', target: 'api', input: { method: 'GET', path: '/x' } } },
  { method: 'GET', path: '/v1/actions?status=pending&limit=5', auth: 'alice' },
  { method: 'GET', path: `/v1/actions/${ID}`, auth: 'agent' },
  { method: 'GET', path: `/v1/actions/${ID}?wait=0`, auth: 'agent' },
  { method: 'POST', path: `/v1/actions/${ID}/approve`, auth: 'alice', body: { fingerprint: `sha256:${'0'.repeat(64)}`, comment: 'ok' } },
  { method: 'POST', path: `/v1/actions/${ID}/deny`, auth: 'alice', body: { comment: 'no' } },
  { method: 'POST', path: `/v1/actions/${ID}/cancel`, auth: 'agent', body: {} },
  { method: 'GET', path: '/v1/audit/entries?start=0&end=10', auth: 'auditor' },
  { method: 'GET', path: '/v1/audit/proof/inclusion?seq=0&size=1', auth: 'auditor' },
  { method: 'GET', path: '/v1/audit/proof/consistency?from=1&to=2', auth: 'auditor' },
  { method: 'GET', path: '/v1/audit/checkpoint', auth: 'auditor' },
  { method: 'GET', path: `/v1/actions/${ID}/receipt`, auth: 'auditor' },
  { method: 'GET', path: '/v1/deliveries?limit=5', auth: 'auditor' },
  { method: 'POST', path: '/mcp', auth: 'agent', body: { jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }, headers: { accept: 'application/json, text/event-stream' } },
  { method: 'POST', path: '/mcp', auth: 'agent', body: { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'x__y', arguments: { a: 1 } } }, headers: { accept: 'application/json, text/event-stream' } },
  { method: 'POST', path: '/integrations/claude-code/pre-tool-use', auth: 'agent', body: { hook_event_name: 'PreToolUse', tool_name: 'Read', tool_input: { file_path: '/etc/hosts' }, session_id: 's', cwd: '/tmp' } },
];

const NASTY = [null, true, -1, 0, 1e308, -1e-308, 2 ** 53 + 1, '', ' ', '\u0000', '\ud800', 'a'.repeat(70_000), '../../etc/passwd', '%00', '__proto__', JSON.parse('{"__proto__":{"polluted":1}}'), [], {}, [[[[[[[[[[[]]]]]]]]]]]];
const CONTENT_TYPES = ['application/json', 'application/json; charset=utf-16', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', '', 'application/json;;', 'APPLICATION/JSON'];
const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'];

function randomJson(r, depth = 0) {
  switch (r.int(0, depth > 3 ? 3 : 6)) {
    case 0:
      return r.int(-1e6, 1e6);
    case 1:
      return r.hex(r.int(0, 20));
    case 2:
      return r.pick(NASTY);
    case 3:
      return r.chance(0.5);
    case 4:
      return Array.from({ length: r.int(0, 4) }, () => randomJson(r, depth + 1));
    default:
      return Object.fromEntries(Array.from({ length: r.int(0, 4) }, () => [r.pick(['kind', 'target', 'input', 'method', 'path', 'body', 'mode', 'x', r.hex(4)]), randomJson(r, depth + 1)]));
  }
}

/** A JSON-aware mutation at a random place in the tree. */
function mutateJson(r, value) {
  if (value === null || typeof value !== 'object') return r.chance(0.5) ? randomJson(r) : value;
  const copy = Array.isArray(value) ? [...value] : { ...value };
  const keys = Object.keys(copy);
  const key = keys.length && r.chance(0.8) ? r.pick(keys) : r.pick(['kind', 'target', 'input', 'mode', 'extra', '__proto__', 'constructor']);
  // Own properties only: a key named __proto__ is data here, as JSON.parse makes it.
  const old = Object.hasOwn(copy, key) ? copy[key] : undefined;
  const set = (v) => Object.defineProperty(copy, key, { value: v, enumerable: true, writable: true, configurable: true });
  switch (r.int(0, 5)) {
    case 0:
      delete copy[key];
      break;
    case 1:
      set(randomJson(r));
      break;
    case 2:
      set(mutateJson(r, old));
      break;
    case 3:
      set([old, old]);
      break;
    case 4:
      set(typeof old === 'string' ? Number(old) || 0 : String(old));
      break;
    default:
      set(r.pick(NASTY));
  }
  return copy;
}

function mutateBytes(r, buf) {
  const b = Buffer.from(buf);
  switch (r.int(0, 4)) {
    case 0: {
      if (b.length) b[r.int(0, b.length - 1)] ^= 1 << r.int(0, 7);
      return b;
    }
    case 1: {
      const at = r.int(0, b.length);
      return Buffer.concat([b.subarray(0, at), Buffer.from([r.int(0, 255)]), b.subarray(at)]);
    }
    case 2: {
      const at = r.int(0, b.length);
      return Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + r.int(1, 8)))]);
    }
    case 3:
      return b.subarray(0, r.int(0, b.length));
    default:
      return Buffer.concat([b, Buffer.from(r.pick(['}', ']', ',', '"', '\\', '{"a":', '\u0000', '\xff\xfe']))]);
  }
}

function mutatePath(r, path) {
  const [p, q = ''] = path.split('?');
  switch (r.int(0, 5)) {
    case 0:
      return `${p}?${q}&${r.pick(['wait', 'limit', 'start', 'end', 'status', 'cursor', 'seq', 'size', 'x'])}=${encodeURIComponent(String(r.pick(['-1', '1e9', 'abc', '', '%', '0x10', '99999999999999999999', 'pending,nope'])))}`;
    case 1:
      return p.replace(ID, r.pick(['', '%2e%2e', 'a'.repeat(r.int(1, 400)), '..', '%00', encodeURIComponent('\u00e9'), '%ZZ']));
    case 2:
      return `${p}/${r.hex(3)}`;
    case 3:
      return `${p}?${'x=1&'.repeat(r.int(1, 200))}`;
    case 4:
      return p.replace('/v1/', r.pick(['/v2/', '/V1/', '//v1//', '/v1/../v1/']));
    default:
      return path;
  }
}

export function mutateRequest(r, templates, secrets) {
  const t = r.pick(templates);
  let method = t.method;
  let path = t.path;
  const headers = { ...(t.headers ?? {}) };
  let body = t.body === undefined ? undefined : t.body;
  const auth = r.chance(0.85) ? secrets[t.auth] : r.pick([undefined, 'nope', secrets.agent, secrets.alice, `${secrets.agent}x`, '']);
  if (auth !== undefined) headers.authorization = r.chance(0.97) ? `Bearer ${auth}` : r.pick([auth, `Basic ${Buffer.from(`u:${auth}`).toString('base64')}`, 'Bearer', 'Bearer  ']);
  const rounds = r.int(1, 3);
  let bytes;
  for (let i = 0; i < rounds; i++) {
    const what = r.int(0, 9);
    if (what <= 4 && body !== undefined) body = mutateJson(r, body);
    else if (what === 5) path = mutatePath(r, path);
    else if (what === 6) method = r.pick(METHODS);
    else if (what === 7) headers['content-type'] = r.pick(CONTENT_TYPES);
    else if (what === 8) bytes = mutateBytes(r, bytes ?? Buffer.from(JSON.stringify(body ?? {})));
    else body = randomJson(r);
  }
  if (method === 'GET' || method === 'HEAD') return { method, path, headers };
  const payload = bytes ?? (body === undefined ? undefined : Buffer.from(JSON.stringify(body) ?? ''));
  if (payload !== undefined) headers['content-type'] ??= 'application/json';
  return { method, path, headers, body: payload };
}
