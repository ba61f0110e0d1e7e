/**
 * An `application/x-www-form-urlencoded` body decoded as the WHATWG URL standard does
 * (split on `&`, name and value at the first `=`, `+` is a space, percent-decode, UTF-8),
 * or refused where servers decode it differently: a malformed or non-UTF-8 percent
 * escape (replacement character, Latin-1 fallback or error, depending on the server),
 * a raw `;` (older servers split fields on it too), raw spaces, controls or non-ASCII
 * (which a form serializer always escapes), and a body that is also JSON (servers that
 * ignore the content type would read fields the form does not have).
 */

export const FORM_BODY_RULES = ['form-character', 'form-separator', 'form-encoding', 'form-json'] as const;
export type FormBodyRule = (typeof FORM_BODY_RULES)[number];

export type FormDecode = { ok: true; value: Record<string, string | string[]> } | { ok: false; rule: FormBodyRule; message: string };

/**
 * Percent-decodes one name or value after `+` becomes a space; undefined when an escape
 * is malformed or the bytes are not UTF-8 (decodeURIComponent refuses overlong forms,
 * lone continuation bytes and encoded surrogates alike).
 */
function decodePart(s: string): string | undefined {
  const spaced = s.includes('+') ? s.replaceAll('+', ' ') : s;
  if (!spaced.includes('%')) return spaced;
  try {
    return decodeURIComponent(spaced);
  } catch {
    return undefined;
  }
}

export function decodeForm(body: string): FormDecode {
  for (let i = 0; i < body.length; i++) {
    const c = body.charCodeAt(i);
    if (c === 0x3b) return { ok: false, rule: 'form-separator', message: 'the form holds a raw ";", which some servers read as a field separator: percent-encode it as %3B' };
    if (c <= 0x20 || c >= 0x7f) return { ok: false, rule: 'form-character', message: `the form holds a raw ${JSON.stringify(body[i])}: percent-encode it` };
  }
  if (body.startsWith('{') || body.startsWith('[')) return { ok: false, rule: 'form-json', message: 'the form body is written as JSON: servers that ignore the content type would read other fields' };
  const fields = new Map<string, string | string[]>();
  for (const pair of body.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const name = decodePart(eq < 0 ? pair : pair.slice(0, eq));
    const value = decodePart(eq < 0 ? '' : pair.slice(eq + 1));
    if (name === undefined || value === undefined) {
      return { ok: false, rule: 'form-encoding', message: 'the form holds a malformed percent escape or bytes that are not UTF-8, which servers decode differently' };
    }
    const prev = fields.get(name);
    if (prev === undefined) fields.set(name, value);
    else if (Array.isArray(prev)) prev.push(value);
    else fields.set(name, [prev, value]);
  }
  // fromEntries defines own properties: a field named __proto__ stays a field.
  return { ok: true, value: Object.fromEntries(fields) };
}
