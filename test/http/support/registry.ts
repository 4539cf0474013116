/** Starts stowage's HTTP API on loopback over the inmemory plugin, with an undici client for the tests. */
import { createHash } from 'node:crypto';
import { request } from 'undici';
import { startRegistry, type RunningRegistry } from '../../../src/embed.js';
import type { SearchConfig } from '../../../src/config/search.js';
import { createDriver as createInMemoryDriver } from '../../../plugins/inmemory/src/index.js';
import type { StorageDriver } from '../../../src/storage/driver.js';
import { createDriverContext } from '../../../src/testing/index.js';

export interface TestResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: Buffer;
  json<T = Record<string, unknown>>(): T;
}

export interface TestRegistry extends RunningRegistry {
  /** the inmemory plugin's driver, as its factory returned it (stowage serves it wrapped) */
  readonly driver: StorageDriver;
  send(method: string, path: string, options?: { body?: Uint8Array | string; headers?: Record<string, string> }): Promise<TestResponse>;
}

export const inMemoryDriver = (): StorageDriver => createInMemoryDriver({}, createDriverContext('inmemory')) as StorageDriver;

export async function startTestRegistry(options: { deleteEnabled?: boolean; driver?: StorageDriver; redirect?: boolean; search?: SearchConfig } = {}): Promise<TestRegistry> {
  const driver = options.driver ?? inMemoryDriver();
  const running = await startRegistry({
    driver,
    deleteEnabled: options.deleteEnabled ?? true,
    addr: '127.0.0.1:0',
    ...(options.redirect !== undefined ? { redirect: options.redirect } : {}),
    ...(options.search ? { search: options.search } : {}),
    // no catalog index upkeep (test/e2e/embedded-catalog.test.ts covers it): tests here compare storage before
    // and after a request, which a reconcile in between would change, and some hold every backend request
    catalog: false,
  });
  return {
    ...running,
    driver,
    async send(method, path, { body, headers } = {}) {
      const target = path.startsWith('http') ? path : `${running.url}${path}`;
      const response = await request(target, { method: method as 'GET', body, headers: headers ?? {} });
      const bytes = Buffer.from(await response.body.arrayBuffer());
      const flat: Record<string, string> = {};
      for (const [key, value] of Object.entries(response.headers)) flat[key] = Array.isArray(value) ? value.join(', ') : String(value);
      return {
        status: response.statusCode,
        headers: flat,
        body: bytes,
        json: <T,>() => JSON.parse(bytes.toString('utf8')) as T,
      };
    },
  };
}

export const sha256 = (content: Uint8Array | string): string => `sha256:${createHash('sha256').update(content).digest('hex')}`;
export const sha512 = (content: Uint8Array | string): string => `sha512:${createHash('sha512').update(content).digest('hex')}`;

/** What the push helpers need of a registry: a client that sends requests to it (TestRegistry, test/auth's AuthRegistry). */
export type RegistryClient = Pick<TestRegistry, 'send'>;

/** Pushes a blob monolithically (POST then PUT), every request carrying `headers` (credentials); returns its digest. */
export async function pushBlob(registry: RegistryClient, name: string, content: Uint8Array | string, headers: Record<string, string> = {}): Promise<string> {
  const digest = sha256(content);
  const started = await registry.send('POST', `/v2/${name}/blobs/uploads/`, { headers });
  if (started.status !== 202) throw new Error(`POST upload: ${started.status} ${started.body.toString()}`);
  const location = started.headers.location as string;
  const separator = location.includes('?') ? '&' : '?';
  const done = await registry.send('PUT', `${location}${separator}digest=${digest}`, {
    body: content,
    headers: { ...headers, 'content-type': 'application/octet-stream' },
  });
  if (done.status !== 201) throw new Error(`PUT upload: ${done.status} ${done.body.toString()}`);
  return digest;
}

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';

/** An OCI image manifest over freshly pushed config and layers, every request carrying `headers` (credentials). */
export async function pushImage(
  registry: RegistryClient,
  name: string,
  reference: string,
  extra: Record<string, unknown> = {},
  layerContent = `layer of ${name}:${reference}`,
  headers: Record<string, string> = {},
): Promise<{ digest: string; manifest: string; layer: string; response: TestResponse }> {
  const config = '{}';
  const configDigest = await pushBlob(registry, name, config, headers);
  const layerDigest = await pushBlob(registry, name, layerContent, headers);
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: layerDigest, size: Buffer.byteLength(layerContent) }],
    ...extra,
  });
  const response = await registry.send('PUT', `/v2/${name}/manifests/${reference}`, { body: manifest, headers: { ...headers, 'content-type': OCI_MANIFEST } });
  if (response.status !== 201) throw new Error(`PUT manifest: ${response.status} ${response.body.toString()}`);
  return { digest: sha256(manifest), manifest, layer: layerDigest, response };
}
