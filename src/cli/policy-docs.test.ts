import { Command } from 'commander';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { PolicyError, compilePolicy } from '../domain/policy-compile.js';
import { runCli } from './cli-runtime.js';
import { registerPolicyCommands } from './policy-commands.js';

const ROOT = join(import.meta.dirname, '../..');
const EXAMPLE_POLICY = join(ROOT, 'examples/policy.yaml');
const dir = mkdtempSync(join(tmpdir(), 'countersign-policy-docs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The fenced blocks of a doc in a language, with the line each starts on. */
function blocks(doc: string, lang: string): Array<{ text: string; line: number }> {
  const text = readFileSync(join(ROOT, doc), 'utf8');
  const out: Array<{ text: string; line: number }> = [];
  const re = new RegExp(`^( *)\`\`\`${lang}\\n([\\s\\S]*?)^\\1\`\`\`$`, 'gm');
  for (const m of text.matchAll(re)) {
    const indent = m[1]!.length;
    out.push({ text: m[2]!.replace(new RegExp(`^ {0,${indent}}`, 'gm'), ''), line: text.slice(0, m.index).split('\n').length });
  }
  return out;
}

function problems(text: string): string[] {
  try {
    compilePolicy(text, 'doc.yaml', { groupExists: () => true });
    return [];
  } catch (e) {
    if (e instanceof PolicyError) return e.issues.map((i) => `${i.line}:${i.column}: ${i.message}`);
    throw e;
  }
}

async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
  process.exitCode = undefined;
  try {
    const program = new Command().name('countersign');
    registerPolicyCommands(program);
    await runCli(program, ['node', 'countersign', ...args]);
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
  const code = Number(process.exitCode ?? 0);
  process.exitCode = undefined;
  return { code, out, err };
}

const DOCS = ['docs/policy.md', 'docs/getting-started.md', 'docs/databases.md', 'docs/agents.md', 'README.md'];

describe('the policy examples in the docs', () => {
  const policies = DOCS.flatMap((doc) => blocks(doc, 'yaml').map((b) => ({ ...b, doc })).filter((b) => /^(rules:|default:|\s*- id:)/m.test(b.text)));

  it('are found', () => expect(policies.length).toBeGreaterThanOrEqual(6));

  it.each(policies.map((p) => [`${p.doc}:${p.line}`, p] as const))('%s loads (typed facts included)', (_where, p) => {
    // A fragment of rules is checked inside a policy of its own.
    const text = /^rules:/m.test(p.text) ? p.text : `default: { outcome: allow }\nrules:\n${p.text.replace(/^(?=.)/gm, '  ')}`;
    expect(problems(text)).toEqual([]);
  });

  it('every example in the facts tables of policy.md type-checks against its kind', () => {
    const doc = readFileSync(join(ROOT, 'docs/policy.md'), 'utf8');
    const rows = doc.split('\n').filter((l) => /^\| `(http|mcp|tool|sql)\.\w+` \|/.test(l));
    expect(rows.length).toBeGreaterThan(20);
    let checked = 0;
    for (const row of rows) {
      const kind = /^\| `(\w+)\./.exec(row)![1]!;
      const cells = row.replaceAll('\\|', '\u0000').split('|');
      const example = cells[cells.length - 2]!.replaceAll('\u0000', '|');
      for (const [, expr] of example.matchAll(/`([^`]+)`/g)) {
        const policy = `default: { outcome: allow }\nrules:\n  - id: example\n    match: { kind: ${kind} }\n    when: ${JSON.stringify(expr)}\n    outcome: review\n    review: { approvers: [group:x], timeout: 1h }\n`;
        expect(problems(policy), `${kind}: ${expr}`).toEqual([]);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(20);
  });

  it('every test case in the docs passes against examples/policy.yaml', async () => {
    const cases = DOCS.flatMap((doc) => blocks(doc, 'yaml').filter((b) => /^cases:/m.test(b.text)));
    expect(cases.length).toBeGreaterThanOrEqual(1);
    for (const [i, c] of cases.entries()) {
      const path = join(dir, `cases-${i}.yaml`);
      writeFileSync(path, c.text);
      const r = await cli('policy', 'test', EXAMPLE_POLICY, path);
      expect(r.code, `${r.out}${r.err}`).toBe(0);
    }
  });
});

describe('policy check on a typo in a fact', () => {
  it('fails, naming the rule and the fields that exist', async () => {
    const path = join(dir, 'typo.yaml');
    writeFileSync(path, 'default: { outcome: deny }\nrules:\n  - id: reads\n    match: { kind: http }\n    when: http.methd == "GET"\n    outcome: allow\n');
    const r = await cli('policy', 'check', path);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`${path}:5:16: rules[0].when: CEL: rule reads: \`http\` has no field "methd"; its fields: method, host`);
  });
});
