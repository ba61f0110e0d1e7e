import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { canonicalJson, sha256Hex } from '../domain/canonical-json.js';
import type { ListedTool, ToolPinStore } from '../ports/tool-pins.js';
import type { McpUpstream } from './mcp-upstreams.js';

/** What a tool definition is, for rug-pull detection: everything the model reads or the gateway relies on. */
export function toolDefinition(t: Tool): Record<string, unknown> {
  const d: Record<string, unknown> = { name: t.name, inputSchema: t.inputSchema };
  for (const k of ['title', 'description', 'outputSchema', 'annotations'] as const) if (t[k] !== undefined) d[k] = t[k];
  return d;
}

export function toolHash(t: Tool): string {
  return `sha256:${sha256Hex(canonicalJson(toolDefinition(t)))}`;
}

export interface CatalogEntry {
  tool: Tool;
  hash: string;
  /** Its definition differs from the one first seen (pinned). */
  changed: boolean;
}

/** One upstream server's tools as last listed, checked against the durable pins. */
export interface ServerCatalog {
  /** Lists the upstream again (pins new tools, audits changes) and returns the fresh listing. */
  refresh(signal?: AbortSignal): Promise<Map<string, CatalogEntry>>;
  /** The last listing, or a fresh one if there is none yet or it was invalidated. */
  current(): Promise<Map<string, CatalogEntry>>;
}

export function createServerCatalog(upstream: McpUpstream, pins: ToolPinStore, now: () => string): ServerCatalog {
  let listing: Map<string, CatalogEntry> | undefined;
  let inFlight: Promise<Map<string, CatalogEntry>> | undefined;
  /** `tool@hash` already sent to the store: a tool that stays changed is not written on every listing. */
  const reported = new Set<string>();
  upstream.onToolsChanged(() => (listing = undefined));

  async function refresh(signal?: AbortSignal): Promise<Map<string, CatalogEntry>> {
    const tools = await upstream.listTools(signal);
    const listed: ListedTool[] = tools.map((t) => ({ name: t.name, hash: toolHash(t), definition: toolDefinition(t) }));
    let pinned = await pins.pins(upstream.name);
    const unseen = listed.filter((t) => pinned.get(t.name) !== t.hash && !reported.has(`${t.name}@${t.hash}`));
    if (unseen.length) {
      await pins.observe(upstream.name, listed, now());
      for (const t of unseen) reported.add(`${t.name}@${t.hash}`);
      pinned = await pins.pins(upstream.name);
    }
    const next = new Map<string, CatalogEntry>();
    tools.forEach((tool, i) => next.set(tool.name, { tool, hash: listed[i]!.hash, changed: pinned.get(tool.name) !== listed[i]!.hash }));
    listing = next;
    return next;
  }

  return {
    refresh,
    current() {
      if (listing) return Promise.resolve(listing);
      inFlight ??= refresh().finally(() => (inFlight = undefined));
      return inFlight;
    },
  };
}
