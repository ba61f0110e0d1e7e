import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfigText } from './load.js';

const FILE = '/etc/countersign/countersign.yaml';
const URL_ENV = { DATABASE_URL: 'postgres://gateway:s3cret-db-password@db.internal:5432/countersign?sslmode=require' };

function issues(text: string, env: NodeJS.ProcessEnv = URL_ENV) {
  try {
    parseConfigText(text, FILE, env);
  } catch (e) {
    if (e instanceof ConfigError) return e.issues.map((i) => `${i.path}: ${i.message}`);
    throw e;
  }
  throw new Error('expected a config error');
}

describe('store config', () => {
  it('keeps SQLite the default, for no store key and for an empty one', () => {
    for (const text of ['listen: 127.0.0.1:8080\n', 'store: {}\n']) {
      const c = parseConfigText(text, FILE, {});
      expect(c.store).toEqual({ kind: 'sqlite', path: '/etc/countersign/data/countersign.db' });
      expect(c.storePath).toBe('/etc/countersign/data/countersign.db');
    }
  });

  it('accepts the documented PostgreSQL shape, with defaults for what it leaves out', () => {
    const c = parseConfigText('store:\n  postgres:\n    url: "${DATABASE_URL}"\n    schema: countersign\n    pool: { max: 20 }\n', FILE, URL_ENV);
    expect(c.store).toEqual({
      kind: 'postgres',
      config: { url: URL_ENV.DATABASE_URL, schema: 'countersign', pool: { max: 20 }, statementTimeout: '30s', connectTimeout: '10s', migrate: 'auto' },
    });
    expect(c.storePath).toBe('');
  });

  it('treats the store URL and its password as secrets, redacted wherever they could appear', () => {
    const c = parseConfigText('store: { postgres: { url: "${DATABASE_URL}" } }\n', FILE, URL_ENV);
    expect(c.secrets).toContain(URL_ENV.DATABASE_URL);
    expect(c.credentials).toContain('s3cret-db-password');
  });

  it('refuses both stores at once, a non-PostgreSQL URL, a bad schema name and a short password, each at its path', () => {
    expect(issues('store: { sqlite: ./a.db, postgres: { url: "${DATABASE_URL}" } }\n').join('\n')).toMatch(/store: choose one store/);
    expect(issues('store: { postgres: { url: "mysql://x@y/z" } }\n').join('\n')).toMatch(/store\.postgres\.url: expected postgres:\/\//);
    expect(issues('store: { postgres: { url: "${DATABASE_URL}", schema: "Robert\'); DROP" } }\n').join('\n')).toMatch(/store\.postgres\.schema: a plain lower-case SQL name/);
    expect(issues('store: { postgres: { url: "postgres://u:short@h/db" } }\n').join('\n')).toMatch(/store\.postgres\.url: a database password shorter than 8/);
  });
});
