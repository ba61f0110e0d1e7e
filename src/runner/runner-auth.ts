import { createHash, timingSafeEqual } from 'node:crypto';
import type { RunnerCertificateConfig } from '../config/runner-tls-schema.js';

/** What the TLS layer says about the client certificate of a connection (none on plain HTTP). */
export interface PeerCertificate {
  /** Signed by one of the configured client CAs (and valid now). */
  authorized: boolean;
  /** Why not, as OpenSSL says it (e.g. UNABLE_TO_VERIFY_LEAF_SIGNATURE). */
  authorizationError?: string | undefined;
  commonName?: string | undefined;
  /** SHA-256 fingerprint, upper-case hex pairs separated by colons (Node's fingerprint256). */
  fingerprint256?: string | undefined;
}

export type RunnerAuth = { ok: true; runner: string; via: 'token' | 'certificate' | 'token+certificate' } | { ok: false; reason: string };

export interface RunnerIdentity {
  id: string;
  /** sha256:<hex> of its token, when it has one. */
  tokenHash?: string | undefined;
  certificate?: RunnerCertificateConfig | undefined;
}

const normalizeFingerprint = (f: string) => f.replace(/^sha256:/i, '').replace(/:/g, '').toUpperCase();

function certificateMatches(c: RunnerCertificateConfig, peer: PeerCertificate): boolean {
  if (c.commonName !== undefined && c.commonName !== peer.commonName) return false;
  if (c.fingerprint !== undefined) {
    if (!peer.fingerprint256) return false;
    const want = Buffer.from(normalizeFingerprint(c.fingerprint), 'hex');
    const got = Buffer.from(normalizeFingerprint(peer.fingerprint256), 'hex');
    if (want.length !== got.length || !timingSafeEqual(want, got)) return false;
  }
  return true;
}

/**
 * Who a runner is, from its token, its client certificate, or both; fails closed. A
 * runner configured with a certificate must present it (signed by a configured CA,
 * matching its commonName / fingerprint); one configured with a token must present it;
 * a token and a certificate that name different runners are refused. Tokens are held
 * as SHA-256 hashes and compared in constant time.
 */
export function runnerAuthenticator(list: readonly RunnerIdentity[]): (cred: { bearer?: string | undefined; peer?: PeerCertificate | undefined }) => RunnerAuth {
  const byHash = new Map(list.filter((r) => r.tokenHash).map((r) => [r.tokenHash!, { id: r.id, digest: Buffer.from(r.tokenHash!.slice(7), 'hex') }]));
  const byId = new Map(list.map((r) => [r.id, r]));
  return ({ bearer, peer }) => {
    let byToken: string | undefined;
    if (bearer !== undefined) {
      const digest = createHash('sha256').update(bearer, 'utf8').digest();
      const found = byHash.get(`sha256:${digest.toString('hex')}`);
      if (!found || !timingSafeEqual(found.digest, digest)) return { ok: false, reason: 'invalid runner token' };
      byToken = found.id;
    }
    let byCert: string | undefined;
    if (peer) {
      if (!peer.authorized) return { ok: false, reason: `client certificate not accepted: ${peer.authorizationError ?? 'not signed by a configured CA'}` };
      const matches = list.filter((r) => r.certificate && certificateMatches(r.certificate, peer));
      if (matches.length === 0) return { ok: false, reason: `client certificate (CN ${peer.commonName ?? 'none'}) is no configured runner's` };
      if (matches.length > 1 && !(byToken && matches.some((m) => m.id === byToken))) return { ok: false, reason: `client certificate matches several runners (${matches.map((m) => m.id).join(', ')})` };
      byCert = (matches.find((m) => m.id === byToken) ?? matches[0]!).id;
    }
    if (byToken && byCert && byToken !== byCert) return { ok: false, reason: `the token is runner ${byToken}'s and the certificate runner ${byCert}'s` };
    const id = byToken ?? byCert;
    if (!id) return { ok: false, reason: 'no runner credentials' };
    const r = byId.get(id)!;
    if (r.certificate && !byCert) return { ok: false, reason: `runner ${id} must present its client certificate` };
    if (r.tokenHash && !byToken) return { ok: false, reason: `runner ${id} must present its token` };
    return { ok: true, runner: id, via: byToken && byCert ? 'token+certificate' : byToken ? 'token' : 'certificate' };
  };
}
