/** The shared Swift all-in-one behind a fresh fault proxy, for one test file: leased before, released after. */
import { afterAll, afterEach, beforeAll } from 'vitest';
import { startFaultProxy, type FaultProxy } from './fault-proxy.js';
import { acquireSwift, type SwiftEndpoint } from './saio.js';

export interface SwiftBehindProxy {
  /** set once the file's beforeAll has run */
  readonly endpoint: SwiftEndpoint;
  readonly proxy: FaultProxy;
}

/** Registers the hooks; the proxy's rules are cleared after every test so faults never leak between tests. */
export function useSwiftBehindFaultProxy(): SwiftBehindProxy {
  const state = {} as { endpoint: SwiftEndpoint; proxy: FaultProxy; release?: () => Promise<void> };
  beforeAll(async () => {
    const lease = await acquireSwift();
    state.endpoint = lease.endpoint;
    state.release = lease.release;
    state.proxy = await startFaultProxy({ host: '127.0.0.1', port: lease.endpoint.proxyPort });
  });
  afterAll(async () => {
    await state.proxy?.close();
    await state.release?.();
  });
  afterEach(() => state.proxy?.clear());
  return state;
}
