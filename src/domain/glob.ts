/**
 * Globs for target and requester names: `*` matches any run of characters (none
 * included), `?` exactly one; everything else is literal. Names are short
 * identifiers, so there is no path semantics and no character classes.
 */
export type NameMatcher = (name: string) => boolean;

export function isGlob(pattern: string): boolean {
  return pattern.includes('*') || pattern.includes('?');
}

export function compileGlob(pattern: string): NameMatcher {
  if (!isGlob(pattern)) return (name) => name === pattern;
  if (pattern === '*') return () => true;
  const star = pattern.indexOf('*');
  // The common shapes `prefix*` and `*suffix` avoid a regular expression.
  if (!pattern.includes('?') && star === pattern.length - 1 && star === pattern.lastIndexOf('*')) {
    const prefix = pattern.slice(0, -1);
    return (name) => name.startsWith(prefix);
  }
  if (!pattern.includes('?') && star === 0 && pattern.lastIndexOf('*') === 0) {
    const suffix = pattern.slice(1);
    return (name) => name.endsWith(suffix);
  }
  let source = '^';
  for (const ch of pattern) source += ch === '*' ? '.*' : ch === '?' ? '.' : ch.replace(/[\\^$.|+()[\]{}]/g, '\\$&');
  const re = new RegExp(`${source}$`, 's');
  return (name) => re.test(name);
}

/** One matcher for a list of globs: any may match. */
export function compileGlobs(patterns: readonly string[]): NameMatcher {
  const ms = patterns.map(compileGlob);
  if (ms.length === 1) return ms[0]!;
  return (name) => {
    for (const m of ms) if (m(name)) return true;
    return false;
  };
}
