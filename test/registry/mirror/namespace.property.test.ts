import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isValidName } from '../../../src/registry/names.js';
import { MirrorNamespace } from '../../../src/registry/mirror/namespace.js';

interface Upstream {
  readonly name: string;
  readonly prefix: string;
  readonly remoteprefix: string;
}

const component = fc.constantFrom('a', 'b', 'mirror', 'hub', 'library', 'x-y', 'a.b', 'c__d', '0');
const path = (min: number, max: number): fc.Arbitrary<string> => fc.array(component, { minLength: min, maxLength: max }).map((parts) => parts.join('/'));
/** distinct prefixes; at most one whole-namespace upstream (prefix '') */
const upstreams: fc.Arbitrary<Upstream[]> = fc
  .uniqueArray(fc.record({ prefix: path(0, 3), remoteprefix: path(0, 2) }), { selector: (u) => u.prefix, minLength: 1, maxLength: 5 })
  .map((list) => list.map((u, i) => ({ ...u, name: `u${i}` })));

const covers = (prefix: string, name: string): boolean => prefix === '' || name === prefix || name.startsWith(`${prefix}/`);

describe('the namespace mapping between local repositories and upstream repositories', () => {
  it('routes a name to the upstream with the longest prefix covering it, and keeps a name no prefix covers local', () => {
    fc.assert(
      fc.property(upstreams, path(1, 5), (list, name) => {
        const route = new MirrorNamespace(list).routeOf(name);
        const covering = list.filter((u) => covers(u.prefix, name));
        if (covering.length === 0) {
          expect(route).toBeUndefined();
          return;
        }
        const longest = Math.max(...covering.map((u) => u.prefix.length));
        expect(route?.upstream.prefix.length).toBe(longest);
        expect(covers(route!.upstream.prefix, name)).toBe(true);
      }),
    );
  });

  it('maps prefix/X to remoteprefix/X, and back: the upstream name of a mirrored repository leads to that repository', () => {
    fc.assert(
      fc.property(upstreams, path(1, 5), (list, name) => {
        const namespace = new MirrorNamespace(list);
        const route = namespace.routeOf(name);
        if (!route || route.remoteName === undefined) return;
        const { prefix, remoteprefix } = route.upstream;
        const tail = prefix === '' ? name : name.slice(prefix.length + 1);
        expect(route.remoteName).toBe([remoteprefix, tail].filter((part) => part !== '').join('/'));
        expect(isValidName(route.remoteName)).toBe(true);
        expect(namespace.localNameOf(route.upstream, route.remoteName)).toBe(name);
      }),
    );
  });

  it('maps an upstream name back only to a local name that routes to that same upstream', () => {
    fc.assert(
      fc.property(upstreams, path(1, 5), fc.nat(), (list, remoteName, pick) => {
        const namespace = new MirrorNamespace(list);
        const upstream = list[pick % list.length]!;
        const local = namespace.localNameOf(upstream, remoteName);
        if (local === undefined) return;
        const route = namespace.routeOf(local);
        expect(route?.upstream).toBe(upstream);
        expect(route?.remoteName).toBe(remoteName);
      }),
    );
  });

  it('without a remoteprefix, the bare prefix names no upstream repository; with one, it names the remoteprefix', () => {
    const namespace = new MirrorNamespace([
      { name: 'hub', prefix: 'mirror/hub', remoteprefix: '' },
      { name: 'lib', prefix: 'mirror/lib', remoteprefix: 'library' },
    ]);
    expect(namespace.routeOf('mirror/hub')).toMatchObject({ remoteName: undefined });
    expect(namespace.routeOf('mirror/lib')).toMatchObject({ remoteName: 'library' });
    expect(namespace.routeOf('mirror/lib/nginx')).toMatchObject({ remoteName: 'library/nginx' });
    expect(namespace.routeOf('mirror/hubble')).toBeUndefined();
    expect(namespace.routeOf('mirror')).toBeUndefined();
  });
});
