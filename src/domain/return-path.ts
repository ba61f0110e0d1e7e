/**
 * Where to go after sign-in: a path of this console, or the inbox. Anything that could
 * leave the origin (`//host`, `/\host`, a scheme, an encoded slash trick the browser
 * would normalise) or is not under /console is replaced, so a crafted login link
 * cannot bounce a fresh session to another site.
 */
export function safeReturnPath(input: unknown, fallback = '/console/inbox'): string {
  if (typeof input !== 'string' || input.length === 0 || input.length > 1024) return fallback;
  if (!input.startsWith('/') || input.startsWith('//') || input.startsWith('/\\')) return fallback;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\\]/.test(input)) return fallback;
  let url: URL;
  try {
    url = new URL(input, 'http://console.invalid');
  } catch {
    return fallback;
  }
  if (url.origin !== 'http://console.invalid') return fallback;
  if (url.pathname !== '/console' && !url.pathname.startsWith('/console/')) return fallback;
  if (url.pathname.startsWith('/console/auth/') || url.pathname === '/console/login') return fallback;
  return `${url.pathname}${url.search}`;
}
