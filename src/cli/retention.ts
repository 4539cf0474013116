/**
 * `stowage retention [--dry-run]`: applies storage.maintenance.retention.policies now, deleting the tags and
 * untagged manifests they give up (a dry run lists them). `stowage garbage-collect` then frees the blobs.
 */
import { REGISTRY } from '../tokens.js';
import { CliFailure } from './failure.js';
import { configFor, type ConfigFlag } from './load-config.js';
import { openOfflineStowage } from './offline-stowage.js';

export interface RetentionFlags extends ConfigFlag {
  readonly dryRun?: boolean;
  readonly json?: boolean;
}

export async function retentionCommand(flags: RetentionFlags): Promise<void> {
  const config = await configFor(flags);
  const policies = config.storage.maintenance.retention.policies;
  if (policies.length === 0) {
    throw new CliFailure(`no retention policies: storage.maintenance.retention.policies is empty in ${config.source.file ?? 'the defaults'}`);
  }
  const { container, close } = await openOfflineStowage(config);
  try {
    const report = await container.resolve(REGISTRY).applyRetention(policies, flags.dryRun ?? false);
    if (flags.json) {
      process.stdout.write(`${JSON.stringify(report)}\n`);
      return;
    }
    const verb = report.dryRun ? 'would be deleted' : 'deleted';
    const lines = [
      ...report.tagsDeleted.map((t) => `tag ${verb}: ${t.repository}:${t.tag} (${t.digest})`),
      ...report.manifestsDeleted.map((m) => `manifest ${verb}: ${m.repository}@${m.digest}`),
      `${report.dryRun ? 'dry run: nothing was deleted; ' : ''}${report.tagsDeleted.length} tags and ${report.manifestsDeleted.length} untagged manifests ${verb}`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await close();
  }
}
