import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseChallenges } from '../../../src/registry/mirror/challenge.js';

describe('WWW-Authenticate challenges from an upstream', () => {
  it("reads Docker Hub's Bearer challenge", () => {
    expect(parseChallenges('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull"')).toEqual([
      { scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/nginx:pull' } },
    ]);
  });

  it("reads distribution's Basic challenge, and several challenges in one header", () => {
    expect(parseChallenges('Basic realm="Registry Realm"')).toEqual([{ scheme: 'basic', params: { realm: 'Registry Realm' } }]);
    expect(parseChallenges('Basic realm="a, b", Bearer realm="https://t/x", service=reg')).toEqual([
      { scheme: 'basic', params: { realm: 'a, b' } },
      { scheme: 'bearer', params: { realm: 'https://t/x', service: 'reg' } },
    ]);
  });

  it('unescapes quoted-pairs, lowercases scheme and parameter names, and keeps a token68 whole', () => {
    expect(parseChallenges('BEARER Realm="a\\"b\\\\c"')).toEqual([{ scheme: 'bearer', params: { realm: 'a"b\\c' } }]);
    expect(parseChallenges('Negotiate abc==, Basic realm=x')).toEqual([
      { scheme: 'negotiate', params: { '': 'abc==' } },
      { scheme: 'basic', params: { realm: 'x' } },
    ]);
  });

  it('reads back any challenge list written by the grammar, whatever the values hold', () => {
    const name = fc.stringMatching(/^[a-z][a-z0-9_-]{0,8}$/);
    const value = fc.string({ maxLength: 20 }).filter((v) => !/[\r\n]/.test(v));
    const challenge = fc.record({
      scheme: fc.constantFrom('basic', 'bearer', 'digest'),
      params: fc.uniqueArray(fc.tuple(name, value), { selector: ([key]) => key, minLength: 1, maxLength: 4 }),
    });
    fc.assert(
      fc.property(fc.array(challenge, { minLength: 1, maxLength: 3 }), (challenges) => {
        const header = challenges
          .map((c) => `${c.scheme} ${c.params.map(([key, v]) => `${key}="${v.replace(/(["\\])/g, '\\$1')}"`).join(', ')}`)
          .join(', ');
        expect(parseChallenges(header)).toEqual(challenges.map((c) => ({ scheme: c.scheme, params: Object.fromEntries(c.params) })));
      }),
    );
  });

  it('never throws on hostile text', () => {
    fc.assert(fc.property(fc.string({ maxLength: 200 }), (text) => void parseChallenges(text)));
  });
});
