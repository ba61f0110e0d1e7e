import type { ASTNode } from '@marcbachmann/cel-js';

/**
 * Facts whose keys the agent chooses. A deny or review rule that fires only when one of
 * their fields is present fails open: the agent leaves the field out, or puts it where
 * the rule does not look (another spelling, a string, an encoding the target decodes).
 */
export const AGENT_CONTROLLED_FACTS = ['http.body', 'http.query', 'mcp.arguments', 'tool.input', 'tool.command', 'tool.cwd', 'action.input', 'action.context'] as const;

export interface PresenceTest {
  /** The fact tested, as written: `http.body.role`. */
  field: string;
  /** `has` or `in`. */
  test: 'has' | 'in';
  /** Offset of the test in the expression. */
  offset: number;
  /**
   * 1 when the condition holds more easily with the field present (`has(f) && ...`), -1
   * when it holds more easily with it absent (`!has(f)`), 0 when it cannot be told (a
   * comparison, a ternary's condition, a function argument).
   */
  polarity: 1 | -1 | 0;
}

/** `a.b.c` for a chain of field selections on a variable, else undefined. */
function dotted(node: ASTNode): string | undefined {
  if (node.op === 'id') return node.args;
  if (node.op === '.') {
    const base = dotted(node.args[0]);
    return base === undefined ? undefined : `${base}.${node.args[1]}`;
  }
  if (node.op === '[]' && node.args[1].op === 'value' && typeof node.args[1].args === 'string') {
    const base = dotted(node.args[0]);
    return base === undefined ? undefined : `${base}.${node.args[1].args}`;
  }
  return undefined;
}

const controlled = (path: string | undefined): boolean =>
  path !== undefined && AGENT_CONTROLLED_FACTS.some((root) => path === root || path.startsWith(`${root}.`));

/** Every `has(x.f)` and `"k" in x` over a field the agent controls, in expression order. */
export function agentPresenceTests(ast: ASTNode): PresenceTest[] {
  const out: PresenceTest[] = [];
  const stack: Array<{ node: ASTNode; polarity: 1 | -1 | 0 }> = [{ node: ast, polarity: 1 }];
  while (stack.length) {
    const { node, polarity } = stack.pop()!;
    if (node.op === 'call' && node.args[0] === 'has' && node.args[1].length === 1) {
      const field = dotted(node.args[1][0]!);
      if (controlled(field)) out.push({ field: field!, test: 'has', offset: node.start, polarity });
    } else if (node.op === 'in') {
      const [key, container] = node.args;
      const base = dotted(container);
      if (controlled(base) && key.op === 'value' && typeof key.args === 'string') out.push({ field: `${base}.${key.args}`, test: 'in', offset: node.start, polarity });
    }
    // `!` flips the polarity, `&&` `||` and a ternary's branches keep it; anywhere else it is unknown.
    const keep = node.op === '&&' || node.op === '||';
    const kids: Array<{ node: ASTNode; polarity: 1 | -1 | 0 }> = [];
    const visit = (x: unknown, p: 1 | -1 | 0): void => {
      if (Array.isArray(x)) for (const y of x) visit(y, p);
      else if (typeof x === 'object' && x !== null && 'op' in x && 'args' in x) kids.push({ node: x as ASTNode, polarity: p });
    };
    if (node.op === '!_') visit(node.args, polarity === 0 ? 0 : polarity === 1 ? -1 : 1);
    else if (node.op === '?:') {
      const [cond, a, b] = node.args;
      visit(cond, 0);
      visit(a, polarity);
      visit(b, polarity);
    } else if (node.op !== 'value' && node.op !== 'id') visit(node.args, keep ? polarity : 0);
    for (let i = kids.length - 1; i >= 0; i--) stack.push(kids[i]!);
  }
  return out.sort((a, b) => a.offset - b.offset);
}

/**
 * Whether such a test makes this rule fail open: a deny or review that needs the field
 * present, or an allow that needs it absent, is sidestepped by hiding the field.
 */
export function failsOpen(t: PresenceTest, outcome: 'allow' | 'deny' | 'review'): boolean {
  return outcome === 'allow' ? t.polarity !== 1 : t.polarity !== -1;
}

/** The warning `policy check` prints for a test that makes its rule fail open. */
export function presenceWarning(t: PresenceTest, outcome: 'allow' | 'deny' | 'review'): string {
  const written = t.test === 'has' ? `has(${t.field})` : `"${t.field.slice(t.field.lastIndexOf('.') + 1)}" in ${t.field.slice(0, t.field.lastIndexOf('.'))}`;
  const how = outcome === 'allow' ? 'it allows when the agent sends the field where the rule does not look' : 'it fails open when the agent leaves the field out or sends it where the rule does not look';
  return `this ${outcome} rule depends on ${outcome === 'allow' ? `the absence of ${written}` : written}, a field the agent controls: ${how}; see "Rules over agent-controlled fields" in docs/policy.md`;
}
