import { describe, expect, it } from 'vitest';
import { compileGlob, compileGlobs, isGlob } from './glob.js';

describe('name globs', () => {
  it('an exact name matches only itself', () => {
    const m = compileGlob('github');
    expect(m('github')).toBe(true);
    expect(m('github2')).toBe(false);
    expect(m('Github')).toBe(false);
    expect(isGlob('github')).toBe(false);
  });

  it('* matches any run of characters, including none, at any position', () => {
    expect(compileGlob('git*')('git')).toBe(true);
    expect(compileGlob('git*')('gitlab')).toBe(true);
    expect(compileGlob('git*')('agit')).toBe(false);
    expect(compileGlob('*-prod')('db-prod')).toBe(true);
    expect(compileGlob('*-prod')('db-prod2')).toBe(false);
    expect(compileGlob('a*b*c')('a-x-b-y-c')).toBe(true);
    expect(compileGlob('a*b*c')('a-x-c')).toBe(false);
    expect(compileGlob('*')('')).toBe(true);
  });

  it('? matches exactly one character', () => {
    const m = compileGlob('bot-?');
    expect(m('bot-1')).toBe(true);
    expect(m('bot-')).toBe(false);
    expect(m('bot-12')).toBe(false);
  });

  it('regex characters in a pattern are literal', () => {
    const m = compileGlob('a.b*');
    expect(m('a.bc')).toBe(true);
    expect(m('axbc')).toBe(false);
  });

  it('a list matches when any of its globs does', () => {
    const m = compileGlobs(['github', 'gitlab-*']);
    expect(m('github')).toBe(true);
    expect(m('gitlab-eu')).toBe(true);
    expect(m('bitbucket')).toBe(false);
  });
});
