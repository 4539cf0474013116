import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRegistry, type RunningRegistry } from '../../src/embed.js';
import type { StorageDriver } from '../../src/storage/driver.js';
import { rawRequest, type RawRequest } from '../support/raw-http.js';
import { storageSnapshot } from '../support/storage-snapshot.js';
import { inMemoryDriver, pushBlob, pushImage, startTestRegistry, type TestRegistry } from './support/registry.js';

/**
 * Generated requests thrown at every endpoint of a registry holding an image: methods, paths with odd
 * segments and encodings, headers, bodies, ranges, digests and query parameters. Whatever arrives, the
 * answer is never a 5xx, and a request that may not write (a read-only registry; a path that names no
 * repository) changes nothing stored.
 */

const REPOSITORY = 'prop/app';
const RUNS = Number(process.env.STOWAGE_PROPERTY_RUNS ?? 250);
const known: { tag: string; manifest: string; layer: string; upload: string } = { tag: 'v1', manifest: '', layer: '', upload: '' };

const hex64 = fc.stringMatching(/^[0-9a-f]{64}$/);
const oddText = fc.string({ unit: fc.constantFrom(...'aZ09._-:/%\\@!$&()*+,;=~\'"[]{}|^`é '.split('')), maxLength: 24 });
const encodedTrick = fc.constantFrom('..', '.', '%2e%2e', '%2E.', '.%2e', '%252e%252e', '%2f', '%2F', '%5c', '\\', '%00', '%zz', '%', '%c0%ae', '//', '');

const digest = fc.oneof(
  fc.constant('{manifest}'),
  fc.constant('{layer}'),
  hex64.map((h) => `sha256:${h}`),
  hex64.map((h) => `sha512:${h}`),
  hex64.map((h) => `sha256%3A${h}`),
  fc.constantFrom('sha256:', 'sha256:xyz', 'md5:abc', 'SHA256:' + 'A'.repeat(64), ':', 'sha256:' + 'a'.repeat(63)),
  oddText,
);
const reference = fc.oneof(digest, fc.constant('{tag}'), fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9._-]{0,20}$/), oddText);

/** the distribution spec's repository name grammar */
const SPEC_NAME = /^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*$/;
const validName = fc.constantFrom(REPOSITORY, 'prop/other', 'prop', 'a/b/c/d');
/** names a resolving router, a decoding one or a lenient one could read as something else */
const trickyName = fc.oneof(
  fc.tuple(fc.constantFrom('prop', 'team-a', 'x'), encodedTrick, fc.constantFrom('app', 'prop/app', '')).map(([a, t, b]) => `${a}/${t}/${b}`),
  fc.tuple(fc.constantFrom('prop', 'PROP', 'pr op', 'prop%2fapp', 'prop\\app'), encodedTrick).map(([a, t]) => `${a}${t}`),
  fc.constantFrom('', '/', 'Prop/App', '-prop/app', 'prop/app-', 'prop__/app', 'a'.repeat(300), 'prop/app/'),
  oddText,
).filter((name) => !SPEC_NAME.test(name));

const endpoint = (name: fc.Arbitrary<string>) =>
  fc.oneof(
    fc.tuple(name, reference).map(([n, r]) => `/v2/${n}/manifests/${r}`),
    fc.tuple(name, digest).map(([n, d]) => `/v2/${n}/blobs/${d}`),
    name.map((n) => `/v2/${n}/blobs/uploads/`),
    fc.tuple(name, fc.oneof(fc.constant('{upload}'), fc.uuid(), oddText)).map(([n, u]) => `/v2/${n}/blobs/uploads/${u}`),
    name.map((n) => `/v2/${n}/tags/list`),
    fc.tuple(name, digest).map(([n, d]) => `/v2/${n}/referrers/${d}`),
    fc.constantFrom('/v2/', '/v2', '/v2/_catalog', '/', '/v2/../v2/', '/v1/', '*'),
  );

const query = fc
  .array(
    fc.tuple(
      fc.constantFrom('n', 'last', 'digest', 'mount', 'from', 'tag', 'artifactType', 'digest-algorithm', '_state', 'x'),
      fc.oneof(digest, fc.integer({ min: -5, max: 100_000 }).map(String), oddText, fc.constant(REPOSITORY)),
    ),
    { maxLength: 4 },
  )
  .map((pairs) => (pairs.length === 0 ? '' : `?${pairs.map(([k, v]) => `${k}=${v}`).join('&')}`));

