/** Storage lifecycle: garbage collection over distribution's layout (see docs/architecture.md). */
export { collectGarbage } from './collector.js';
export type { GcOptions, GcProgress, GcPhase, GcReport, RemovedBlob, RemovedManifest } from './types.js';
