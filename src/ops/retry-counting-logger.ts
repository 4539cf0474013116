/**
 * The logger handed to a storage driver, counting its retries on the way: @stowage/backend-kit marks each
 * "retrying" line with `event: 'backend-retry'` (its RETRY_EVENT), so every driver built on the kit feeds
 * the retry metric without reporting anything itself.
 */
import type { DriverLogger } from '../storage/driver.js';

export const RETRY_EVENT = 'backend-retry';

type ChildLogger = DriverLogger & { child?: (bindings: object) => DriverLogger };

export function retryCountingLogger(logger: ChildLogger, onRetry: (driver: string) => void, driver?: string): ChildLogger {
  const counted: ChildLogger = {
    debug: (obj, msg) => logger.debug(obj, msg),
    info: (obj, msg) => logger.info(obj, msg),
    warn: (obj, msg) => {
      if (typeof obj === 'object' && (obj as { event?: unknown }).event === RETRY_EVENT) onRetry(driver ?? 'unknown');
      logger.warn(obj, msg);
    },
    error: (obj, msg) => logger.error(obj, msg),
  };
  if (logger.child) {
    const child = logger.child.bind(logger);
    counted.child = (bindings: object) => {
      const named = (bindings as { driver?: unknown }).driver;
      return retryCountingLogger(child(bindings), onRetry, typeof named === 'string' ? named : driver);
    };
  }
  return counted;
}