const headerValue = fc.string({ unit: fc.constantFrom(...'abcXYZ0129 -=,;:/*"'.split('')), maxLength: 40 });
const headers = fc.array(
  fc.oneof(
    fc.tuple(fc.constant('Range'), fc.oneof(fc.tuple(fc.nat(100), fc.integer({ min: -1, max: 100 })).map(([a, b]) => `bytes=${a}-${b < 0 ? '' : b}`), headerValue)),
    fc.tuple(fc.constant('Content-Range'), fc.oneof(fc.tuple(fc.nat(100), fc.nat(100)).map(([a, b]) => `${a}-${b}`), headerValue)),
    fc.tuple(fc.constant('Content-Type'), fc.constantFrom('application/vnd.oci.image.manifest.v1+json', 'application/vnd.oci.image.index.v1+json', 'application/octet-stream', 'text/plain', '')),
    fc.tuple(fc.constantFrom('Accept', 'If-None-Match', 'Authorization', 'X-Forwarded-Host', 'Docker-Upload-UUID'), headerValue),
  ),
  { maxLength: 3 },
);
const body = fc.oneof(
  fc.constant(undefined),
  fc.uint8Array({ maxLength: 64 }),
  fc.constantFrom('{}', '{"schemaVersion":2}', '\uFEFF{"schemaVersion":2}', `${'['.repeat(2000)}${']'.repeat(2000)}`, 'null', '[]'),
);
const method = fc.constantFrom('GET', 'HEAD', 'PUT', 'PATCH', 'POST', 'DELETE', 'OPTIONS', 'TRACE', 'PROPFIND', 'BREW');

const request = (name: fc.Arbitrary<string>): fc.Arbitrary<RawRequest> =>
  fc.record({ method, path: endpoint(name), query, headers, body }).map((r) => ({
    method: r.method,
    target: `${r.path}${r.query}`.replace(/\{(tag|manifest|layer|upload)\}/g, (_, key: keyof typeof known) => known[key]),
    headers: r.headers,
    ...(r.body === undefined ? {} : { body: r.body }),
  }));

async function seed(registry: { url: string }): Promise<void> {
  const sender = { url: registry.url } as TestRegistry;
  const send: TestRegistry['send'] = async (m, path, options = {}) => {
    const response = await rawRequest(registry.url, {
      method: m,
      target: path,
      headers: Object.entries(options.headers ?? {}),
      ...(options.body === undefined ? {} : { body: options.body }),
    });
    return { status: response.status, headers: response.headers, body: response.body, json: <T,>() => JSON.parse(response.body.toString()) as T };
  };
  Object.assign(sender, { send });
  known.manifest = (await pushImage(sender, REPOSITORY, known.tag)).digest;
  known.layer = await pushBlob(sender, REPOSITORY, 'a layer of prop/app');
  const upload = await rawRequest(registry.url, { method: 'POST', target: `/v2/${REPOSITORY}/blobs/uploads/` });
  known.upload = upload.headers.location?.split('/').pop()?.split('?')[0] ?? '';
}

async function check(registry: { url: string }, driver: StorageDriver, generated: RawRequest): Promise<void> {
  const before = await storageSnapshot(driver);
  const response = await rawRequest(registry.url, generated);
  expect(response.status, `${generated.method} ${generated.target}`).toBeGreaterThanOrEqual(200);
  expect(response.status, `${generated.method} ${generated.target}: ${response.body.toString().slice(0, 200)}`).toBeLessThan(500);
  expect(await storageSnapshot(driver), `${generated.method} ${generated.target} changed storage`).toEqual(before);
}

describe('generated hostile requests', () => {
  describe('on a read-only registry', () => {
    let registry: RunningRegistry;
    const driver = inMemoryDriver();
    beforeAll(async () => {
      // written while writable, then served read-only by a second server on the same store
      const writer = await startTestRegistry({ driver });
      await seed(writer);
      await writer.close();
      registry = await startRegistry({ driver, deleteEnabled: true, readOnly: true });
    });
    afterAll(async () => {
      await registry.close();
      await driver.close?.();
    });

    it('any request at any endpoint: never a 5xx, nothing stored changes', async () => {
      await fc.assert(
        fc.asyncProperty(request(fc.oneof(validName, trickyName)), (generated) => check(registry, driver, generated)),
        { numRuns: RUNS },
      );
    });
  });

  describe('on a writable registry with deletes enabled', () => {
    let registry: TestRegistry;
    beforeAll(async () => {
      registry = await startTestRegistry({ deleteEnabled: true });
      await seed(registry);
    });
    afterAll(async () => {
      await registry.close();
    });

    it('a request whose path names no valid repository: never a 5xx, nothing stored changes', async () => {
      await fc.assert(
        fc.asyncProperty(request(trickyName), (generated) => check(registry, registry.driver, generated)),
        { numRuns: RUNS },
      );
    });
  });
});
