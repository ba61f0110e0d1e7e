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

export const REDACTED = '[REDACTED]';

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
  const out = [value];
  const parts = value.trim().split(/\s+/);
  const cred = parts[parts.length - 1] ?? '';
  out.push(cred);
  if (parts.length === 2 && parts[0]?.toLowerCase() === 'basic') {
    const decoded = Buffer.from(cred, 'base64').toString('utf8');
    out.push(decoded);
    const colon = decoded.indexOf(':');
    if (colon >= 0) out.push(decoded.slice(colon + 1));
  }
  return out.filter((s) => s.length >= MIN_SECRET_LENGTH);
}

export function redactHeaders(h: Record<string, string> | undefined): Record<string, string> | undefined {
  if (!h) return h;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) out[k] = SENSITIVE_HEADERS.has(k.toLowerCase()) ? REDACTED : v;
  return out;
}

/**
 * Replaces every occurrence of a known secret value in a string. Secrets shorter
 * than 4 characters are ignored: replacing them would shred ordinary text and they
 * are too weak to be worth protecting this way.
 */
export function redactSecretsInText(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (s.length >= 4 && out.includes(s)) out = out.split(s).join(REDACTED);
  return out;
}

/** Deep copy with secret values replaced in every string. */
export function redactSecretsDeep<T>(value: T, secrets: readonly string[]): T {
  if (secrets.length === 0) return value;
  if (typeof value === 'string') return redactSecretsInText(value, secrets) as T;
  if (Array.isArray(value)) return value.map((v: unknown) => redactSecretsDeep(v, secrets)) as T;
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[redactSecretsInText(k, secrets)] = redactSecretsDeep(v, secrets);
    return out as T;
  }
  return value;
}
