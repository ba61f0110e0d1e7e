import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfigText } from './load.js';

const base = `
humans: [{ id: alice@example.com, token: "alice-token-0123456789" }]
`;
const FILE = '/etc/countersign/countersign.yaml';
const URL = 'postgres://app:s3cret-password-123@db.internal:5432/shop';

function issuesOf(text: string): string[] {
  try {
    parseConfigText(text, FILE, {});
  } catch (e) {
    if (e instanceof ConfigError) return e.issues.map((i) => `${i.path}: ${i.message}`);
    throw e;
  }
  return [];
}

const runners = (list: string, tls = '') => `runners:\n${tls}  list:\n${list}`;
const TLS = '  tls: { listen: "0.0.0.0:8443", cert: gw.crt, key: gw.key, clientCa: runners-ca.pem }\n';

describe('postgres targets on runners', () => {
  it('a postgres target run by a runner needs no url on the gateway, and names its runner', () => {
    const c = parseConfigText(`${base}targets:\n  shop-db: { kind: postgres, runner: dc1 }\n${runners('    - { id: dc1, token: "runner-token-0123456789" }\n')}`, FILE, {});
    expect(c.config.targets['shop-db']).toMatchObject({ kind: 'postgres', runner: 'dc1' });
    expect(c.config.targets['shop-db']).not.toHaveProperty('url');
  });

  it('the gateway holds no credential of a runner\'s database: a url, preview url or tls there is refused, naming the key', () => {
    const issues = issuesOf(`${base}targets:\n  shop-db: { kind: postgres, runner: dc1, url: "${URL}", preview: { url: "${URL}" } }\n${runners('    - { id: dc1, token: "runner-token-0123456789" }\n')}`);
    expect(issues).toEqual([expect.stringMatching(/^targets\.shop-db\.url: a target run by a runner/), expect.stringMatching(/^targets\.shop-db\.preview\.url: a target run by a runner/)]);
  });

  it('a postgres target the gateway runs still needs its url; a runner not in runners.list is refused', () => {
    expect(issuesOf(`${base}targets:\n  shop-db: { kind: postgres }\n`)).toEqual([expect.stringMatching(/^targets\.shop-db\.url: a postgres target run by the gateway needs its url/)]);
    expect(issuesOf(`${base}targets:\n  shop-db: { kind: postgres, runner: nowhere }\n`)).toEqual([expect.stringMatching(/^targets\.shop-db\.runner: runner "nowhere" is not in runners\.list/)]);
  });
});

describe('runner credentials', () => {
  it('a runner may have a certificate instead of a token, with the runners\' TLS listener', () => {
    const c = parseConfigText(`${base}${runners('    - { id: dc1, certificate: { commonName: runner-dc1 } }\n', TLS)}`, FILE, {});
    expect(c.config.runners.tls).toMatchObject({ listen: '0.0.0.0:8443', clientCa: 'runners-ca.pem' });
    expect(c.config.runners.list[0]).toMatchObject({ id: 'dc1', certificate: { commonName: 'runner-dc1' } });
  });

  it('a certificate without the TLS listener, a runner without any credential, and a malformed fingerprint are refused', () => {
    expect(issuesOf(`${base}${runners('    - { id: dc1, certificate: { commonName: runner-dc1 } }\n')}`)).toEqual([expect.stringMatching(/^runners\.list\[0\]\.certificate: a runner certificate needs the runners' TLS listener/)]);
    expect(issuesOf(`${base}${runners('    - { id: dc1 }\n')}`)).toEqual([expect.stringMatching(/^runners\.list\[0\]: give a token \(or tokenHash\), a certificate, or both/)]);
    expect(issuesOf(`${base}${runners('    - { id: dc1, certificate: { fingerprint: "sha256:abc" } }\n', TLS)}`)).toEqual([expect.stringMatching(/^runners\.list\[0\]\.certificate\.fingerprint: expected sha256:/)]);
    expect(issuesOf(`${base}${runners('    - { id: dc1, certificate: {} }\n', TLS)}`)).toEqual([expect.stringMatching(/^runners\.list\[0\]\.certificate: give commonName, fingerprint, or both/)]);
  });
});
