/** The stowage-driver-elliptics plugin entry: validated options in, a connected driver out. */
import type { DriverFactory } from 'stowage';
import { EllipticsDriver } from './driver.js';
import { clientLogger } from './log.js';
import { type EllipticsOptions, resolveOptions } from './options.js';
import { EllipticsClient } from './protocol/client.js';

export type { EllipticsOptions } from './options.js';
export { EllipticsOptionError } from './options.js';

export const createDriver: DriverFactory<EllipticsOptions> = async (options, context) => {
  const resolved = resolveOptions(options, context.baseDir);
  const log = clientLogger(context.logger, resolved.logLevel, resolved.logFile);
  const client = new EllipticsClient({
    nodes: resolved.nodes,
    groups: resolved.groups,
    waitTimeoutMs: resolved.waitTimeoutMs,
    checkTimeoutMs: resolved.checkTimeoutMs,
    logger: log.logger,
  });
  try {
    await client.connect();
  } catch (err) {
    await client.close();
    log.close();
    throw err;
  }
  return new EllipticsDriver({
    client,
    namespace: resolved.namespace,
    chunkSize: resolved.chunkSize,
    errors: context.errors,
    logger: context.logger,
    onClose: log.close,
  });
};

export default createDriver;
