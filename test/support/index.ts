/** Shared test helpers: real registries (stowage, distribution 2.8), the real skopeo, OCI layouts. */
export * from './debian.js';
export * from './deterministic-bytes.js';
export * from './distribution.js';
export * from './oci-layout.js';
export * from './ports.js';
export * from './registry-client.js';
export * from './registry-under-test.js';
export * from './server-process.js';
export * from './skopeo.js';
export * from './skopeo-e2e.js';
export * from './stowage.js';
export * from './tar.js';
export * from './memory.js';
export * from './memory-e2e.js';
export * from './resumable-e2e.js';
