/**
 * Whether a URL parses and uses http or https. zod 4 runs a refinement even after
 * `.url()` has failed, so the check must not throw on a string that is not a URL
 * (an uncaught "Invalid URL" would replace the config error with a bare exception).
 */
export function isHttpUrl(u: string): boolean {
  try {
    return /^https?:$/.test(new URL(u).protocol);
  } catch {
    return false;
  }
}
