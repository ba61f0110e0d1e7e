// TEMPORARY stand-in with the agreed shape, replaced by the executor branch.
import type { HttpInput } from './action.js';
export function checkHttpRequest(_baseUrl: string, _input: HttpInput): URL {
  throw new Error('not merged yet');
}
