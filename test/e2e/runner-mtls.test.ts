import { execFileSync } from 'node:child_process';
import { randomBytes, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { fetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runnerTlsAgent } from '../../src/runner/runner-tls-client.js';
import type { ServerProcess, Workspace } from './harness.js';
import { raw, startServer, startTarget, until, workspace } from './harness.js';
import type { RunnerProcess } from './runner-harness.js';
import { startRunnerProcess } from './runner-harness.js';

// Mutual TLS between runners and the gateway, with certificates made by openssl for this
// run: the gateway's runner listener asks every client for a certificate signed by its
// client CA and maps it to a runner id; the runner verifies the gateway's certificate.
const TOOL = fileURLToPath(new URL('../command/tool.mjs', import.meta.url));
const NODE_DIR = dirname(process.execPath);

const POLICY = `
default: { outcome: deny, reason: Not covered by a rule }
rules:
  - id: prints
    match: { kind: command }
    when: cmd.verb == "print"
    outcome: allow
`;

let ws: Workspace;
let server: ServerProcess;
let target: Awaited<ReturnType<typeof startTarget>>;
let pki: string;
let tlsUrl: string;
const tokens = { dc2: randomBytes(18).toString('hex'), dc3: randomBytes(18).toString('hex') };
const runners: RunnerProcess[] = [];

/** A CA, and certificates it signs (EC P-256, one day): what an operator's PKI would issue. */
function makePki(dir: string): void {
  const ossl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  for (const ca of ['ca', 'rogue-ca']) ossl('req', '-x509', ...ec, '-keyout', `${ca}.key`, '-out', `${ca}.crt`, '-subj', `/CN=${ca}`, '-days', '1');
  const sign = (name: string, cn: string, ca: string, ext?: string) => {
    ossl('req', '-new', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/O=Example/CN=${cn}`);
    if (ext) writeFileSync(join(dir, `${name}.ext`), ext);
    ossl('x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-out', `${name}.crt`, '-days', '1', ...(ext ? ['-extfile', `${name}.ext`] : []));
  };
  sign('gateway', 'localhost', 'ca', 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  sign('dc1', 'runner-dc1', 'ca');
  sign('dc2', 'runner-dc2', 'ca');
  sign('rogue', 'runner-dc1', 'rogue-ca');
  sign('stranger', 'runner-zz', 'ca');
}

const file = (name: string) => join(pki, name);
const fingerprint = (name: string) => `sha256:${new X509Certificate(readFileSync(file(`${name}.crt`))).fingerprint256}`;

function auditEntries(): Array<{ type: string; data: Record<string, unknown> }> {
  const db = new Database(join(ws.dir, 'countersign.db'), { readonly: true, fileMustExist: true });
  try {
    return (db.prepare('SELECT bytes FROM audit_entries ORDER BY seq').all() as Array<{ bytes: Buffer }>).map((r) => JSON.parse(r.bytes.toString('utf8')) as { type: string; data: Record<string, unknown> });
  } finally {
    db.close();
  }
}

const syncBody = (instance = `probe-${randomBytes(6).toString('hex')}`) => JSON.stringify({ instance, host: 'probe', targets: ['remote'], running: [], results: [], waitMs: 0 });

/** One sync call on the runner listener with a client certificate (or none) and a token (or none). */
async function syncTls(o: { cert?: string; token?: string; ca?: string; instance?: string }): Promise<{ status: number; code?: string; message?: string }> {
  const dispatcher = runnerTlsAgent({ ...(o.cert ? { cert: file(`${o.cert}.crt`), key: file(`${o.cert}.key`) } : {}), ca: file(o.ca ?? 'ca.crt') });
  try {
    const res = await fetch(`${tlsUrl}/v1/runner/sync`, {
      method: 'POST',
      dispatcher,
      headers: { 'content-type': 'application/json', ...(o.token ? { authorization: `Bearer ${o.token}` } : {}) },
      body: syncBody(o.instance),
    });
    const body = (await res.json()) as { error?: { code: string; message: string } };
    return { status: res.status, ...(body.error ? { code: body.error.code, message: body.error.message } : {}) };
  } finally {
    await dispatcher.close();
  }
}

beforeAll(async () => {
  pki = mkdtempSync(join(tmpdir(), 'countersign-pki-'));
  makePki(pki);
  target = await startTarget();
  ws = workspace(target.url, {
    policy: POLICY,
    extraConfig: `runners:
  lease: 3s
  claimTimeout: 10s
  tls: { listen: "127.0.0.1:0", cert: ${file('gateway.crt')}, key: ${file('gateway.key')}, clientCa: ${file('ca.crt')} }
  list:
    - { id: dc1, certificate: { commonName: runner-dc1 } }
    - { id: dc2, token: "\${T_RUNNER2}", certificate: { commonName: runner-dc2, fingerprint: "${fingerprint('dc2')}" } }
    - { id: dc3, token: "\${T_RUNNER3}" }
`,
  });
  ws.env = { ...ws.env, T_RUNNER2: tokens.dc2, T_RUNNER3: tokens.dc3 };
  writeFileSync(ws.configPath, readFileSync(ws.configPath, 'utf8').replace('targets:\n', 'targets:\n  remote: { kind: command, programs: { tool: {} }, runner: [dc1], limits: { timeout: 20s } }\n'));
  writeFileSync(
    join(pki, 'runner.yaml'),
    `store: { sqlite: ./unused.db }
targets:
  remote:
    kind: command
    programs:
      tool: { path: ${TOOL} }
    env: { RUNLOG: ${join(pki, 'runlog')} }
    path: "/usr/local/bin:/usr/bin:/bin:${NODE_DIR}"
log: { level: info }
`,
  );
  server = await startServer(ws);
  const ready = await until(
    async () => server.logs.map((l) => (l.includes('runner TLS listener ready') ? (JSON.parse(l) as { url: string }).url : undefined)).find(Boolean),
    (u) => u !== undefined,
  );
  tlsUrl = ready!.replace('127.0.0.1', 'localhost');
}, 60_000);

afterAll(async () => {
  for (const r of runners) await r.stop();
  await server?.stop();
  await target?.close();
  ws?.cleanup();
  rmSync(pki, { recursive: true, force: true });
});

describe('runners and the gateway authenticate each other with mutual TLS', () => {
  it('a runner with a valid client certificate and no token connects over mutual TLS and runs what it is sent', async () => {
    const r = await startRunnerProcess({
      gateway: tlsUrl,
      config: join(pki, 'runner.yaml'),
      env: { COUNTERSIGN_RUNNER_TOKEN: '' },
      args: ['--cert', file('dc1.crt'), '--key', file('dc1.key'), '--ca', file('ca.crt')],
    });
    runners.push(r);
    const a = await server.client(ws.tokens.agent).submit({ kind: 'command', target: 'remote', input: { argv: ['tool', 'print', 'over-mtls'] } }, { waitSeconds: 30 });
    expect(a.status).toBe('succeeded');
    expect((a.result?.body as { ranOn: string }).ranOn).toBe('dc1');
    expect(auditEntries().some((e) => e.type === 'runner.connected' && e.data.runner === 'dc1' && e.data.instance === r.instance)).toBe(true);
  });

  it('a certificate signed by another CA is refused, even with a configured runner\'s name, and audited', async () => {
    const r = await syncTls({ cert: 'rogue' });
    expect(r).toMatchObject({ status: 401, code: 'RUNNER_UNAUTHENTICATED' });
    expect(r.message).toMatch(/client certificate not accepted/);
    const refused = await until(async () => auditEntries().find((e) => e.type === 'runner.refused' && String(e.data.reason).includes('not accepted')), (x) => x !== undefined);
    expect(refused?.data).toMatchObject({ tls: true });
  });

  it('a certificate of the right CA that maps to no runner is refused and audited', async () => {
    const r = await syncTls({ cert: 'stranger' });
    expect(r).toMatchObject({ status: 401, code: 'RUNNER_UNAUTHENTICATED' });
    expect(await until(async () => auditEntries().some((e) => e.type === 'runner.refused' && String(e.data.reason).includes('CN runner-zz')), (x) => x)).toBe(true);
  });

  it('a token and a certificate that name different runners are refused and audited', async () => {
    const r = await syncTls({ cert: 'dc1', token: tokens.dc3 });
    expect(r).toMatchObject({ status: 401, code: 'RUNNER_UNAUTHENTICATED' });
    expect(r.message).toContain("the token is runner dc3's and the certificate runner dc1's");
    expect(await until(async () => auditEntries().some((e) => e.type === 'runner.refused' && String(e.data.reason).includes("runner dc3's")), (x) => x)).toBe(true);
  });

  it('a runner configured with both must present both: its certificate with its token connects; either alone is refused', async () => {
    expect((await syncTls({ cert: 'dc2', token: tokens.dc2 })).status).toBe(200);
    expect((await syncTls({ cert: 'dc2' })).message).toContain('runner dc2 must present its token');
    // Its token alone, on the plain listener, without the certificate.
    const plain = await raw(server.url, '/v1/runner/sync', { method: 'POST', token: tokens.dc2, headers: { 'content-type': 'application/json' }, body: syncBody() });
    expect(plain.status).toBe(401);
    expect(plain.body.error?.message).toContain('runner dc2 must present its client certificate');
    // A token-only runner still connects with its token (here on the runner listener, no certificate).
    expect((await syncTls({ token: tokens.dc3, instance: 'probe-dc3-instance' })).status).toBe(200);
    // ...but cannot take over the session of another runner's instance.
    expect(await syncTls({ cert: 'dc2', token: tokens.dc2, instance: 'probe-dc3-instance' })).toMatchObject({ status: 409, code: 'RUNNER_INSTANCE_TAKEN' });
  });

  it('the runner verifies the gateway: a gateway certificate its CA did not sign is refused before anything is sent', async () => {
    const refusal = await syncTls({ cert: 'dc1', ca: 'rogue-ca.crt' }).then(
      () => 'answered',
      (e: unknown) => String((e as { cause?: { code?: string } }).cause?.code),
    );
    expect(refusal).toMatch(/UNABLE_TO_VERIFY|SELF_SIGNED|CERT/);
    const before = auditEntries().filter((e) => e.type === 'runner.connected').length;
    const r = await startRunnerProcess({
      gateway: tlsUrl,
      config: join(pki, 'runner.yaml'),
      env: { COUNTERSIGN_RUNNER_TOKEN: '' },
      args: ['--cert', file('dc1.crt'), '--key', file('dc1.key'), '--ca', file('rogue-ca.crt')],
      timeoutMs: 4000,
    }).then(
      (p) => {
        runners.push(p);
        return 'connected';
      },
      (e: unknown) => String(e),
    );
    expect(r).toMatch(/cannot connect to the gateway; retrying/);
    expect(r).toMatch(/UNABLE_TO_VERIFY|SELF_SIGNED|CERT/);
    expect(auditEntries().filter((e) => e.type === 'runner.connected')).toHaveLength(before);
  });
});
