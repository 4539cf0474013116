/** Moved to src/testing/e2e (exported by `stowage/testing`): driver authors get the same end-to-end tools. */
export * from '../../src/testing/e2e/skopeo.js';
