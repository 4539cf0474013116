import { createDriverContext, runDriverConformance } from '../../../src/testing/index.js';
import { createDriver } from '../src/index.js';

runDriverConformance({
  name: 'inmemory',
  create: () => createDriver({}, createDriverContext('inmemory')),
  // Everything lives in memory: the full profile's 5 GiB stream would not fit, 256 MiB does.
  sizes: process.env.STOWAGE_KIT_PROFILE === 'full' ? { largeStreamBytes: 256 * 1024 * 1024 } : {},
});
