import { describe, expect, it } from 'vitest';
import type { AppError } from '../domain/errors.js';
import { createHumanDirectory } from './chat-review.js';

const codeOf = (fn: () => unknown) => {
  try {
    fn();
    return 'OK';
  } catch (e) {
    return (e as AppError).code;
  }
};

describe('the chat directory', () => {
  it('refuses a chat account that maps to two humans, and one that maps to none', () => {
    const dir = createHumanDirectory([
      { id: 'a@x.com', groups: ['release'], slackUserId: 'U1' },
      { id: 'b@x.com', groups: ['oncall'], slackUserId: 'U1' },
    ] as never);
    expect(codeOf(() => dir.resolve({ slackUserId: 'U1' }))).toBe('CHAT_USER_AMBIGUOUS');
    expect(codeOf(() => dir.resolve({ slackUserId: 'U9' }))).toBe('CHAT_USER_UNKNOWN');
  });
});
