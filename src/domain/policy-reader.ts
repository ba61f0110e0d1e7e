import { isDuration, parseDuration } from './duration.js';
import type { SourceIssue, YamlSource } from './yaml-source.js';

export type KeyPath = Array<string | number>;

export function isMapping(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Reads typed values out of a parsed YAML document, collecting every problem with
 * its line instead of stopping at the first: authors fix a policy in one pass.
 */
export class SpecReader {
  readonly issues: SourceIssue[] = [];
  constructor(readonly src: YamlSource) {}

  fail(path: KeyPath, message: string): undefined {
    const issue = this.src.locate(path, message);
    // An empty document has no node to point at: its problem is at its start.
    this.issues.push(issue.line === undefined ? { ...issue, line: 1, column: 1 } : issue);
    return undefined;
  }

  /** A mapping whose keys are all in `allowed`; unknown keys are reported, the rest still read. */
  mapping(v: unknown, path: KeyPath, allowed: readonly string[], what: string): Record<string, unknown> | undefined {
    if (!isMapping(v)) return this.fail(path, `${what} must be a mapping (${allowed.join(', ')})`);
    for (const k of Object.keys(v)) {
      if (!allowed.includes(k)) this.fail([...path, k], `unknown key "${k}"; expected one of: ${allowed.join(', ')}`);
    }
    return v;
  }

  string(v: unknown, path: KeyPath, what: string): string | undefined {
    if (typeof v !== 'string' || v.trim() === '') return this.fail(path, `${what} must be a non-empty string`);
    return v;
  }

  /** A string or a non-empty list of strings, each checked by `valid` (which returns a problem or undefined). */
  stringOrList(v: unknown, path: KeyPath, what: string, valid: (s: string) => string | undefined): string[] | undefined {
    const items = typeof v === 'string' ? [v] : Array.isArray(v) ? (v as unknown[]) : undefined;
    if (!items) return this.fail(path, `${what} must be a string or a list of strings`);
    if (items.length === 0) return this.fail(path, `${what} must not be empty`);
    return this.stringItems(items, typeof v === 'string' ? undefined : path, path, what, valid);
  }

  /** A non-empty list of strings (a single string is refused: the key says "list"). */
  list(v: unknown, path: KeyPath, what: string, valid: (s: string) => string | undefined): string[] | undefined {
    if (!Array.isArray(v)) return this.fail(path, `${what} must be a list`);
    if (v.length === 0) return this.fail(path, `${what} must not be empty`);
    return this.stringItems(v as unknown[], path, path, what, valid);
  }

  private stringItems(items: unknown[], listPath: KeyPath | undefined, path: KeyPath, what: string, valid: (s: string) => string | undefined): string[] | undefined {
    const out: string[] = [];
    let ok = true;
    items.forEach((item, i) => {
      const at = listPath ? [...listPath, i] : path;
      if (typeof item !== 'string') {
        ok = false;
        this.fail(at, `${what} entries must be strings`);
        return;
      }
      const problem = valid(item);
      if (problem) {
        ok = false;
        this.fail(at, problem);
        return;
      }
      out.push(item);
    });
    return ok ? out : undefined;
  }

  duration(v: unknown, path: KeyPath, what: string): number | undefined {
    if (typeof v !== 'string' || !isDuration(v)) {
      return this.fail(path, `${what} must be a duration such as 45s, 15m or 2h (got ${JSON.stringify(v)})`);
    }
    return parseDuration(v);
  }

  /** The line a key path starts at, for "first defined at line N" messages. */
  lineOf(path: KeyPath): number | undefined {
    return this.src.locate(path, '').line;
  }
}
