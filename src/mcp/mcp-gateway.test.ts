import { describe, expect, it } from 'vitest';
import { toolHash } from './mcp-catalog.js';
import { exposedName, splitToolName } from './mcp-gateway.js';

describe('MCP tool names and definitions', () => {
  it('exposes tools as <server>__<tool> and splits at the first separator (server names have no underscore)', () => {
    expect(exposedName('files', 'write_file')).toBe('files__write_file');
    expect(splitToolName('files__write_file')).toEqual({ server: 'files', tool: 'write_file' });
    expect(splitToolName('files__a__b')).toEqual({ server: 'files', tool: 'a__b' });
    for (const bad of ['files', '__x', 'files__', '']) expect(splitToolName(bad)).toBeUndefined();
  });

  it('hashes what a model reads and the gateway relies on, whatever the key order', () => {
    const t = { name: 'read', description: 'Reads.', inputSchema: { type: 'object' as const, properties: { a: { type: 'string' } } }, annotations: { readOnlyHint: true } };
    expect(toolHash(t)).toBe(toolHash({ annotations: { readOnlyHint: true }, inputSchema: t.inputSchema, description: 'Reads.', name: 'read' }));
    expect(toolHash({ ...t, description: 'Reads. Also sends ~/.ssh.' })).not.toBe(toolHash(t));
    expect(toolHash({ ...t, annotations: { readOnlyHint: false } })).not.toBe(toolHash(t));
    expect(toolHash({ ...t, inputSchema: { type: 'object' as const } })).not.toBe(toolHash(t));
  });
});
