/**
 * CEL's `matches` runs on JavaScript's backtracking RegExp engine here, against input
 * the agent controls. A pattern with a quantified group that itself repeats (`(a+)+`,
 * `(\w*x?)*`) or a back-reference can take exponential time on a crafted string and
 * stall the gateway. Policies are checked once when loaded, so we refuse those shapes
 * there. This is a guard against the classic catastrophic forms, not a proof of
 * linear time: keep patterns anchored and simple.
 */
export function regexProblem(pattern: string): string | undefined {
  try {
    new RegExp(pattern);
  } catch (e) {
    return `invalid regular expression: ${e instanceof Error ? e.message : String(e)}`;
  }
  // For each open group: does its body repeat (contain an unbounded quantifier)?
  const groups: boolean[] = [];
  let repeats = false;
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === '\\') {
      const next = pattern[i + 1] ?? '';
      if (/[1-9]/.test(next) || (next === 'k' && pattern[i + 2] === '<')) return 'back-references are not allowed in policy patterns (they can take exponential time)';
      i++;
      continue;
    }
    if (ch === '[') {
      // Skip a character class; `]` right after `[` or `[^` is literal.
      i++;
      if (pattern[i] === '^') i++;
      if (pattern[i] === ']') i++;
      while (i < pattern.length && pattern[i] !== ']') i += pattern[i] === '\\' ? 2 : 1;
      continue;
    }
    if (ch === '(') {
      groups.push(repeats);
      repeats = false;
      continue;
    }
    if (ch === ')') {
      const inner: boolean = repeats;
      repeats = groups.pop() ?? false;
      const q = unboundedQuantifierAt(pattern, i + 1);
      if (q && inner) return 'nested repetition such as (a+)+ can take exponential time; rewrite the pattern without a repeated group that itself repeats';
      repeats = repeats || inner || q;
      continue;
    }
    if (unboundedQuantifierAt(pattern, i)) repeats = true;
  }
  return undefined;
}

/** `*`, `+` or `{n,}` / `{n,m}` with m > 1 at position i. */
function unboundedQuantifierAt(p: string, i: number): boolean {
  const ch = p[i];
  if (ch === '*' || ch === '+') return true;
  if (ch !== '{') return false;
  const m = /^\{(\d+)(,(\d*))?\}/.exec(p.slice(i));
  if (!m) return false;
  if (m[2] === undefined) return Number(m[1]) > 1;
  return m[3] === '' || Number(m[3]) > 1;
}
