/**
 * A Content-Type value read strictly (RFC 9110 §8.3.1): one `type/subtype`, lower-cased,
 * then `; name=value` parameters with token or quoted-string values. Anything a lenient
 * server could read another way (a list, a repeated parameter, stray characters) is a
 * problem, not a guess.
 */
export interface MediaType {
  /** `type/subtype`, lower case. */
  essence: string;
  /** Parameter names in lower case; quoted values unquoted. */
  params: ReadonlyMap<string, string>;
}

const TOKEN = "[!#$%&'*+.^_`|~0-9A-Za-z-]+";
const ESSENCE = new RegExp(`^[ \\t]*(${TOKEN})/(${TOKEN})[ \\t]*`);
const PARAM = new RegExp(`^;[ \\t]*(${TOKEN})=(?:(${TOKEN})|"((?:[\\t\\x20\\x21\\x23-\\x5b\\x5d-\\x7e]|\\\\[\\t\\x20-\\x7e])*)")[ \\t]*`);

/** The media type, or a message saying why the value cannot be read as exactly one. */
export function parseMediaType(value: string): MediaType | string {
  const head = ESSENCE.exec(value);
  if (!head) return 'it is not a type/subtype media type';
  const params = new Map<string, string>();
  let rest = value.slice(head[0].length);
  while (rest !== '') {
    // A comma makes a list of media types: which one a server takes is its own choice.
    if (rest.startsWith(',')) return 'it holds several media types';
    const p = PARAM.exec(rest);
    if (!p) return 'a parameter is malformed';
    const name = p[1]!.toLowerCase();
    if (params.has(name)) return `the parameter ${name} is given twice`;
    params.set(name, p[2] ?? p[3]!.replace(/\\(.)/g, '$1'));
    rest = rest.slice(p[0].length);
  }
  return { essence: `${head[1]}/${head[2]}`.toLowerCase(), params };
}

/** `application/json`, `text/json` and every structured `+json` type (RFC 6839). */
export function isJsonMediaType(essence: string): boolean {
  return essence.endsWith('/json') || essence.endsWith('+json');
}

export const FORM_MEDIA_TYPE = 'application/x-www-form-urlencoded';
