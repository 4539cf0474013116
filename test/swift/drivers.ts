/** Builds the swift and s3 drivers on the shared Swift all-in-one, each test on its own container or prefix. */
import { randomBytes } from 'node:crypto';
import type { DriverContext, DriverLogger, StorageDriver } from '../../src/index.js';
import { driverErrors } from '../../src/index.js';
import { createDriver as createSwiftDriver, type SwiftOptions } from '../../plugins/swift/src/index.js';
import { createDriver as createS3Driver, type S3Options } from '../../plugins/s3/src/index.js';
import type { SwiftEndpoint } from './saio.js';

export interface LoggedLine {
  readonly level: 'debug' | 'info' | 'warn' | 'error';
  readonly obj: object | string;
  readonly msg?: string;
}

/** A logger that keeps what the driver said, so tests can look for retries (and for leaked secrets). */
export function recordingLogger(lines: LoggedLine[] = []): DriverLogger & { lines: LoggedLine[] } {
  const log = (level: LoggedLine['level']) => (obj: object | string, msg?: string) => void lines.push({ level, obj, msg });
  return { lines, debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}

export function driverContext(name: string, logger: DriverLogger = recordingLogger()): DriverContext {
  return { logger, errors: driverErrors(name), baseDir: process.cwd() };
}

export const uniqueName = (label: string): string => `${label}-${randomBytes(5).toString('hex')}`;

export function swiftOptions(endpoint: SwiftEndpoint, overrides: Partial<SwiftOptions> = {}): SwiftOptions {
  return {
    authurl: endpoint.authUrl,
    username: endpoint.user,
    password: endpoint.key,
    container: uniqueName('stowage'),
    chunksize: 1 << 20,
    retrydelay: '20ms',
    ...overrides,
  };
}

/** The container each swift driver built here uses. */
const containers = new WeakMap<StorageDriver, string>();
export const containerOf = (driver: StorageDriver): string => {
  const container = containers.get(driver);
  if (container === undefined) throw new Error('not a swift driver built by test/swift/drivers.ts');
  return container;
};

export async function swiftDriver(endpoint: SwiftEndpoint, overrides: Partial<SwiftOptions> = {}, context = driverContext('swift')): Promise<StorageDriver> {
  const options = swiftOptions(endpoint, overrides);
  const driver = await createSwiftDriver(options, context);
  containers.set(driver, options.container);
  return driver;
}

export function s3Options(endpoint: SwiftEndpoint, overrides: Partial<S3Options> = {}): S3Options {
  return {
    region: endpoint.region,
    bucket: uniqueName('stowage'),
    regionendpoint: endpoint.s3Endpoint,
    forcepathstyle: true,
    accesskey: endpoint.user,
    secretkey: endpoint.key,
    createbucket: true,
    chunksize: 5 << 20,
    retrydelay: '20ms',
    ...overrides,
  };
}

export async function s3Driver(endpoint: SwiftEndpoint, overrides: Partial<S3Options> = {}, context = driverContext('s3')): Promise<StorageDriver> {
  return createS3Driver(s3Options(endpoint, overrides), context);
}

export async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}
