import { safeBlock, safeLine } from '../domain/visible-text.js';

/** Markup that is already safe: only `html` and `raw` make one. */
export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

type Value = Html | string | number | boolean | null | undefined | readonly Value[];

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

function render(v: Value): string {
  if (v instanceof Html) return v.value;
  if (Array.isArray(v)) return v.map(render).join('');
  if (v === null || v === undefined || v === false || v === true) return '';
  return escapeHtml(String(v));
}

/** A template where every interpolated value is escaped unless it is itself Html. */
export function html(strings: TemplateStringsArray, ...values: Value[]): Html {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1]!;
  return new Html(out);
}

/** Markup the caller built itself (constant strings only). */
export function raw(s: string): Html {
  return new Html(s);
}

/** Text an agent wrote, on one line: escaped, with control and bidi characters shown as \uXXXX. */
export function untrustedLine(s: string): Html {
  return html`<span class="untrusted">${safeLine(s)}</span>`;
}

/** Text an agent wrote, as a block: newlines kept, every other control and bidi character shown. */
export function untrustedBlock(s: string, label?: string): Html {
  return html`<pre class="untrusted" ${label ? raw(`aria-label="${escapeHtml(label)}"`) : ''} tabindex="0">${safeBlock(s)}</pre>`;
}
