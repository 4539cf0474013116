import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawRequest } from '../support/raw-http.js';
import { storageSnapshot } from '../support/storage-snapshot.js';
import { pushBlob, pushImage, startTestRegistry, type TestRegistry } from './support/registry.js';

/**
 * Every endpoint of the OCI distribution spec that takes a repository name (spec, "Endpoints" table),
 * written out here rather than read from the router, with the rest of the path a request to team-b/app
 * would use. `{name}` is where each spelling of a path trick goes.
 */
const ENDPOINTS: readonly { readonly method: string; readonly path: string; readonly body?: string }[] = [
  { method: 'GET', path: '/v2/{name}/tags/list' },
  { method: 'HEAD', path: '/v2/{name}/tags/list' },
  { method: 'GET', path: '/v2/{name}/manifests/v1' },
  { method: 'HEAD', path: '/v2/{name}/manifests/v1' },
  { method: 'GET', path: '/v2/{name}/manifests/{manifest}' },
  { method: 'PUT', path: '/v2/{name}/manifests/hijacked', body: '{manifestBody}' },
  { method: 'DELETE', path: '/v2/{name}/manifests/v1' },
  { method: 'DELETE', path: '/v2/{name}/manifests/{manifest}' },
  { method: 'GET', path: '/v2/{name}/blobs/{layer}' },
  { method: 'HEAD', path: '/v2/{name}/blobs/{layer}' },
  { method: 'DELETE', path: '/v2/{name}/blobs/{layer}' },
  { method: 'POST', path: '/v2/{name}/blobs/uploads/' },
  { method: 'POST', path: '/v2/{name}/blobs/uploads/?digest={newDigest}', body: 'new blob' },
  { method: 'POST', path: '/v2/{name}/blobs/uploads/?mount={layer}&from=team-b/app' },
  { method: 'GET', path: '/v2/{name}/blobs/uploads/{upload}' },
  { method: 'PATCH', path: '/v2/{name}/blobs/uploads/{upload}', body: 'more bytes' },
  { method: 'PUT', path: '/v2/{name}/blobs/uploads/{upload}?digest={newDigest}', body: 'new blob' },
  { method: 'DELETE', path: '/v2/{name}/blobs/uploads/{upload}' },
  { method: 'GET', path: '/v2/{name}/referrers/{manifest}' },
];

/** Spellings of a name that a resolving router would read as team-b/app (or a name under it). */
const TRICKS: readonly string[] = [
  'team-a/../team-b/app',
  'team-a/%2e%2e/team-b/app',
  'team-a/%2E%2E/team-b/app',
  'team-a/.%2e/team-b/app',
  'team-a/%2e./team-b/app',
  'team-a/%252e%252e/team-b/app',
  'team-a/%25252E%25252E/team-b/app',
  'team-b/./app',
  'team-b/%2e/app',
  'team-b/%252E/app',
  'team-a/app/../../team-b/app',
  'team-a\\..\\team-b/app',
  'team-a/app\\..\\..\\team-b/app',
  'team-a%5c..%5cteam-b/app',
  'team-a%5C..%5Cteam-b/app',
  'team-a%255c..%255cteam-b/app',
  'team-b%2fapp',
  'team-b%2Fapp',
  'team-b%252fapp',
  'team-a%2f..%2fteam-b/app',
  'team-a/app/..%2f..%2fteam-b/app',
];

describe('the path is the name: no spelling of a path reaches another repository', () => {
  let registry: TestRegistry;
  const values: Record<string, string> = {};
  const snapshot = (): Promise<Map<string, string>> => storageSnapshot(registry.driver);

  beforeAll(async () => {
    registry = await startTestRegistry({ deleteEnabled: true });
    const pushed = await pushImage(registry, 'team-b/app', 'v1', {}, 'team-b secret layer');
    values.manifest = pushed.digest;
    values.manifestBody = pushed.manifest.replace(/\{/, '{"annotations":{"x":"y"},');
    values.layer = await pushBlob(registry, 'team-b/app', 'team-b secret layer');
    values.newDigest = await import('./support/registry.js').then(({ sha256 }) => sha256('new blob'));
    const upload = await registry.send('POST', '/v2/team-b/app/blobs/uploads/');
    values.upload = (upload.headers.location ?? '').split('/').pop()?.split('?')[0] ?? '';
    // team-a exists too, so that a trick resolving inside team-a would find something
    await pushImage(registry, 'team-a/app', 'v1');
  });
  afterAll(async () => {
    await registry.close();
  });

  const fill = (template: string, name: string): string => template.replace('{name}', name).replace(/\{(\w+)\}/g, (_, key: string) => values[key] ?? '');

  it('the literal name team-b/app reaches team-b through the same endpoints (the requests below are well formed)', async () => {
    for (const endpoint of ENDPOINTS.filter((e) => e.method === 'GET')) {
      const response = await rawRequest(registry.url, { method: 'GET', target: fill(endpoint.path, 'team-b/app') });
      expect({ path: endpoint.path, status: response.status }).toMatchObject({ status: expect.toSatisfy((s: number) => s === 200 || s === 204) });
    }
  });

  for (const trick of TRICKS) {
    it(`${trick}: every endpoint answers 400 NAME_INVALID and nothing stored changes`, async () => {
      const before = await snapshot();
      for (const endpoint of ENDPOINTS) {
        const target = fill(endpoint.path, trick);
        const response = await rawRequest(registry.url, {
          method: endpoint.method,
          target,
          ...(endpoint.body ? { body: fill(endpoint.body, trick), headers: [['Content-Type', 'application/vnd.oci.image.manifest.v1+json']] } : {}),
        });
        expect({ method: endpoint.method, target, status: response.status, code: endpoint.method === 'HEAD' ? 'NAME_INVALID' : response.errorCode }).toEqual({
          method: endpoint.method,
          target,
          status: 400,
          code: 'NAME_INVALID',
        });
        expect(response.body.toString('utf8')).not.toContain('team-b secret layer');
      }
      expect(await snapshot()).toEqual(before);
    });
  }

  it('an absolute-form request target is held to the same rule', async () => {
    const response = await rawRequest(registry.url, { method: 'GET', target: `http://registry.example/v2/team-a/%2e%2e/team-b/app/manifests/v1` });
    expect(response.status).toBe(400);
    expect(response.errorCode).toBe('NAME_INVALID');
  });

  it('a dot segment or encoded slash after the name (in the reference) is refused too', async () => {
    for (const target of [
      `/v2/team-a/app/manifests/..%2f..%2fteam-b%2fapp%2fmanifests%2fv1`,
      `/v2/team-a/app/blobs/%2e%2e`,
      `/v2/team-a/app/blobs/uploads/..`,
      `/v2/_catalog/..`,
    ]) {
      const response = await rawRequest(registry.url, { method: 'GET', target });
      expect({ target, status: response.status, code: response.errorCode }).toEqual({ target, status: 400, code: 'NAME_INVALID' });
    }
  });

  it('names with a leading, trailing or doubled slash are NAME_INVALID, never a neighbour', async () => {
    for (const name of ['/team-b/app', 'team-b//app', 'team-b/app/']) {
      const response = await rawRequest(registry.url, { method: 'GET', target: `/v2/${name}/manifests/v1` });
      expect({ name, status: response.status, code: response.errorCode }).toEqual({ name, status: 400, code: 'NAME_INVALID' });
    }
  });
});
