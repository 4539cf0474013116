/**
 * The driver conformance kit: distribution's driver test suite (all 36 tests) and docker-registry-core's
 * cases, registered with vitest by one call. Every test starts from an empty store and must leave it
 * empty: what it created is deleted afterwards and `list('/')` must then be empty.
 */
import { afterAll, afterEach, beforeAll, describe } from 'vitest';
import { wrapDriver } from '../storage/base.js';
import type { StorageDriver, StorageDriverV1 } from '../storage/driver.js';
import { adaptV1Driver } from '../storage/v1-adapter.js';
import { KitHarness } from './harness.js';
import { type ConformanceProfile, type ConformanceSizes, profiles, resolveProfile } from './profiles.js';
import { concurrencyTests } from './suites/concurrency.js';
import { contentStampTests } from './suites/content-stamp.js';
import { volatileTests } from './suites/volatile.js';
import { ifPresentTests } from './suites/if-present.js';
import { contentTests } from './suites/content.js';
import { redirectTests } from './suites/redirect.js';
import { streamTests } from './suites/streams.js';
import { treeTests } from './suites/tree.js';
import { twoWriterTests } from './suites/two-writers.js';
import { uploadTests } from './suites/uploads.js';

export interface DriverConformanceOptions {
  /** shown in the describe block: the driver and what it runs against */
  readonly name: string;
  /**
   * builds the driver once for the whole suite; the kit wraps it as stowage does at run time (a version-1
   * driver, without `uploadSize`, through the same adapter stowage loads it with)
   */
  readonly create: () => StorageDriver | StorageDriverV1 | Promise<StorageDriver | StorageDriverV1>;
  /**
   * builds a second instance on the same backend, as a second process would (the same options): the
   * two-instance tests drive one upload from both. Without it they use the one driver from `create`.
   */
  readonly createPeer?: () => StorageDriver | StorageDriverV1 | Promise<StorageDriver | StorageDriverV1>;
  /** `quick` (default) for CI, `full` for distribution's sizes; `ci` means quick; STOWAGE_KIT_PROFILE overrides it */
  readonly profile?: ConformanceProfile | 'ci';
  /** overrides single sizes of the chosen profile */
  readonly sizes?: Partial<ConformanceSizes>;
  /** ids of tests to skip (the id in brackets at the end of each test name), each for a stated reason */
  readonly skip?: readonly string[];
}

export function runDriverConformance(options: DriverConformanceOptions): void {
  const profile = resolveProfile(options.profile);
  const sizes: ConformanceSizes = { ...profiles[profile], ...options.sizes };
  const kit = new KitHarness(sizes, new Set(options.skip ?? []));

  describe(`${options.name} passes the stowage driver conformance kit (${profile})`, () => {
    beforeAll(async () => {
      kit.driver = wrapDriver(adaptV1Driver(await options.create()));
      if (options.createPeer) kit.peer = wrapDriver(adaptV1Driver(await options.createPeer()));
    });
    afterEach(async () => {
      await kit.cleanUp();
    });
    afterAll(async () => {
      const driver = kit.driverIfCreated;
      const peer = kit.peerIfCreated;
      kit.driver = undefined;
      kit.peer = undefined;
      await peer?.close?.();
      await driver?.close?.();
    });

    contentTests(kit);
    streamTests(kit);
    treeTests(kit);
    concurrencyTests(kit);
    uploadTests(kit);
    twoWriterTests(kit);
    redirectTests(kit);
    contentStampTests(kit);
    volatileTests(kit);
    ifPresentTests(kit);

    const unknown = kit.unknownSkips();
    if (unknown.length > 0) throw new Error(`stowage/testing: skip names no test: ${unknown.join(', ')}`);
  });
}
