/**
 * The composition root: the one place that wires stowage together, config -> logger -> storage driver ->
 * registry -> HTTP server, each behind an explicit token (src/tokens.ts). `stowage serve` (src/cli/serve.ts),
 * `startRegistry` (src/embed.ts) and the test helpers all build their servers here, so every server runs the
 * driver inside src/storage/base.ts. The entry point imports 'reflect-metadata' before this module.
 */
import type http from 'node:http';
import { container as rootContainer, instanceCachingFactory, type DependencyContainer } from 'tsyringe';
import type { StowageConfig } from './config/types.js';
import { createAuthGate } from './auth/index.js';
import type { HttpHook } from './http/exchange.js';
import { createHttpServer } from './http/server.js';
import type { Logger, SecretRedactor } from './logger.js';
import { parseBytes } from './registry/gc/quota.js';
import { createRegistryCaches, type CacheKind, type RegistryCaches } from './registry/cache/index.js';
import { hashesOnThread } from './registry/hash-thread-choice.js';
import { Registry } from './registry/index.js';
import { openSearchIndex, type SearchIndexUse } from './registry/search/open.js';
import { wrapDriver } from './storage/base.js';
import type { StorageDriver } from './storage/driver.js';
import { CONFIG, HTTP_SERVER, LOGGER, REGISTRY, SECRET_REDACTOR, STORAGE_DRIVER } from './tokens.js';

export interface StowageParts {
  readonly config: StowageConfig;
  readonly logger: Logger;
  readonly redactor: SecretRedactor;
  /** the loaded plugin's driver; wrapped by src/storage/base.ts here unless it already is */
  readonly driver: StorageDriver;
  /** where distribution's tree starts inside the driver's namespace (embedding only; default `/`) */
  readonly rootDirectory?: string;
  /** the operational hooks (src/ops) the HTTP server calls around each request */
  readonly hooks?: readonly HttpHook[];
  /** told of each lookup in the registry's caches (metrics) */
  readonly cacheLookups?: (kind: CacheKind, hit: boolean) => void;
  /** how the search index is used (a maintenance command leaves a missing SQLite file missing) */
  readonly searchIndexUse?: SearchIndexUse;
  /** pull-through mirroring's clock (tests of tag ttls) and spool folder; defaults: the system's */
  readonly mirrorRuntime?: { readonly now?: () => number; readonly spoolDir?: string };
}

/** A child of tsyringe's root container holding one stowage instance (tests build several side by side). */
export function createStowageContainer(parts: StowageParts): DependencyContainer {
  const c = rootContainer.createChildContainer();
  c.registerInstance(CONFIG, parts.config);
  c.registerInstance(LOGGER, parts.logger);
  c.registerInstance(SECRET_REDACTOR, parts.redactor);
  c.registerInstance(STORAGE_DRIVER, wrapDriver(parts.driver));
  registerRegistryAndHttp(c, parts.rootDirectory, parts.hooks ?? [], parts.cacheLookups, parts.searchIndexUse ?? {}, parts.mirrorRuntime);
  return c;
}

/** storage.cache's caches; the registry closes them (Registry.closeCaches) */
function cachesFor(config: StowageConfig, logger: Logger, counted: ((kind: CacheKind, hit: boolean) => void) | undefined): { caches?: RegistryCaches } {
  return config.caches ? { caches: createRegistryCaches(config.caches, logger, counted) } : {};
}

// ---------------------------------------------------------------------------------------------------------
// Registry service and HTTP server construction. This is the only code that knows how the registry
// service (src/registry) and the HTTP server (src/http) are built: change it here when their parameters
// change. Register the registry service under REGISTRY (src/tokens.ts) and the server under HTTP_SERVER.
function registerRegistryAndHttp(
  c: DependencyContainer,
  rootDirectory: string | undefined,
  hooks: readonly HttpHook[],
  cacheLookups: ((kind: CacheKind, hit: boolean) => void) | undefined,
  searchIndexUse: SearchIndexUse,
  mirrorRuntime: StowageParts['mirrorRuntime'],
): void {
  c.register<Registry>(REGISTRY, {
    useFactory: instanceCachingFactory<Registry>((d) => {
      const { storage, mirror } = d.resolve(CONFIG);
      return new Registry({
        driver: d.resolve(STORAGE_DRIVER),
        deleteEnabled: storage.delete.enabled,
        redirect: !storage.redirect.disable,
        readOnly: storage.maintenance.readonly.enabled,
        logger: d.resolve(LOGGER),
        recordPulls: storage.maintenance.retention.policies.some((policy) => policy.keeppulledwithin !== undefined),
        quotas: storage.quotas.map((quota) => ({ namespace: quota.namespace, limitBytes: parseBytes(quota.limit) })),
        ...cachesFor(d.resolve(CONFIG), d.resolve(LOGGER), cacheLookups),
        searchIndex: openSearchIndex(d.resolve(CONFIG).search, d.resolve(LOGGER), searchIndexUse),
        ...(mirror ? { mirror: { config: mirror, ...mirrorRuntime } } : {}),
        ...(rootDirectory !== undefined ? { rootDirectory } : {}),
        hashThread: hashesOnThread(d.resolve(CONFIG).http.hashthread, d.resolve(CONFIG).http.workers),
      });
    }),
  });
  c.register<http.Server>(HTTP_SERVER, {
    useFactory: instanceCachingFactory<http.Server>((d) =>
      createHttpServer({ registry: d.resolve(REGISTRY), logger: d.resolve(LOGGER), http: d.resolve(CONFIG).http, auth: createAuthGate(d.resolve(CONFIG).auth), hooks }),
    ),
  });
}
// ---------------------------------------------------------------------------------------------------------
