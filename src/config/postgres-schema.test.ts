import { describe, expect, it } from 'vitest';
import { buildTargets } from '../app/main.js';
import { ConfigError, parseConfigText } from './load.js';
import { createLogger } from '../logger.js';

const base = `
humans: [{ id: alice@example.com, token: "alice-token-0123456789" }]
targets:
`;
const issueShape = `${base}  billing-db:
    kind: postgres
    url: "\${BILLING_DB_URL}"
    preview: { enabled: true, sampleRows: 5, timeout: 5s }
    limits: { statementTimeout: 30s, maxRows: 1000, maxBytes: 1MiB }
    mask: [ "users.email", "*.ssn", "billing.payments.card_number" ]
`;
const URL_WITH_PASSWORD = 'postgres://app:s3cret-pa%40ss@db.internal:5432/billing';

function issuesOf(text: string, env: NodeJS.ProcessEnv = {}) {
  try {
    parseConfigText(text, '/etc/countersign/countersign.yaml', env);
  } catch (e) {
    if (e instanceof ConfigError) return e.issues.map((i) => `${i.path}: ${i.message}`);
    throw e;
  }
  return [];
}

describe('postgres targets', () => {
  it('poolSize defaults to 5, takes 1 (a one-session server such as PGlite) and refuses 0 naming the key', () => {
    const env = { BILLING_DB_URL: URL_WITH_PASSWORD };
    expect(parseConfigText(issueShape, '/etc/countersign/countersign.yaml', env).config.targets['billing-db']).toMatchObject({ poolSize: 5 });
    expect(parseConfigText(`${issueShape}    poolSize: 1\n`, '/etc/countersign/countersign.yaml', env).config.targets['billing-db']).toMatchObject({ poolSize: 1 });
    expect(issuesOf(`${issueShape}    poolSize: 0\n`, env).join('\n')).toMatch(/targets\.billing-db\.poolSize/);
  });

  it('accept the shape of issue 13, with ${ENV} in the url, and fill the documented defaults', () => {
    const c = parseConfigText(issueShape, '/etc/countersign/countersign.yaml', { BILLING_DB_URL: URL_WITH_PASSWORD });
    const t = c.config.targets['billing-db'];
    expect(t).toMatchObject({
      kind: 'postgres',
      url: URL_WITH_PASSWORD,
      preview: { enabled: true, mode: 'rollback', sampleRows: 5, timeout: '5s' },
      limits: { statementTimeout: '30s', maxRows: 1000, maxBytes: '1MiB', exportRows: 1000 },
      mask: ['users.email', '*.ssn', 'billing.payments.card_number'],
      maskParams: false,
    });
  });

  it('treat the url and its password (as written and decoded) as secrets', () => {
    const c = parseConfigText(issueShape, '/etc/countersign/countersign.yaml', { BILLING_DB_URL: URL_WITH_PASSWORD });
    expect(c.secrets).toEqual(expect.arrayContaining([URL_WITH_PASSWORD, 's3cret-pa%40ss', 's3cret-pa@ss']));
  });

  it('show policy the host and labels, never the credentials', () => {
    const c = parseConfigText(issueShape, '/etc/countersign/countersign.yaml', { BILLING_DB_URL: URL_WITH_PASSWORD });
    const info = buildTargets(c.config).get('billing-db');
    expect(info).toMatchObject({ kind: 'postgres', exportRows: 1000, facts: { name: 'billing-db', kind: 'postgres', host: 'db.internal:5432', labels: {} } });
    expect(JSON.stringify(info)).not.toContain('s3cret');
  });

  it('keep the url out of logs', () => {
    const lines: string[] = [];
    const log = createLogger('info', { write: (s: string) => lines.push(s) });
    log.info({ config: { targets: { 'billing-db': { url: URL_WITH_PASSWORD, preview: { url: URL_WITH_PASSWORD } } } } }, 'config');
    expect(lines.join('')).not.toContain('s3cret');
  });

  it('refuse a url that is not postgres, a short password, a bad mask rule and unknown keys, at the exact key', () => {
    expect(issuesOf(`${base}  db: { kind: postgres, url: "mysql://u:p@h/db" }\n`)).toEqual([expect.stringMatching(/^targets\.db\.url: expected a postgres/)]);
    expect(issuesOf(`${base}  db: { kind: postgres, url: "postgres://u:short@h/db" }\n`)).toEqual([expect.stringMatching(/^targets\.db\.url: a database password shorter/)]);
    expect(issuesOf(`${base}  db: { kind: postgres, url: "postgres://h/db", mask: [email] }\n`)).toEqual([expect.stringMatching(/^targets\.db\.mask\[0\]: expected \[schema\.\]table\.column/)]);
    expect(issuesOf(`${base}  db: { kind: postgres, url: "postgres://h/db", limits: { maxBytes: lots } }\n`)).toEqual([expect.stringMatching(/^targets\.db\.limits\.maxBytes: expected a size/)]);
    expect(issuesOf(`${base}  db: { kind: postgres, url: "postgres://h/db", baseUrl: "https://x" }\n`)).toEqual([expect.stringMatching(/^targets\.db\.baseUrl: unknown key/)]);
  });

  it('accept the extra keys: preview mode and url, exportRows, maskParams, tls', () => {
    const text = `${base}  db:\n    kind: postgres\n    url: "postgres:///billing?host=/var/run/postgresql"\n    preview: { mode: select, url: "postgres://replica/billing" }\n    limits: { exportRows: 50 }\n    maskParams: true\n    tls: { rejectUnauthorized: true, servername: db.internal }\n`;
    expect(issuesOf(text)).toEqual([]);
  });
});
