/**
 * The tsyringe tokens: explicit, because esbuild (vitest, tsx) emits no decorator metadata for
 * constructor parameter types.
 */
import type { InjectionToken } from 'tsyringe';
import type http from 'node:http';
import type { StowageConfig } from './config/types.js';
import type { Logger, SecretRedactor } from './logger.js';
import type { Registry } from './registry/index.js';
import type { StorageDriver } from './storage/driver.js';

export const CONFIG: InjectionToken<StowageConfig> = Symbol.for('stowage.config');
export const LOGGER: InjectionToken<Logger> = Symbol.for('stowage.logger');
export const SECRET_REDACTOR: InjectionToken<SecretRedactor> = Symbol.for('stowage.secretRedactor');
export const STORAGE_DRIVER: InjectionToken<StorageDriver> = Symbol.for('stowage.storageDriver');
export const REGISTRY: InjectionToken<Registry> = Symbol.for('stowage.registry');
export const HTTP_SERVER: InjectionToken<http.Server> = Symbol.for('stowage.httpServer');
