/** One tool as an upstream MCP server listed it, with the hash of its definition. */
export interface ListedTool {
  name: string;
  /** `sha256:<hex>` of the canonical JSON of the definition (see mcp-tool-hash.ts). */
  hash: string;
  definition: Record<string, unknown>;
}

/**
 * The first definition seen of each upstream tool ("pins"), kept durably so that a
 * definition that changes later (a rug pull) is caught after restarts and by every
 * process on the same store.
 */
export interface ToolPinStore {
  /** The pinned hashes of one server's tools, by tool name. */
  pins(server: string): Promise<Map<string, string>>;
  /**
   * Pins tools never seen and records definitions that differ from their pin, each
   * new definition audited once (`mcp.tool.pinned`, `mcp.tool.changed`), in one
   * transaction. Returns the names of the tools whose definition differs from its pin.
   */
  observe(server: string, tools: readonly ListedTool[], now: string): Promise<{ changed: string[] }>;
  /** Replaces a tool's pin with its latest seen definition (an operator accepted the change), audited. False if nothing changed. */
  repin(server: string, tool: string, actor: string, now: string): Promise<boolean>;
}
