/** Storage lifecycle: garbage collection over distribution's layout (see README, Garbage collection). */
export { collectGarbage } from './collector.js';
export { collectOnline, hasUnfinishedRun, type OnlineGcSettings } from './online.js';
export { GcLease, LeaseLostError, type LeaseRecord } from './lease.js';
export { systemClock, type GcClock } from './clock.js';
export { startGcScheduler, onlineSettingsOf, type GcScheduleSettings, type GcScheduler } from './scheduler.js';
export type { GcOptions, GcProgress, GcPhase, GcReport, RemovedBlob, RemovedManifest } from './types.js';
export { PullRecorder } from './pulls.js';
export { applyRetention, compilePolicies, type RetentionPolicy, type RetentionReport } from './retention.js';
