import { setOwn } from './own-key.js';

export const REDACTED = '[REDACTED]';

/** Header names whose values are credentials wherever they appear. */
export const SENSITIVE_HEADERS = new Set([
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'x-api-key',
  'x-auth-token',
  'x-amz-security-token',
  'private-token',
]);

/**
 * Injected target headers whose values are public. Every other injected header is a
 * credential, whatever its name (`api-key`, `X-Goog-Api-Key`, `X-Vault-Token`...):
 * redacting too much is safe, echoing a key back to the agent is not.
 */
export const PUBLIC_HEADERS = new Set([
  'accept',
  'accept-encoding',
  'accept-language',
  'api-version',
  'cache-control',
  'content-type',
  'user-agent',
  'x-api-version',
  'x-github-api-version',
]);

/** Shorter secrets cannot be redacted without shredding ordinary text; config refuses them. */
export const MIN_SECRET_LENGTH = 8;

/** What to redact for a credential header value: the value, its credential part ("Bearer x" → x) and a decoded Basic pair. */
export function credentialVariants(value: string): string[] {
  const out = [value, ...credentialCores(value)];
  // parts[0] always exists (split returns at least one element): `?.` is an equivalent mutant.
  const parts = value.trim().split(/\s+/);
  if (parts.length === 2 && parts[0]?.toLowerCase() === 'basic') out.push(Buffer.from(parts[1]!, 'base64').toString('utf8'));
  return out.filter((s) => s.length >= MIN_SECRET_LENGTH);
}

/**
 * The parts of a credential header value that are secret in every character: the
 * credential part ("Bearer x" → x) and a Basic password. Any run of them is redacted
 * (redact-secrets.ts); the whole value, scheme or Basic user name included, only whole:
 * a run of "Bearer t..." or of a user name is not secret.
 */
export function credentialCores(value: string): string[] {
  // split() always returns at least one element, so the `?? ''` and the `?.` below never
  // take effect: the mutation campaign's changes to them are equivalent.
  const parts = value.trim().split(/\s+/);
  const cred = parts[parts.length - 1] ?? '';
  const out = [cred];
  if (parts.length === 2 && parts[0]?.toLowerCase() === 'basic') {
    const decoded = Buffer.from(cred, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon >= 0) out.push(decoded.slice(colon + 1));
  }
  return out.filter((s) => s.length >= MIN_SECRET_LENGTH);
}

export function redactHeaders(h: Record<string, string> | undefined): Record<string, string> | undefined {
  if (!h) return h;
  const out: Record<string, string> = {};
  // A header named `__proto__` (a valid token) must stay a header, not become a prototype.
  for (const [k, v] of Object.entries(h)) setOwn(out, k, SENSITIVE_HEADERS.has(k.toLowerCase()) ? REDACTED : v);
  return out;
}
