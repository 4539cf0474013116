/**
 * stowage-driver-swift: OpenStack Swift storage for stowage, with distribution 2.8's option names
 * and the docker-registry seed's `swift_*` keys (mapped by the manifest's legacyOptions). The driver is
 * the backend kit's ObjectDriver over a SwiftStore, the same one alioss, ufile and s3 use; this module
 * authenticates, reads the cluster's `/info`, makes sure of the container and of the TempURL key.
 */
import type { DriverContext, DriverFactory, StorageDriver } from 'stowage';
import { BackendError, headerValue, ObjectDriver } from '@stowage/backend-kit';
import { resolveSwiftOptions, type ResolvedSwiftOptions, type SwiftOptions } from './options.js';
import { SwiftStore, type TempUrlSettings } from './swift-store.js';

export type { SwiftOptions } from './options.js';
export { SwiftOptionError } from './options.js';

interface ClusterInfo {
  swift?: { version?: string };
  bulk_delete?: { max_deletes_per_request?: number };
  tempurl?: { methods?: string[] };
}

/** `/info` is public and optional: a cluster without it simply gets no bulk delete. */
async function clusterInfo(store: SwiftStore, context: DriverContext): Promise<ClusterInfo> {
  try {
    const reply = await store.clusterInfo();
    if (reply.status !== 200) return {};
    return JSON.parse(reply.body.toString('utf8')) as ClusterInfo;
  } catch (err) {
    context.logger.warn({ err: (err as Error).message }, 'swift /info unavailable; bulk delete and tempurl discovery off');
    return {};
  }
}

async function ensureContainer(store: SwiftStore, options: ResolvedSwiftOptions): Promise<void> {
  const head = await store.containerCall('HEAD', {}, 404);
  if (head.status !== 404) return;
  if (!options.createContainer) throw new BackendError(`swift container ${options.container} does not exist (createcontainer is false)`, 404);
  await store.containerCall('PUT');
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
  const header = onContainer ? 'x-container-meta-temp-url-key' : 'x-account-meta-temp-url-key';
  const current = onContainer ? await store.containerCall('HEAD') : await store.accountCall('HEAD', {});
  if (headerValue(current.headers, header) !== options.secretKey) {
    if (onContainer) await store.containerCall('POST', { [header]: options.secretKey });
    else await store.accountCall('POST', { [header]: options.secretKey }, undefined, Buffer.alloc(0));
  }
  return { key: options.secretKey, methods };
}

export const createDriver: DriverFactory<SwiftOptions> = async (rawOptions, context): Promise<StorageDriver> => {
  const options = resolveSwiftOptions(rawOptions, context.baseDir);
  const store = new SwiftStore(options, context.logger);
  try {
    await store.sessions.current();
    const info = await clusterInfo(store, context);
    const maxDeletes = info.bulk_delete?.max_deletes_per_request;
    store.bulkDelete = maxDeletes && maxDeletes > 0 ? { maxPerRequest: maxDeletes } : undefined;
    await ensureContainer(store, options);
    store.tempUrlSettings = await setUpTempUrl(store, options, info);
    context.logger.info(
      { container: options.container, authVersion: options.authVersion, bulkDelete: store.bulkDelete !== undefined, tempUrl: store.tempUrlSettings !== undefined },
      'swift driver ready',
    );
    return new ObjectDriver({
      name: 'swift',
      store,
      rootDirectory: store.filesRoot,
      errors: context.errors,
      logger: context.logger,
      redirectExpiry: 20 * 60,
    });
  } catch (err) {
    await store.close();
    throw err;
  }
};

export default createDriver;
