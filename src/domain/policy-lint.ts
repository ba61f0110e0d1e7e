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
  const stack: ASTNode[] = [ast];
  while (stack.length) {
    const node = stack.pop()!;
    if (node.op === 'call' && node.args[0] === 'has' && node.args[1].length === 1) {
      const field = dotted(node.args[1][0]!);
      if (controlled(field)) out.push({ field: field!, test: 'has', offset: node.start });
    } else if (node.op === 'in') {
      const [key, container] = node.args;
      const base = dotted(container);
      if (controlled(base) && key.op === 'value' && typeof key.args === 'string') out.push({ field: `${base}.${key.args}`, test: 'in', offset: node.start });
    }
    const kids: ASTNode[] = [];
    const visit = (x: unknown): void => {
      if (Array.isArray(x)) for (const y of x) visit(y);
      else if (typeof x === 'object' && x !== null && 'op' in x && 'args' in x) kids.push(x as ASTNode);
    };
    if (node.op !== 'value' && node.op !== 'id') visit(node.args);
    for (let i = kids.length - 1; i >= 0; i--) stack.push(kids[i]!);
  }
  return out.sort((a, b) => a.offset - b.offset);
}

/** The warning `policy check` prints for such a test in a deny or review rule. */
export function presenceWarning(t: PresenceTest, outcome: 'deny' | 'review'): string {
  const written = t.test === 'has' ? `has(${t.field})` : `"${t.field.slice(t.field.lastIndexOf('.') + 1)}" in ${t.field.slice(0, t.field.lastIndexOf('.'))}`;
  return `this ${outcome} rule depends on ${written}, a field the agent controls: it fails open when the agent leaves the field out or sends it where the rule does not look; see "Rules over agent-controlled fields" in docs/policy.md`;
}
