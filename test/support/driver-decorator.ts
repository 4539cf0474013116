/** A real driver with some of its methods replaced, for tests that need a backend to behave in one particular way. */
import type { StorageDriver } from '../../src/storage/driver.js';

export function decorate(driver: StorageDriver, overrides: Partial<StorageDriver>): StorageDriver {
  return new Proxy(driver, {
    get(target, property) {
      if (Object.prototype.hasOwnProperty.call(overrides, property)) return (overrides as Record<string | symbol, unknown>)[property];
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}
