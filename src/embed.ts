/**
 * stowage in a program of one's own (and in tests): a registry over a driver object, listening on loopback.
 * It is built by the composition root (src/container.ts) like `stowage serve`, from a config with the same
 * defaults a config file would get, so an embedded server is the served one minus plugin loading.
 */
import 'reflect-metadata';
import type http from 'node:http';
import { listenOn, urlOf } from './listen.js';
import { createStowageContainer } from './container.js';
import { embeddedConfig } from './config/embedded.js';
import type { AuthConfig, HttpConfig, StowageConfig } from './config/types.js';
import type { SearchConfig } from './config/search.js';
import { mirrorPasswords, type MirrorConfig } from './config/mirror.js';
import { createLogger, SecretRedactor, type Logger } from './logger.js';
import type { Registry } from './registry/index.js';
import { startCatalogIndex, type CatalogIndexSettings } from './registry/catalog-startup.js';
import type { StorageDriver } from './storage/driver.js';
import { HTTP_SERVER, REGISTRY, STORAGE_DRIVER } from './tokens.js';

export interface StartRegistryOptions {
  /** a driver object (a plugin's `createDriver` result); wrapped by src/storage/base.ts unless it already is */
  readonly driver: StorageDriver;
  readonly deleteEnabled: boolean;
  /** `host:port`; default `127.0.0.1:0` (a free port) */
  readonly addr?: string;
  /** default: a silent logger */
  readonly logger?: Logger;
  /** where distribution's tree starts inside the driver's namespace; default `/` */
  readonly rootDirectory?: string;
  /** blob GETs redirect to the driver's URLs when it offers them; default true */
  readonly redirect?: boolean;
  /** storage.maintenance.readonly.enabled; default false */
  readonly readOnly?: boolean;
  readonly http?: Partial<HttpConfig>;
  /** the `auth` section (htpasswd, token, access rules); absent: every request is admitted */
  readonly auth?: AuthConfig;
  /** where the search index lives (the `search` section, paths absolute); default: in memory */
  readonly search?: SearchConfig;
  /** the `proxy` section, normalised (src/config/mirror.ts): pull-through mirroring; `now` and `spoolDir` for tests */
  readonly mirror?: { readonly config: MirrorConfig; readonly now?: () => number; readonly spoolDir?: string };
  /** storage.quotas: byte quotas per namespace */
  readonly quotas?: readonly { readonly namespace: string; readonly limit: number | string }[];
  /**
   * storage.maintenance.catalog: how often the catalog index is reconciled with the repository tree, as
   * `stowage serve` does (default `10m`; `0` turns the reconciles off, the index is still built at start).
   * `false`: no upkeep at all, not even the build at start (no storage request before the first client's):
   * catalog pages then walk the tree until something else (`stowage catalog rebuild`, a serve on the same
   * storage) builds the index, and the pushes of this registry keep it current once it is there.
   */
  readonly catalog?: CatalogIndexSettings | false;
}

export interface RunningRegistry {
  /** `http://127.0.0.1:<port>` (`https://` with http.tls) */
  readonly url: string;
  readonly server: http.Server;
  readonly registry: Registry;
  /** the driver as the registry uses it (wrapped) */
  readonly driver: StorageDriver;
  /** stops the server; the driver stays open (its owner closes it) */
  close(): Promise<void>;
}

/** The config `startRegistry` runs with: the defaults of a config file, plus its options. */
export function startRegistryConfig(options: StartRegistryOptions): StowageConfig {
  const addr = options.addr ?? '127.0.0.1:0';
  const config = embeddedConfig({
    http: { addr },
    storage: {
      [options.driver.name]: {},
      delete: { enabled: options.deleteEnabled },
      redirect: { disable: options.redirect === false },
      maintenance: { uploadpurging: { enabled: false }, readonly: { enabled: options.readOnly ?? false }, ...(options.catalog ? { catalog: options.catalog } : {}) },
      ...(options.quotas ? { quotas: options.quotas } : {}),
    },
  });
  return {
    ...config,
    http: { ...config.http, ...options.http },
    ...(options.auth ? { auth: options.auth } : {}),
    ...(options.search ? { search: options.search } : {}),
    ...(options.mirror ? { mirror: options.mirror.config } : {}),
  };
}

/** A registry on loopback in this process, for tests and embedding. */
export async function startRegistry(options: StartRegistryOptions): Promise<RunningRegistry> {
  const config = startRegistryConfig(options);
  const logger = options.logger ?? createLogger({ level: 'silent' });
  const redactor = new SecretRedactor();
  redactor.add(mirrorPasswords(config));
  const container = createStowageContainer({
    config,
    logger,
    redactor,
    driver: options.driver,
    ...(options.mirror ? { mirrorRuntime: { ...(options.mirror.now ? { now: options.mirror.now } : {}), ...(options.mirror.spoolDir ? { spoolDir: options.mirror.spoolDir } : {}) } } : {}),
    ...(options.rootDirectory !== undefined ? { rootDirectory: options.rootDirectory } : {}),
  });
  const server = container.resolve(HTTP_SERVER);
  const addr = config.http.addr;
  const colon = addr.lastIndexOf(':');
  const host = colon > 0 ? addr.slice(0, colon).replace(/^\[(.*)\]$/, '$1') : '127.0.0.1';
  const port = Number(addr.slice(colon + 1) || 0);
  const address = await listenOn(server, port, host);
  // The catalog index as `stowage serve` keeps it (catalog-startup.ts): built at start when storage has none,
  // then reconciled every storage.maintenance.catalog.interval, so that repositories another writer added or
  // removed are listed as they are. Unlike serve, the build at start is waited for: the program that embeds
  // the registry gets it with its storage settled (it may read or copy that storage right away).
  const catalogIndex = startCatalogIndex(container.resolve(REGISTRY), logger, { builds: options.catalog !== false, settings: config.storage.maintenance.catalog });
  await catalogIndex.prepared;
  return {
    url: urlOf(address, config.http.tls !== undefined),
    server,
    registry: container.resolve(REGISTRY),
    driver: container.resolve(STORAGE_DRIVER),
    close: async () => {
      await new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      });
      await catalogIndex.stop();
      // the search index's database (the driver and any caches stay with their owner, as before)
      await container.resolve(REGISTRY).searchIndexClose();
      await container.dispose();
    },
  };
}
