/**
 * `stowage retention [--dry-run]`: applies storage.maintenance.retention.policies now, deleting the tags and
 * untagged manifests they give up (a dry run lists them). `stowage garbage-collect` then frees the blobs.
 */
import pino from 'pino';
import { createStowageContainer } from '../container.js';
import { createLogger, SecretRedactor } from '../logger.js';
import { createStorageDriver, preparePlugin } from '../plugins/index.js';
import { REGISTRY } from '../tokens.js';
import { CliFailure } from './failure.js';
import { configFor, type ConfigFlag } from './load-config.js';

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
  const redactor = new SecretRedactor();
  const level = config.log.level === 'debug' || config.log.level === 'trace' ? config.log.level : 'warn';
  const logger = createLogger({ level, redactor, destination: pino.destination({ dest: 2, sync: true }) });
  const plugin = await preparePlugin(config);
  redactor.add(plugin.secrets);
  const driver = await createStorageDriver(plugin, logger, config.baseDir);
  const container = createStowageContainer({ config, logger, redactor, driver });
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
    await driver.close?.();
    await container.dispose();
  }
}
