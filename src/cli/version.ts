/**
 * `stowage --version`: the package version and the git commit it was built from, as recorded by
 * scripts/build-info.mjs in dist/build-info.json at build and pack time.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { STOWAGE_ROOT } from '../plugins/index.js';

export interface BuildInfo {
  readonly version: string;
  readonly commit: string | null;
  readonly dirty: boolean;
}

const readJson = (file: string): unknown => JSON.parse(readFileSync(file, 'utf8'));

export function buildInfo(root: string = STOWAGE_ROOT): BuildInfo {
  const { version } = readJson(path.join(root, 'package.json')) as { version?: string };
  let recorded: Partial<BuildInfo> = {};
  try {
    recorded = readJson(path.join(root, 'dist', 'build-info.json')) as Partial<BuildInfo>;
  } catch {
    // built by plain `tsc` rather than `npm run build`: no commit was recorded
  }
  return { version: version ?? '0.0.0', commit: recorded.commit ?? null, dirty: recorded.dirty === true };
}

/** `0.1.0 (commit 0123abc…)`, `0.1.0 (commit 0123abc…, with uncommitted changes)` or `0.1.0 (commit unknown)` */
export function versionLine(info: BuildInfo = buildInfo()): string {
  if (info.commit === null) return `${info.version} (commit unknown: built without scripts/build-info.mjs)`;
  return `${info.version} (commit ${info.commit}${info.dirty ? ', with uncommitted changes' : ''})`;
}
