/**
 * Repository globs, as docs/config.md states them for `auth.access` and retention policies: `*` matches
 * within one path segment, `**` across segments, every other character stands for itself. The matcher
 * (picomatch underneath) is checked against that rule written as a regular expression here, over generated
 * globs and repository names.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { repositoryGlobMatcher } from '../../src/registry/repository-globs.js';

/** The documented rule: `**` is any run of characters, `*` any run without `/`, the rest literal. */
function documentedRule(glob: string): RegExp {
  const source = glob
    .split('**')
    .map((part) => part.split('*').map((literal) => literal.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('[^/]*'))
    .join('.*');
  return new RegExp(`^${source}$`);
}

const component = fc.stringMatching(/^[a-c0-9]([a-c0-9]|[._-][a-c0-9]){0,3}$/);
const repositoryName = fc.array(component, { minLength: 1, maxLength: 4 }).map((parts) => parts.join('/'));
const globToken = fc.constantFrom('a', 'b', 'c', '1', '.', '-', '_', '*', '**', '/', '?', '[a]', '{a,b}', '!', '+(a)', '\\');
const glob = fc.array(globToken, { minLength: 1, maxLength: 7 }).map((tokens) => tokens.join(''));

describe('repository globs', () => {
  it('match a repository name exactly when the documented rule does, for any glob', () => {
    fc.assert(
      fc.property(glob, fc.array(repositoryName, { minLength: 1, maxLength: 6 }), (pattern, names) => {
        const matches = repositoryGlobMatcher([pattern]);
        const rule = documentedRule(pattern);
        for (const name of names) expect(matches(name), `${JSON.stringify(pattern)} on ${name}`).toBe(rule.test(name));
      }),
      { numRuns: 3000 },
    );
  });

  it('match names the globs were made to cover', () => {
    fc.assert(
      fc.property(repositoryName, fc.nat(), (name, seed) => {
        // a glob from the name: some segments replaced by `*`, a tail by `**`
        const segments = name.split('/');
        const cut = seed % segments.length;
        const pattern = [...segments.slice(0, cut).map((segment, i) => ((seed >> i) & 1 ? '*' : segment)), '**'].join('/');
        expect(repositoryGlobMatcher([pattern])(name), pattern).toBe(cut === 0 || segments.length > cut);
      }),
    );
  });

  it('spell out the cases the documentation names', () => {
    const matches = (pattern: string, name: string): boolean => repositoryGlobMatcher([pattern])(name);
    expect(matches('team/*', 'team/app')).toBe(true);
    expect(matches('team/*', 'team/x/app')).toBe(false);
    expect(matches('team/**', 'team/x/app')).toBe(true);
    expect(matches('team/**', 'team')).toBe(false);
    expect(matches('team-**', 'team-a/app')).toBe(true);
    expect(matches('**', 'any/thing')).toBe(true);
    expect(matches('a.b', 'axb')).toBe(false);
    expect(matches('a?c', 'abc'), '`?` stands for itself').toBe(false);
    expect(repositoryGlobMatcher([])('anything')).toBe(false);
  });
});
