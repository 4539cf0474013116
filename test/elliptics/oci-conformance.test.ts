/** The OCI distribution-spec conformance suite (v1.1.1 port) against stowage on the Elliptics driver. */
import { describeConformance } from '../conformance/describe-conformance.js';
import { startStowageWithDriver } from '../support/stowage.js';
import { startEmulatedDriver } from './context.js';

describeConformance('stowage on the elliptics driver (3 emulated nodes, groups 1-3)', async () => {
  const { driver } = await startEmulatedDriver();
  const registry = await startStowageWithDriver(driver);
  return {
    ...registry,
    async close() {
      await registry.close();
      await driver.close?.();
    },
  };
});
