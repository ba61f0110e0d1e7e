import type { ASTNode, Environment } from '@marcbachmann/cel-js';
import { kindVariable } from './action.js';
import type { ActionKind } from './action.js';
import type { FactObject } from './policy-fact-types.js';
import { KIND_FACT_TYPES, OPEN, factFieldsAt } from './policy-fact-types.js';

const capital = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

function registerObject(env: Environment, name: string, obj: FactObject): string {
  const fields: Record<string, string> = {};
  for (const [key, f] of Object.entries(obj.fields)) {
    if (typeof f === 'string') fields[key] = f;
    else if ('list' in f) fields[key] = `list<${registerObject(env, `${name}${capital(key)}`, f.list)}>`;
    else fields[key] = registerObject(env, `${name}${capital(key)}`, f);
  }
  env.registerType(name, { fields });
  return name;
}

/** Declares `kind` on a checking environment: its typed facts, or an open map while it has no declaration. */
export function registerKindVariable(env: Environment, kind: ActionKind): void {
  const decl = KIND_FACT_TYPES[kind];
  env.registerVariable(kindVariable(kind), decl ? registerObject(env, `${capital(kind)}Facts`, decl) : OPEN);
}

/** `http.body.x`'s chain of keys from a kind variable (`['http', 'body', 'x']`), or undefined when it starts elsewhere. */
function chainOf(node: ASTNode): string[] | undefined {
  if (node.op === 'id') return [node.args];
  if (node.op === '.') {
    const [operand, key] = node.args;
    const base = chainOf(operand);
    return base ? [...base, key] : undefined;
  }
  return undefined;
}

function findSelect(node: ASTNode, key: string, pos: number): ASTNode | undefined {
  if (node.op === '.' && (node.args)[1] === key && node.pos === pos) return node;
  const visit = (x: unknown): ASTNode | undefined => {
    if (Array.isArray(x)) {
      for (const y of x) {
        const f = visit(y);
        if (f) return f;
      }
      return undefined;
    }
    if (typeof x === 'object' && x !== null && 'op' in x && 'args' in x) return findSelect(x as ASTNode, key, pos);
    return undefined;
  };
  return node.op === 'value' || node.op === 'id' ? undefined : visit(node.args);
}

/**
 * The checker's "No such key: methd" in the words of a policy author: which fact was
 * mistyped and the fields that exist there.
 */
export function unknownFactMessage(ast: ASTNode, key: string, pos: number | undefined): string {
  const select = pos === undefined ? undefined : findSelect(ast, key, pos);
  const found = select ? chainOf((select.args as [ASTNode, string])[0]) : undefined;
  // A comprehension's variable (`s` in sql.statements.exists(s, ...)) is not a path we can name.
  const chain = found && Object.hasOwn(KIND_FACT_TYPES, found[0]!) ? found : undefined;
  const known = chain ? factFieldsAt(chain) : undefined;
  const where = chain ? `\`${chain.join('.')}\` has no field "${key}"` : `no fact field "${key}"`;
  return known ? `${where}; its fields: ${known.join(', ')}` : `${where} (see the facts of each kind in docs/policy.md)`;
}
