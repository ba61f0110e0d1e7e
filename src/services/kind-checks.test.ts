import { describe, expect, it } from 'vitest';
import { isAppError } from '../domain/errors.js';
import type { TargetInfo } from '../domain/target-catalog.js';
import { createKindChecks } from './kind-checks.js';

const kindChecks = createKindChecks();

const target = (kind: 'mcp' | 'tool'): TargetInfo => ({ name: 't', kind, facts: { name: 't', kind, labels: {} } });
const check = (kind: 'mcp' | 'tool', input: Record<string, unknown>) => () => kindChecks[kind]({ kind, target: 't', input }, target(kind));
const code = (fn: () => void) => {
  try {
    fn();
    return 'ok';
  } catch (e) {
    return isAppError(e) ? `${e.code}: ${e.message}` : String(e);
  }
};

describe('mcp and tool inputs are strict', () => {
  it('accepts {tool, arguments} for mcp and {tool, input} for tool', () => {
    expect(code(check('mcp', { tool: 'write_file', arguments: { path: '/x' } }))).toBe('ok');
    expect(code(check('mcp', { tool: 'list' }))).toBe('ok');
    expect(code(check('tool', { tool: 'Bash', input: { command: 'ls' } }))).toBe('ok');
  });

  it('refuses unknown keys, so nothing rides along outside what policy and reviewers see', () => {
    expect(code(check('mcp', { tool: 'x', arguments: {}, input: {} }))).toBe('VALIDATION_FAILED: input.input: unknown key (an mcp input has only the keys tool, arguments)');
    expect(code(check('tool', { tool: 'x', arguments: {} }))).toMatch(/^VALIDATION_FAILED: input.arguments: unknown key/);
    expect(code(check('mcp', { tool: 'x', cwd: '/srv' }))).toMatch(/^VALIDATION_FAILED: input.cwd: unknown key/);
  });

  it('takes the working directory of a tool, as a plain string', () => {
    expect(code(check('tool', { tool: 'Bash', input: { command: 'ls' }, cwd: '/Users/dev/my project' }))).toBe('ok');
    expect(code(check('tool', { tool: 'Bash', input: {}, cwd: 'C:\\work' }))).toBe('ok');
    expect(code(check('tool', { tool: 'Bash', input: {}, cwd: 'D:/repos/app' }))).toBe('ok');
    for (const cwd of ['', 'relative/dir', '/srv/../etc', '/srv/./app', 'C:\\srv\\..\\x', '/a\nb', '/a\u0000', '/a\u0085', '/a\u202eb', '/a\u2028', '/' + 'x'.repeat(1024), 7, ['/']]) {
      expect(code(check('tool', { tool: 'Bash', cwd })), JSON.stringify(cwd)).toMatch(/^VALIDATION_FAILED: input.cwd/);
    }
  });

  it('refuses missing, empty, non-printable or overlong tool names and non-object payloads', () => {
    for (const tool of [undefined, '', 'a b', 'x'.repeat(257), 'tab\t', 5]) expect(code(check('mcp', { tool }))).toMatch(/^VALIDATION_FAILED: input.tool/);
    expect(code(check('mcp', { tool: 'x', arguments: [1] }))).toBe('VALIDATION_FAILED: input.arguments: must be an object');
    expect(code(check('tool', { tool: 'x', input: 'ls' }))).toBe('VALIDATION_FAILED: input.input: must be an object');
  });
});
