import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { PeerCertificate } from './runner-auth.js';
import { runnerAuthenticator } from './runner-auth.js';

const hash = (t: string) => `sha256:${createHash('sha256').update(t).digest('hex')}`;
const FP = 'AB:'.repeat(31) + 'CD';
const auth = runnerAuthenticator([
  { id: 'tok', tokenHash: hash('token-of-tok-0123456789') },
  { id: 'cert', certificate: { commonName: 'runner-cert' } },
  { id: 'both', tokenHash: hash('token-of-both-0123456789'), certificate: { commonName: 'runner-both', fingerprint: `sha256:${FP.replace(/:/g, '').toLowerCase()}` } },
]);
const peer = (cn: string, over: Partial<PeerCertificate> = {}): PeerCertificate => ({ authorized: true, commonName: cn, fingerprint256: FP, ...over });

describe('runner authentication', () => {
  it('a token names its runner; a certificate signed by the CA names its runner by common name', () => {
    expect(auth({ bearer: 'token-of-tok-0123456789' })).toEqual({ ok: true, runner: 'tok', via: 'token' });
    expect(auth({ peer: peer('runner-cert') })).toEqual({ ok: true, runner: 'cert', via: 'certificate' });
  });

  it('a runner configured with both needs both, and its certificate must carry the pinned fingerprint', () => {
    expect(auth({ bearer: 'token-of-both-0123456789', peer: peer('runner-both') })).toEqual({ ok: true, runner: 'both', via: 'token+certificate' });
    expect(auth({ bearer: 'token-of-both-0123456789' })).toMatchObject({ ok: false, reason: 'runner both must present its client certificate' });
    expect(auth({ peer: peer('runner-both') })).toMatchObject({ ok: false, reason: 'runner both must present its token' });
    expect(auth({ bearer: 'token-of-both-0123456789', peer: peer('runner-both', { fingerprint256: 'EF:'.repeat(31) + 'CD' }) })).toMatchObject({ ok: false });
    expect(auth({ bearer: 'token-of-both-0123456789', peer: peer('runner-both', { fingerprint256: 'EF:'.repeat(31) + 'CD' }) })).not.toHaveProperty('runner');
  });

  it('refuses a certificate the CA did not sign, one of no runner, a bad token, and a token and certificate of different runners', () => {
    expect(auth({ peer: peer('runner-cert', { authorized: false, authorizationError: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' }) })).toEqual({ ok: false, reason: 'client certificate not accepted: UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
    expect(auth({ peer: peer('someone') })).toEqual({ ok: false, reason: "client certificate (CN someone) is no configured runner's" });
    expect(auth({ bearer: 'not-a-token' })).toEqual({ ok: false, reason: 'invalid runner token' });
    expect(auth({ bearer: 'token-of-tok-0123456789', peer: peer('runner-cert') })).toEqual({ ok: false, reason: "the token is runner tok's and the certificate runner cert's" });
    expect(auth({})).toEqual({ ok: false, reason: 'no runner credentials' });
  });
});
