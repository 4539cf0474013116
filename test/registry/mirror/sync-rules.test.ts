import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileSyncContent, isSemver, SyncRuleError } from '../../../src/registry/mirror/sync-rules.js';

describe('which repositories and tags a scheduled sync copies', () => {
  it('syncs plain names without the upstream catalog, and asks for the catalog only when a name is a glob', () => {
    const plain = compileSyncContent({ repositories: ['library/alpine', 'team/app'], interval: '1h' });
    expect(plain.needsCatalog).toBe(false);
    expect(plain.literalRepositories).toEqual(['library/alpine', 'team/app']);
    const globbed = compileSyncContent({ repositories: ['library/alpine', 'team/*', 'deep/**'], interval: '1h' });
    expect(globbed.needsCatalog).toBe(true);
    expect(globbed.literalRepositories).toEqual(['library/alpine']);
    expect(['team/app', 'team/app/sub', 'deep/a/b/c', 'other/x', 'library/alpine'].filter((name) => globbed.repositoryMatches(name))).toEqual([
      'team/app',
      'deep/a/b/c',
      'library/alpine',
    ]);
  });

  it('takes every tag when no filter is set', () => {
    const all = compileSyncContent({ repositories: ['a'], interval: '1h' });
    expect(['latest', 'v1', '.hidden', 'sha256-abc.sig'].every((tag) => all.tagMatches(tag))).toBe(true);
  });

  it('needs a tag to match one glob, and the regex and semver filters as well when they are set', () => {
    const rules = compileSyncContent({ repositories: ['a'], tags: ['v*', 'latest'], regex: '^v?[0-9]', semver: true, interval: '1h' });
    expect(['latest', 'v1.2.3', 'v1.2', 'v1.2.3-rc.1', '1.2.3', 'vnext'].filter((tag) => rules.tagMatches(tag))).toEqual(['v1.2.3', 'v1.2.3-rc.1']);
    const regexOnly = compileSyncContent({ repositories: ['a'], regex: '^3\\.[0-9]+$', interval: '1h' });
    expect(['3.19', '3.20', '3.19.1', 'edge'].filter((tag) => regexOnly.tagMatches(tag))).toEqual(['3.19', '3.20']);
  });

  it('refuses a regex that does not compile, naming it', () => {
    expect(() => compileSyncContent({ repositories: ['a'], regex: '([', interval: '1h' })).toThrow(SyncRuleError);
    expect(() => compileSyncContent({ repositories: ['a'], regex: '([', interval: '1h' })).toThrow(/"\(\["/);
  });

  it('recognises semantic versions as SemVer 2.0.0 defines them, with an optional leading v', () => {
    fc.assert(
      fc.property(fc.nat(999), fc.nat(999), fc.nat(999), fc.boolean(), fc.option(fc.stringMatching(/^[a-z][a-z0-9]{0,5}$/)), (major, minor, patch, v, pre) => {
        const tag = `${v ? 'v' : ''}${major}.${minor}.${patch}${pre ? `-${pre}` : ''}`;
        expect(isSemver(tag)).toBe(true);
        expect(isSemver(`${major}.${minor}`)).toBe(false);
        expect(isSemver(`${tag}.`)).toBe(false);
      }),
    );
    expect(['01.2.3', '1.2.3-', 'latest', 'V1.2.3'].filter(isSemver)).toEqual([]);
  });
});
