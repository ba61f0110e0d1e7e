import { LineCounter, parseDocument, isNode, visit } from 'yaml';
import type { Document } from 'yaml';

/** A located problem in a YAML source: file, line, column and the key path. */
export interface SourceIssue {
  file: string;
  line?: number;
  column?: number;
  path: string;
  message: string;
}

export function formatIssue(i: SourceIssue): string {
  const where = i.line !== undefined ? `${i.file}:${i.line}${i.column !== undefined ? `:${i.column}` : ''}` : i.file;
  return `${where}: ${i.path ? `${i.path}: ` : ''}${i.message}`;
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${String(p)}` : String(p);
  return out;
}

function aliasIssue(doc: Document, lineCounter: LineCounter, file: string, e: unknown): SourceIssue {
  let at: number | undefined;
  visit(doc, {
    Alias(_key, node) {
      if (at === undefined && node.range && !node.resolve(doc)) at = node.range[0];
    },
  });
  const message = at !== undefined ? 'an alias (*name) refers to an anchor (&name) not set before it' : /alias/i.test(String((e as Error)?.message)) ? 'too many aliases (more than 100)' : 'the YAML cannot be read as data';
  const pos = at !== undefined ? lineCounter.linePos(at) : undefined;
  return { file, ...(pos ? { line: pos.line, column: pos.col } : {}), path: '', message };
}

/** YAML text parsed once, able to point at the line of any key path. */
export interface YamlSource {
  file: string;
  value: unknown;
  /** YAML syntax errors (with lines); when present, `value` is unusable. */
  errors: SourceIssue[];
  locate(path: readonly PropertyKey[], message: string): SourceIssue;
}

export function parseYamlSource(text: string, file: string): YamlSource {
  const lineCounter = new LineCounter();
  const doc: Document = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const errors: SourceIssue[] = doc.errors.map((e) => {
    const pos = lineCounter.linePos(e.pos[0]);
    return { file, line: pos.line, column: pos.col, path: '', message: e.message.split('\n')[0] ?? e.message };
  });
  let value: unknown;
  if (!errors.length) {
    try {
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (e) {
      // toJS throws for an alias whose anchor is not set before it (and for an alias
      // bomb): a located issue, without echoing the alias text, which may be a value.
      errors.push(aliasIssue(doc, lineCounter, file, e));
    }
  }
  return {
    file,
    value,
    errors,
    locate(path, message) {
      // Walk up the path until a node with a position exists (a missing key points at its parent).
      for (let n = path.length; n >= 0; n--) {
        const node: unknown = n === 0 ? doc.contents : doc.getIn(path.slice(0, n) as unknown[], true);
        if (isNode(node) && node.range) {
          const pos = lineCounter.linePos(node.range[0]);
          return { file, line: pos.line, column: pos.col, path: formatPath(path), message };
        }
      }
      return { file, path: formatPath(path), message };
    },
  };
}
