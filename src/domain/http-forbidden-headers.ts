/**
 * Request headers an agent may not set on an `http` action, each with why. They are
 * refused (not silently dropped) so that what a human approves is exactly what runs.
 */
export const HEADER_RISKS = ['framing', 'hop-by-hop', 'routing', 'override'] as const;
export type HeaderRisk = (typeof HEADER_RISKS)[number];

interface ForbiddenHeader {
  /** Lower-case name, or a prefix ending in `-*`. */
  name: string;
  risk: HeaderRisk;
  why: string;
}

export const FORBIDDEN_REQUEST_HEADERS: readonly ForbiddenHeader[] = [
  // Framing is computed by the gateway from the body; a forged value truncates the body or smuggles a second request.
  { name: 'content-length', risk: 'framing', why: 'the gateway computes the body length; a forged one enables request smuggling' },
  { name: 'transfer-encoding', risk: 'framing', why: 'the gateway chooses the body framing; a forged one enables request smuggling' },
  // A coding would make the target decode the body into something policy and reviewers never saw (an ASCII-only deflate stream can carry any JSON).
  { name: 'content-encoding', risk: 'framing', why: 'the gateway sends the body as written; a content coding would have the target decode it into another body than policy read' },
  { name: 'expect', risk: 'framing', why: '100-continue changes when the body is sent; the gateway sends it whole' },
  // Hop-by-hop headers (RFC 9110 §7.6.1) govern the gateway's own connection, not the request to the target.
  { name: 'connection', risk: 'hop-by-hop', why: 'hop-by-hop: governs the gateway\'s connection and can strip other headers' },
  { name: 'keep-alive', risk: 'hop-by-hop', why: 'hop-by-hop: governs the gateway\'s connection' },
  { name: 'te', risk: 'hop-by-hop', why: 'hop-by-hop: negotiates the gateway\'s transfer codings' },
  { name: 'trailer', risk: 'hop-by-hop', why: 'hop-by-hop: announces trailer fields the gateway does not send' },
  { name: 'upgrade', risk: 'hop-by-hop', why: 'hop-by-hop: would switch the connection to another protocol (h2c, WebSocket)' },
  { name: 'proxy-*', risk: 'hop-by-hop', why: 'addressed to proxies on the way, not to the target; could steer or leak to them' },
  // Routing: they change which host, scheme or path the target believes it serves.
  { name: 'host', risk: 'routing', why: 'the host comes from the target\'s baseUrl; another one reaches another virtual host' },
  { name: 'forwarded', risk: 'routing', why: 'spoofs the client, host and scheme the target\'s proxy reports' },
  { name: 'x-forwarded-*', risk: 'routing', why: 'spoofs the client, host and scheme the target\'s proxy reports (host-header attacks)' },
  { name: 'x-real-ip', risk: 'routing', why: 'spoofs the client address the target\'s proxy reports' },
  { name: 'x-original-url', risk: 'routing', why: 'some servers route by it instead of the request path, escaping the base path' },
  { name: 'x-rewrite-url', risk: 'routing', why: 'some servers route by it instead of the request path, escaping the base path' },
  { name: 'proxy', risk: 'routing', why: 'httpoxy: CGI servers turn it into the HTTP_PROXY variable and send their own calls through it' },
  // Overrides: frameworks honour them, so the reviewed method would not be the one that runs.
  { name: 'x-http-method-override', risk: 'override', why: 'frameworks honour it: the approved method would not be the one that runs' },
  { name: 'x-http-method', risk: 'override', why: 'frameworks honour it: the approved method would not be the one that runs' },
  { name: 'x-method-override', risk: 'override', why: 'frameworks honour it: the approved method would not be the one that runs' },
];

/** The rule that forbids this header name, if any (names compare case-insensitively). */
export function forbiddenHeader(name: string): ForbiddenHeader | undefined {
  const n = name.toLowerCase();
  return FORBIDDEN_REQUEST_HEADERS.find((h) => (h.name.endsWith('-*') ? n.startsWith(h.name.slice(0, -1)) : n === h.name));
}
