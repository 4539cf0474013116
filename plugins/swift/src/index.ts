/**
 * stowage-driver-swift: OpenStack Swift storage for stowage, with distribution 2.8's option names
 * and the docker-registry seed's `swift_*` keys (mapped by the manifest's legacyOptions).
 */
import type { DriverContext, DriverFactory, StorageDriver } from 'stowage';
import { BackendError, headerValue } from '@stowage/backend-kit';
import { SwiftClient } from './client.js';
import { SwiftDriver, type TempUrlSettings } from './driver.js';
import { resolveSwiftOptions, type ResolvedSwiftOptions, type SwiftOptions } from './options.js';
import { SwiftStore, type BulkDeleteSupport } from './store.js';

export type { SwiftOptions } from './options.js';
export { SwiftOptionError } from './options.js';

interface ClusterInfo {
  swift?: { version?: string };
  bulk_delete?: { max_deletes_per_request?: number };
  tempurl?: { methods?: string[] };
}

/** `/info` is public and optional: a cluster without it simply gets no bulk delete. */
async function clusterInfo(client: SwiftClient, context: DriverContext): Promise<ClusterInfo> {
  try {
    const session = await client.currentSession();
    const origin = new URL(session.storageUrl).origin;
    const response = await client.dispatcher.request({ origin, path: '/info', method: 'GET', headersTimeout: client.options.timeoutMs, bodyTimeout: client.options.timeoutMs });
    const body = await response.body.text();
    if (response.statusCode !== 200) return {};
    return JSON.parse(body) as ClusterInfo;
  } catch (err) {
    context.logger.warn({ err: (err as Error).message }, 'swift /info unavailable; bulk delete and tempurl discovery off');
    return {};
  }
}

async function ensureContainer(store: SwiftStore, options: ResolvedSwiftOptions): Promise<void> {
  const head = await store.client.request({ method: 'HEAD', path: store.containerPath, accept: [404] }, `check container ${options.container}`);
  if (head.status !== 404) return;
  if (!options.createContainer) throw new BackendError(`swift container ${options.container} does not exist (createcontainer is false)`, 404);
  await store.client.request({ method: 'PUT', path: store.containerPath, body: '' }, `create container ${options.container}`);
}

const versionAtLeast = (version: string | undefined, wanted: number[]): boolean => {
  const parts = (version ?? '0').split('.').map((p) => Number.parseInt(p, 10) || 0);
  for (let i = 0; i < wanted.length; i++) {
    if ((parts[i] ?? 0) !== wanted[i]) return (parts[i] ?? 0) > wanted[i]!;
  }
  return true;
};

/** Makes sure the TempURL key Swift checks is ours: on the container (Swift >= 2.3) or the account. */
async function setUpTempUrl(store: SwiftStore, options: ResolvedSwiftOptions, info: ClusterInfo): Promise<TempUrlSettings | undefined> {
  if (!options.secretKey) return undefined;
  const methods = options.tempUrlMethods ?? info.tempurl?.methods ?? ['GET', 'HEAD'];
  const onContainer = options.tempUrlContainerKey ?? (info.swift?.version ? versionAtLeast(info.swift.version, [2, 3, 0]) : true);
  const path = onContainer ? store.containerPath : '';
  const header = onContainer ? 'x-container-meta-temp-url-key' : 'x-account-meta-temp-url-key';
  const current = await store.client.request({ method: 'HEAD', path }, 'read the tempurl key');
  if (headerValue(current.headers, header) !== options.secretKey) {
    await store.client.request({ method: 'POST', path, headers: { [header]: options.secretKey }, body: '' }, 'set the tempurl key');
  }
  return { key: options.secretKey, methods };
}

export const createDriver: DriverFactory<SwiftOptions> = async (rawOptions, context): Promise<StorageDriver> => {
  const options = resolveSwiftOptions(rawOptions, context.baseDir);
  const client = new SwiftClient(options, context.logger);
  try {
    await client.currentSession();
    const info = await clusterInfo(client, context);
    const maxDeletes = info.bulk_delete?.max_deletes_per_request;
    const bulk: BulkDeleteSupport | undefined = maxDeletes && maxDeletes > 0 ? { maxPerRequest: maxDeletes } : undefined;
    const store = new SwiftStore(client, options.container, context.logger, options.listPageSize, bulk);
    await ensureContainer(store, options);
    const tempUrlSettings = await setUpTempUrl(store, options, info);
    context.logger.info(
      { container: options.container, authVersion: options.authVersion, bulkDelete: bulk !== undefined, tempUrl: tempUrlSettings !== undefined },
      'swift driver ready',
    );
    return new SwiftDriver(client, store, options, context, tempUrlSettings);
  } catch (err) {
    await client.close();
    throw err;
  }
};

export default createDriver;
