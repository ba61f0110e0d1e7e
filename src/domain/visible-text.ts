/**
 * Agents write paths, justifications and bodies that reviewers read, in a terminal or
 * in chat. Control characters (ESC sequences can move the cursor and rewrite the "will
 * run" line above a prompt), C1 controls, line and paragraph separators, and
 * bidirectional overrides (which reorder what is shown) are made visible as \uXXXX
 * instead of being interpreted.
 */
// eslint-disable-next-line no-control-regex
const UNSAFE_MULTILINE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
// eslint-disable-next-line no-control-regex
const UNSAFE_LINE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** True when text holds a character that safeLine would make visible. */
export function hasUnsafeLineChars(text: string): boolean {
  UNSAFE_LINE.lastIndex = 0;
  return UNSAFE_LINE.test(text);
}

const escape = (c: string) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

/** For text printed on one line. */
export function safeLine(text: string): string {
  return text.replace(UNSAFE_LINE, escape);
}

/** For text printed as a block: newlines stay, every other control is made visible. */
export function safeBlock(text: string): string {
  return text.replace(UNSAFE_MULTILINE, escape);
}
