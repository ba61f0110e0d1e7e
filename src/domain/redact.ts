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
